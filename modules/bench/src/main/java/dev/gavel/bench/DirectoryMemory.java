package dev.gavel.bench;

import dev.gavel.core.AuctionId;
import dev.gavel.server.viewers.ViewerDirectory;

import java.util.ArrayList;
import java.util.List;

/**
 * What listing viewers for who-is-watching costs in memory per viewer: the objects that {@link ViewerDirectory} (the
 * node's own class) holds for N viewers over 100 auctions, counted in a class histogram of the live heap (the JVM's
 * {@code GC.class_histogram}, as {@code jmap -histo:live}): its entries and the skip lists' nodes and index nodes, plus
 * the one reference each attached viewer keeps to its entry. In-process, like {@link TokenVerification}: run with the
 * node's jar on the class path,
 * {@code java -cp modules/bench/target/gavel-bench.jar:modules/server/target/gavel.jar dev.gavel.bench.DirectoryMemory 100000}.
 * The strings a viewer has anyway (its {@code viewerId}, a country code) are not counted.
 */
public final class DirectoryMemory {

    private DirectoryMemory() {
    }

    public static void main(String[] args) {
        int viewers = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        List<String> ids = new ArrayList<>(viewers);
        for (int i = 0; i < viewers; i++) {
            ids.add(String.format("%032x", i));
        }
        AuctionId[] auctions = new AuctionId[100];
        for (int i = 0; i < auctions.length; i++) {
            auctions[i] = AuctionId.of("a" + i);
        }
        String[] countries = {"IN", "GB", "BR", "US", null};
        ViewerDirectory directory = new ViewerDirectory("node-0");
        List<ViewerDirectory.Card> held = new ArrayList<>(viewers);
        for (int i = 0; i < viewers; i++) {
            held.add(directory.add(auctions[i % auctions.length], 1_765_000_000_000L + i, ids.get(i), null, null,
                    countries[i % countries.length], "socket.io"));
        }
        long bytes = 0;
        for (String line : histogram().split("\n")) {
            String[] columns = line.trim().split("\\s+");
            if (columns.length >= 4 && (columns[3].equals("dev.gavel.server.viewers.ViewerDirectory$Card")
                    || columns[3].startsWith("java.util.concurrent.ConcurrentSkipListMap$"))) {
                System.out.println("  " + line.trim());
                bytes += Long.parseLong(columns[2]);
            }
        }
        // with compressed references (heaps under 32 GB), each attached viewer's reference to its entry is 4 bytes
        // the directory is used after the histogram: a compiled loop would otherwise let it die before
        System.out.printf("%d viewers in %d auctions: %.1f bytes per viewer (%d entries listed, %d in the first auction)%n",
                viewers, auctions.length, bytes / (double) viewers + 4, held.size(), directory.part(auctions[0], null, 1).connections());
    }

    /** The live heap's class histogram (after a full GC), as {@code jcmd <pid> GC.class_histogram} prints it. */
    private static String histogram() {
        try {
            return (String) java.lang.management.ManagementFactory.getPlatformMBeanServer().invoke(
                    new javax.management.ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                    new Object[]{null}, new String[]{String[].class.getName()});
        } catch (javax.management.JMException e) {
            throw new IllegalStateException(e);
        }
    }
}
