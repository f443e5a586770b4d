package dev.gavel.core.audience;

import dev.gavel.core.Timers;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.TreeMap;

/** A clock that stands still and timers that fire only when a test moves it. Single-threaded. */
final class ManualTimers extends Clock implements Timers {

    private record Key(long at, long id) implements Comparable<Key> {
        @Override
        public int compareTo(Key other) {
            return at != other.at ? Long.compare(at, other.at) : Long.compare(id, other.id);
        }
    }

    private final TreeMap<Key, Runnable> due = new TreeMap<>();
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private long nextId;

    @Override
    public long schedule(long delayMillis, Runnable task) {
        long id = nextId++;
        due.put(new Key(millis() + Math.max(1, delayMillis), id), task);
        return id;
    }

    @Override
    public void cancel(long id) {
        due.keySet().removeIf(key -> key.id == id);
    }

    /** Moves the clock, firing every timer that falls due on the way, in order. */
    void advance(Duration duration) {
        long end = millis() + duration.toMillis();
        while (!due.isEmpty() && due.firstKey().at <= end) {
            Map.Entry<Key, Runnable> next = due.pollFirstEntry();
            now = Instant.ofEpochMilli(next.getKey().at);
            next.getValue().run();
        }
        now = Instant.ofEpochMilli(end);
    }

    @Override
    public Instant instant() {
        return now;
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
