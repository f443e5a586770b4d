package dev.gavel.core.testing;

import dev.gavel.core.Timers;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one manual time of every module's tests: a clock that stands still, and timers that fire only when a test moves
 * it, in order, on the test's thread. Safe to read from other threads (a backend under test may read the clock on its
 * own); timers run outside the lock, so a task may schedule or cancel others. Shipped to the other modules' tests in
 * gavel-core's test jar.
 */
public final class ManualTime extends Clock implements Timers {

    private record Key(long at, long id) implements Comparable<Key> {
        @Override
        public int compareTo(Key other) {
            return at != other.at ? Long.compare(at, other.at) : Long.compare(id, other.id);
        }
    }

    private final TreeMap<Key, Runnable> due = new TreeMap<>();
    private long nowMillis;
    private long nextId;

    public ManualTime() {
        this(Instant.parse("2026-01-01T00:00:00Z"));
    }

    public ManualTime(Instant start) {
        this.nowMillis = start.toEpochMilli();
    }

    @Override
    public synchronized long schedule(long delayMillis, Runnable task) {
        long id = nextId++;
        due.put(new Key(nowMillis + Math.max(1, delayMillis), id), task);
        return id;
    }

    @Override
    public synchronized void cancel(long id) {
        due.keySet().removeIf(key -> key.id == id);
    }

    /** Moves the clock, firing every timer that falls due on the way, in order. */
    public void advance(Duration duration) {
        long end;
        synchronized (this) {
            end = nowMillis + duration.toMillis();
        }
        while (true) {
            Runnable task;
            synchronized (this) {
                if (due.isEmpty() || due.firstKey().at > end) {
                    nowMillis = end;
                    return;
                }
                Map.Entry<Key, Runnable> next = due.pollFirstEntry();
                nowMillis = next.getKey().at;
                task = next.getValue();
            }
            task.run();
        }
    }

    public void advance(long millis) {
        advance(Duration.ofMillis(millis));
    }

    /** Timers set and not fired yet. */
    public synchronized int pending() {
        return due.size();
    }

    /** Monotonic nanoseconds on the same time line, for code that measures with a {@code LongSupplier} of nanos. */
    public synchronized long nanoTime() {
        return nowMillis * 1_000_000;
    }

    @Override
    public synchronized long millis() {
        return nowMillis;
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis());
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }
}
