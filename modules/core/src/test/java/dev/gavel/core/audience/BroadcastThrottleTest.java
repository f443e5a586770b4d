package dev.gavel.core.audience;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class BroadcastThrottleTest {

    @Test
    void theFirstBroadcastGoesAtOnce() {
        assertEquals(0, new BroadcastThrottle(200).delayBeforeNext(1_000, 10));
    }

    @Test
    void theNextWaitsForTheRestOfTheInterval() {
        BroadcastThrottle throttle = new BroadcastThrottle(200);
        throttle.sent(1_000);
        assertEquals(200, throttle.delayBeforeNext(1_000, 10));
        assertEquals(150, throttle.delayBeforeNext(1_050, 10));
        assertEquals(1, throttle.delayBeforeNext(1_199, 10));
        assertEquals(0, throttle.delayBeforeNext(1_200, 10));
        assertEquals(0, throttle.delayBeforeNext(5_000, 10));
    }

    @Test
    void eachSendStartsANewInterval() {
        BroadcastThrottle throttle = new BroadcastThrottle(200);
        throttle.sent(1_000);
        throttle.sent(1_300);
        assertEquals(100, throttle.delayBeforeNext(1_400, 10));
    }

    @Test
    void aZeroIntervalNeverWaits() {
        BroadcastThrottle throttle = new BroadcastThrottle(0);
        throttle.sent(1_000);
        assertEquals(0, throttle.delayBeforeNext(1_000, 1));
    }

    @Test
    void aBigAudienceHereIsShownItsCountLessOften() {
        BroadcastThrottle throttle = new BroadcastThrottle(200);
        throttle.sent(1_000);
        assertEquals(200, throttle.delayBeforeNext(1_000, 1_000), "up to 1,000 viewers here: the base interval");
        assertEquals(500, throttle.delayBeforeNext(1_000, 2_500), "5,000 frames a second");
        assertEquals(1_000, throttle.delayBeforeNext(1_000, 5_000));
        assertEquals(1_000, throttle.delayBeforeNext(1_000, 50_000), "never more than a second apart");
        assertEquals(0, throttle.delayBeforeNext(2_000, 50_000));
    }

    @Test
    void aLongerBaseIntervalIsKept() {
        BroadcastThrottle throttle = new BroadcastThrottle(1_500);
        throttle.sent(1_000);
        assertEquals(1_500, throttle.delayBeforeNext(1_000, 50_000));
    }
}
