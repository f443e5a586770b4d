package dev.gavel.server.ops;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;

/**
 * Where a node is in its life, and whether it takes more viewers: only a started node that is not stopping, not
 * full ({@code MAX_VIEWERS}) and not overloaded does. Overloaded means an event loop has not turned for
 * {@link #OVERLOAD_LAG_NANOS} of its own time: a replica that cannot keep up refuses new viewers rather than drop the
 * ones it has. A collector pause stops every thread and is over when the loops run again, so the time the JVM spent
 * paused in collections does not count as a loop's lag (without this, every viewer that arrived during a long full
 * collection on a busy machine was refused just after it, though the loops were keeping up).
 */
public final class NodeState {

    /** How often each event loop says it is turning. */
    public static final long TICK_MILLIS = 100;
    /** An event loop this late is overloaded. */
    static final long OVERLOAD_LAG_NANOS = 2_000_000_000L;

    private final int maxViewers;
    private final IntSupplier viewers;
    /** Nanoseconds that pass only while the JVM runs: the monotonic clock less the time paused in collections. */
    private final LongSupplier loopClock;
    /** Per event loop, {@link #loopClock} when it last turned. */
    private final AtomicLongArray lastTicks;
    private volatile boolean started;
    private volatile boolean stopping;

    public NodeState(int maxViewers, int eventLoops, IntSupplier viewers) {
        this(maxViewers, eventLoops, viewers, runningClock());
    }

    NodeState(int maxViewers, int eventLoops, IntSupplier viewers, LongSupplier loopClock) {
        this.maxViewers = maxViewers;
        this.viewers = viewers;
        this.loopClock = loopClock;
        this.lastTicks = new AtomicLongArray(eventLoops);
    }

    /**
     * {@link System#nanoTime()} less the collections' pauses, as the JVM's collector beans report them (milliseconds).
     * Beans of concurrent work (ZGC's and Shenandoah's "Cycles", G1's "Concurrent GC") are left out: the application
     * runs during it.
     */
    private static LongSupplier runningClock() {
        List<GarbageCollectorMXBean> pauses = ManagementFactory.getGarbageCollectorMXBeans().stream()
                .filter(bean -> !bean.getName().contains("Cycles") && !bean.getName().contains("Concurrent"))
                .toList();
        return () -> {
            long pausedMillis = 0;
            for (GarbageCollectorMXBean bean : pauses) {
                pausedMillis += Math.max(0, bean.getCollectionTime());
            }
            return System.nanoTime() - pausedMillis * 1_000_000;
        };
    }

    public void started() {
        long now = loopClock.getAsLong();
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
        lastTicks.set(loop, loopClock.getAsLong());
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
        long now = loopClock.getAsLong();
        for (int i = 0; i < lastTicks.length(); i++) {
            if (now - lastTicks.get(i) > OVERLOAD_LAG_NANOS + TICK_MILLIS * 1_000_000) {
                return true;
            }
        }
        return false;
    }
}
