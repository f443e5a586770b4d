package dev.gavel.server.ops;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntSupplier;

/**
 * Where a node is in its life, and whether it takes more viewers: only a started node that is not stopping, not
 * full ({@code MAX_VIEWERS}) and not overloaded does. Overloaded means an event loop has not turned for
 * {@link #OVERLOAD_LAG_NANOS}: a replica that cannot keep up refuses new viewers rather than drop the ones it has.
 */
public final class NodeState {

    /** How often each event loop says it is turning. */
    public static final long TICK_MILLIS = 100;
    /** An event loop this late is overloaded. */
    static final long OVERLOAD_LAG_NANOS = 2_000_000_000L;

    private final int maxViewers;
    private final IntSupplier viewers;
    private final AtomicLongArray lastTicks;
    private volatile boolean started;
    private volatile boolean stopping;

    public NodeState(int maxViewers, int eventLoops, IntSupplier viewers) {
        this.maxViewers = maxViewers;
        this.viewers = viewers;
        this.lastTicks = new AtomicLongArray(eventLoops);
    }

    public void started() {
        long now = System.nanoTime();
        for (int i = 0; i < lastTicks.length(); i++) {
            lastTicks.compareAndSet(i, 0, now);
        }
        started = true;
    }

    public void stopping() {
        stopping = true;
    }

    /** Event loop {@code loop} turned (called from that loop every {@link #TICK_MILLIS}). */
    public void ticked(int loop) {
        lastTicks.set(loop, System.nanoTime());
    }

    boolean isServing() {
        return started && !stopping;
    }

    /** Why a replica takes no more viewers: a reason for metrics (a constant) and a message for the client. */
    public record Busy(String reason, String message) {
    }

    /** Null when a new viewer is welcome, else why not. */
    public Busy whyNoViewers() {
        if (!isServing()) {
            return new Busy("not_serving", "replica is not serving (starting or stopping)");
        }
        if (viewers.getAsInt() >= maxViewers) {
            return new Busy("full", "replica is full (" + maxViewers + " viewers)");
        }
        if (isOverloaded()) {
            return new Busy("overloaded", "replica is overloaded");
        }
        return null;
    }

    private boolean isOverloaded() {
        long now = System.nanoTime();
        for (int i = 0; i < lastTicks.length(); i++) {
            if (now - lastTicks.get(i) > OVERLOAD_LAG_NANOS + TICK_MILLIS * 1_000_000) {
                return true;
            }
        }
        return false;
    }
}
