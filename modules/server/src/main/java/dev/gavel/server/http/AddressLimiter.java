package dev.gavel.server.http;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;

/**
 * Per client address: how many connections it holds (at most {@code maxOpen}) and how fast it opens new ones (a
 * token bucket of {@code perSecond}, which may be spent at once: a burst of one second's worth). One instance
 * serves every event loop of a node.
 *
 * <p>The table holds an address only while it has connections open or its bucket is refilling (at most a second
 * after its last new connection): {@link #sweep} removes the rest, and a release that leaves an address with
 * nothing to remember removes it at once. So its size is bounded by the connections open plus the addresses
 * that connected within the last second.
 */
public final class AddressLimiter {

    private static final long SECOND_NANOS = 1_000_000_000L;

    private final String rateReason;
    private final String openReason;
    private final int maxOpen;
    private final int perSecond;
    private final LongSupplier nanoTime;
    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();

    /**
     * @param rateReason refusal reason when an address opens too fast
     * @param openReason refusal reason when an address holds {@code maxOpen} connections already
     */
    AddressLimiter(String rateReason, String openReason, int maxOpen, int perSecond, LongSupplier nanoTime) {
        this.rateReason = rateReason;
        this.openReason = openReason;
        this.maxOpen = maxOpen;
        this.perSecond = perSecond;
        this.nanoTime = nanoTime;
    }

    /** A connection an address holds, counted until {@link #release}. */
    public final class Lease {
        private final String address;
        private final AtomicBoolean released = new AtomicBoolean();

        private Lease(String address) {
            this.address = address;
        }

        /** The connection ended; idempotent. */
        public void release() {
            if (released.compareAndSet(false, true)) {
                long now = nanoTime.getAsLong();
                entries.computeIfPresent(address, (a, entry) -> {
                    entry.open--;
                    return entry.forgettable(now) ? null : entry;
                });
            }
        }
    }

    /**
     * A new connection from {@code address}: takes one from its bucket and counts it as open.
     *
     * @throws Refusal 429 when the address opens connections too fast or holds too many
     */
    public Lease acquire(String address) {
        admit(address, true);
        return new Lease(address);
    }

    /**
     * A request from {@code address} that holds nothing open (an API request): takes one from its bucket.
     *
     * @throws Refusal 429 when the address sends too fast, or holds too many connections
     */
    public void check(String address) {
        admit(address, false);
    }

    /** Counts a connection that was let through earlier and exists now, without refusing it. */
    public Lease hold(String address) {
        entries.compute(address, (a, entry) -> {
            Entry held = entry == null ? new Entry(perSecond, nanoTime.getAsLong()) : entry;
            held.open++;
            return held;
        });
        return new Lease(address);
    }

    /** Removes the addresses that hold nothing and whose bucket is full again. Call it every second or so. */
    void sweep() {
        long now = nanoTime.getAsLong();
        entries.forEach((address, entry) -> entries.computeIfPresent(address, (a, e) -> e.forgettable(now) ? null : e));
    }

    /** Addresses in the table now. */
    int addresses() {
        return entries.size();
    }

    private void admit(String address, boolean count) {
        long now = nanoTime.getAsLong();
        Refusal[] refusal = {null};
        entries.compute(address, (a, entry) -> {
            Entry admitted = entry == null ? new Entry(perSecond, now) : entry;
            admitted.refill(now);
            if (admitted.tokens < 1) {
                refusal[0] = new Refusal(429, rateReason, "too many new connections from this address (at most "
                        + perSecond + " per second)", 1);
            } else if (admitted.open >= maxOpen) {
                refusal[0] = new Refusal(429, openReason, "too many connections from this address (at most "
                        + maxOpen + ")", 0);
            } else {
                admitted.tokens--;
                if (count) {
                    admitted.open++;
                }
            }
            return admitted.forgettable(now) ? null : admitted;
        });
        if (refusal[0] != null) {
            throw refusal[0];
        }
    }

    /** Guarded by the map's lock on its key: every change goes through {@code compute}. */
    private static final class Entry {
        final int perSecond;
        double tokens;
        long refilledAt;
        int open;

        Entry(int perSecond, long now) {
            this.perSecond = perSecond;
            this.tokens = perSecond;
            this.refilledAt = now;
        }

        void refill(long now) {
            tokens = Math.min(perSecond, tokens + (double) (now - refilledAt) * perSecond / SECOND_NANOS);
            refilledAt = now;
        }

        /** Nothing open, and the bucket full by now: the entry says nothing that a new one would not. */
        boolean forgettable(long now) {
            return open <= 0 && tokens + (double) (now - refilledAt) * perSecond / SECOND_NANOS >= perSecond;
        }
    }
}
