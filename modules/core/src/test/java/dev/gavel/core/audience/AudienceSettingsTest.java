package dev.gavel.core.audience;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AudienceSettingsTest {

    @Test
    void everyNodeTtlTheConfigurationTakesGivesTimingsThatHold() {
        for (long ttl : new long[]{500, 501, 999, 1000, 2000, 10_000, 3_600_000}) {
            AudienceSettings timings = AudienceSettings.forNodeTtl(ttl, 200);
            assertTrue(timings.leaseMillis() + timings.heartbeatMillis() <= ttl, timings.toString());
        }
        AudienceSettings shipped = AudienceSettings.forNodeTtl(10_000, 200);
        assertEquals(6000, shipped.leaseMillis());
        assertEquals(2000, shipped.heartbeatMillis());
        assertEquals(50, shipped.flushMillis());
    }

    @Test
    void aTimingThatBreaksARuleIsRefusedNamingTheRule() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new AudienceSettings(10_000, 6000, 2000, 3000, 200, 1000))
                .getMessage().contains("flush"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new AudienceSettings(10_000, 4000, 2000, 50, 200, 1000))
                .getMessage().contains("must outlast two heartbeats"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> new AudienceSettings(7000, 6000, 2000, 50, 200, 1000))
                .getMessage().contains("must fit in the node TTL"));
        assertThrows(IllegalArgumentException.class, () -> new AudienceSettings(10_000, 6000, 0, 50, 200, 1000));
    }
}
