package dev.gavel.server.http;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The per-address table, with a clock the test moves. */
class AddressLimiterTest {

    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final AddressLimiter limiter = new AddressLimiter("rate", "open", 3, 5, nanos::get);

    private Refusal refusal(String address) {
        return assertThrows(Refusal.class, () -> limiter.acquire(address));
    }

    @Test
    void anAddressHoldsAtMostItsConnectionsAndOthersAreNotTouched() {
        List<AddressLimiter.Lease> leases = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            leases.add(limiter.acquire("a"));
        }
        Refusal full = refusal("a");
        assertEquals(429, full.status());
        assertEquals("open", full.reason());
        limiter.acquire("b");

        leases.get(0).release();
        leases.get(0).release();
        limiter.acquire("a");
        assertEquals("open", refusal("a").reason());
    }

    @Test
    void anAddressOpensABurstOfOneSecondsWorthThenAtItsRate() {
        AddressLimiter wide = new AddressLimiter("rate", "open", 1000, 5, nanos::get);
        for (int i = 0; i < 5; i++) {
            wide.acquire("a");
        }
        Refusal fast = assertThrows(Refusal.class, () -> wide.acquire("a"));
        assertEquals("rate", fast.reason());
        wide.acquire("b");
        nanos.addAndGet(200_000_000L);
        wide.acquire("a");
        assertThrows(Refusal.class, () -> wide.acquire("a"));
    }

    @Test
    void checkTakesFromTheRateAndRefusesAFullAddressWithoutCountingHoldCountsWithoutRefusing() {
        limiter.check("a");
        limiter.hold("a");
        limiter.hold("a");
        limiter.hold("a");
        limiter.hold("a");
        assertEquals("open", assertThrows(Refusal.class, () -> limiter.check("a")).reason());
    }

    @Test
    void theTableForgetsAnAddressOnceItHoldsNothingAndItsBucketIsFull() {
        AddressLimiter.Lease lease = limiter.acquire("a");
        for (int i = 0; i < 1000; i++) {
            limiter.acquire("x" + i).release();
        }
        assertEquals(1001, limiter.addresses());
        nanos.addAndGet(1_000_000_000L);
        limiter.sweep();
        assertEquals(1, limiter.addresses(), "only the address with a connection open");
        lease.release();
        assertEquals(0, limiter.addresses(), "released with a full bucket: forgotten at once");
    }
}
