package dev.gavel.core.audience;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class BroadcastThrottleTest {

    @Test
    void theFirstBroadcastGoesAtOnce() {
        assertEquals(0, new BroadcastThrottle(200).delayBeforeNext(1_000));
    }

    @Test
    void theNextWaitsForTheRestOfTheInterval() {
        BroadcastThrottle throttle = new BroadcastThrottle(200);
        throttle.sent(1_000);
        assertEquals(200, throttle.delayBeforeNext(1_000));
        assertEquals(150, throttle.delayBeforeNext(1_050));
        assertEquals(1, throttle.delayBeforeNext(1_199));
        assertEquals(0, throttle.delayBeforeNext(1_200));
        assertEquals(0, throttle.delayBeforeNext(5_000));
    }

    @Test
    void eachSendStartsANewInterval() {
        BroadcastThrottle throttle = new BroadcastThrottle(200);
        throttle.sent(1_000);
        throttle.sent(1_300);
        assertEquals(100, throttle.delayBeforeNext(1_400));
    }

    @Test
    void aZeroIntervalNeverWaits() {
        BroadcastThrottle throttle = new BroadcastThrottle(0);
        throttle.sent(1_000);
        assertEquals(0, throttle.delayBeforeNext(1_000));
    }
}
