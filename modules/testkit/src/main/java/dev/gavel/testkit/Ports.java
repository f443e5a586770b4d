package dev.gavel.testkit;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Free ports for the processes tests start, taken below Linux's ephemeral range (32768-60999 by default).
 *
 * <p>A port the kernel hands out for {@code bind(0)} comes from the same range as the source ports of outgoing
 * connections. A test that stops a process and starts it again on its port (a replica restarted, Redis restarted,
 * a master killed) then races every connection opened meanwhile: one may take the port as its source port, so the
 * restart cannot bind, and a client that keeps reconnecting to the dead port can end up connected to itself (TCP
 * simultaneous open), waiting forever for an answer. Ports below the range are never picked as source ports.
 * A port is handed out once per JVM, so two fixtures starting at once never get the same one.
 */
public final class Ports {

    private static final int LOW = 10_000;
    private static final int HIGH = 32_768;
    /** Redis Cluster's bus listens on the node's port + 10000. */
    private static final int BUS_OFFSET = 10_000;
    private static final Set<Integer> HANDED_OUT = ConcurrentHashMap.newKeySet();

    private Ports() {
    }

    /** A free port. */
    public static int free() {
        return freeRange(1);
    }

    /** The first of {@code size} consecutive free ports. */
    public static int freeRange(int size) {
        return find(size, HIGH - size, 0);
    }

    /** A free port whose Redis Cluster bus port (10000 higher) is free too, both below the ephemeral range. */
    public static int freeWithClusterBus() {
        return find(1, HIGH - BUS_OFFSET - 1, BUS_OFFSET);
    }

    private static int find(int size, int highestFirst, int busOffset) {
        for (int attempt = 0; attempt < 500; attempt++) {
            int first = ThreadLocalRandom.current().nextInt(LOW, highestFirst + 1);
            if (available(first, size) && (busOffset == 0 || available(first + busOffset, size)) && claim(first, size, busOffset)) {
                return first;
            }
        }
        throw new IllegalStateException("no " + size + " free consecutive ports between " + LOW + " and " + HIGH);
    }

    private static boolean available(int first, int size) {
        for (int port = first; port < first + size; port++) {
            if (HANDED_OUT.contains(port)) {
                return false;
            }
            // on every address: fails while anything listens on the port, on loopback or elsewhere
            try (ServerSocket probe = new ServerSocket(port)) {
                // bound: nothing listens there
            } catch (IOException taken) {
                return false;
            }
        }
        return true;
    }

    private static synchronized boolean claim(int first, int size, int busOffset) {
        for (int port = first; port < first + size; port++) {
            if (HANDED_OUT.contains(port) || busOffset > 0 && HANDED_OUT.contains(port + busOffset)) {
                return false;
            }
        }
        for (int port = first; port < first + size; port++) {
            HANDED_OUT.add(port);
            if (busOffset > 0) {
                HANDED_OUT.add(port + busOffset);
            }
        }
        return true;
    }
}
