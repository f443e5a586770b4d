package dev.gavel.server.ops;

import dev.gavel.core.BackendMetrics;
import io.vertx.micrometer.Label;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@link GavelMetrics} puts in the scrape for each call, on its own registry. */
class GavelMetricsTest {

    private static final long NOW = 1_700_000_000_000L;

    private final GavelMetrics metrics = new GavelMetrics(Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC));

    @Test
    void aFanOutCountsOneFramePerViewerAndOneLagSample() {
        metrics.eventDelivered(1000, NOW - 40);
        metrics.eventDelivered(500, NOW - 3000);
        metrics.countsSent(1000);
        metrics.broadcast();

        String scrape = metrics.scrape();
        assertTrue(scrape.contains("gavel_events_delivered_total 1500.0"), scrape);
        assertTrue(scrape.contains("gavel_count_frames_total 1000.0"), scrape);
        assertTrue(scrape.contains("gavel_count_broadcasts_total 1.0"), scrape);
        assertTrue(scrape.contains("gavel_event_lag_seconds_count 2"), scrape);
        assertTrue(scrape.contains("gavel_event_lag_seconds_bucket{le=\"0.05\"} 1"), scrape);
        assertTrue(scrape.contains("gavel_event_lag_seconds_bucket{le=\"2.5\"} 1"), scrape);
        assertTrue(scrape.contains("gavel_event_lag_seconds_bucket{le=\"5.0\"} 2"), scrape);
    }

    @Test
    void anEventWithoutAPublishTimeHasNoLagAndAClockAheadCountsAsNoLag() {
        metrics.eventDelivered(3, 0);
        metrics.eventDelivered(3, NOW + 500);

        String scrape = metrics.scrape();
        assertTrue(scrape.contains("gavel_events_delivered_total 6.0"), scrape);
        assertTrue(scrape.contains("gavel_event_lag_seconds_count 1"), scrape);
        assertTrue(scrape.contains("gavel_event_lag_seconds_bucket{le=\"0.001\"} 1"), scrape);
    }

    @Test
    void refusalsAreCountedByReasonAndANewReasonNeedsNoRegistration() {
        metrics.refused("origin");
        metrics.refused("origin");
        metrics.refused("per_address");

        String scrape = metrics.scrape();
        assertTrue(scrape.contains("gavel_refusals_total{reason=\"origin\"} 2.0"), scrape);
        assertTrue(scrape.contains("gavel_refusals_total{reason=\"per_address\"} 1.0"), scrape);
        for (String reason : GavelMetrics.REFUSAL_REASONS) {
            assertTrue(scrape.contains("gavel_refusals_total{reason=\"" + reason + "\"}"), reason);
        }
    }

    @Test
    void viewersAreCountedByTransport() {
        metrics.attached(GavelMetrics.Transport.WS);
        metrics.attached(GavelMetrics.Transport.WS);
        metrics.attached(GavelMetrics.Transport.SOCKETIO);
        metrics.detached(GavelMetrics.Transport.WS);

        String scrape = metrics.scrape();
        assertTrue(scrape.contains("gavel_transport_viewers{transport=\"ws\"} 1.0"), scrape);
        assertTrue(scrape.contains("gavel_transport_viewers{transport=\"socketio\"} 1.0"), scrape);
        assertTrue(scrape.contains("gavel_transport_viewers{transport=\"sockjs\"} 0.0"), scrape);
    }

    @Test
    void redisCommandsAreTimedAndFailuresCountedByOperation() {
        metrics.forRedis();
        metrics.command(BackendMetrics.Operation.REPORT, 2_000_000, true);
        metrics.command(BackendMetrics.Operation.REPORT, 7_000_000_000L, false);
        metrics.reconnected();

        String scrape = metrics.scrape();
        assertTrue(scrape.contains("gavel_redis_command_seconds_count{operation=\"report\"} 2"), scrape);
        assertTrue(scrape.contains("gavel_redis_command_seconds_bucket{operation=\"report\",le=\"0.0025\"} 1"), scrape);
        assertTrue(scrape.contains("gavel_redis_command_errors_total{operation=\"report\"} 1.0"), scrape);
        assertTrue(scrape.contains("gavel_redis_command_errors_total{operation=\"publish\"} 0.0"), scrape);
        assertTrue(scrape.contains("gavel_redis_reconnects_total 1.0"), scrape);
    }

    @Test
    void withoutRedisThereIsNoRedisSeries() {
        String scrape = metrics.scrape();
        assertFalse(scrape.contains("gavel_redis_"), scrape);
        assertTrue(scrape.contains("gavel_joins_total"), scrape);
    }

    @Test
    void theBuildIsNamedAndCpuAndCompilationTimesAreInSeconds() {
        String scrape = metrics.scrape();
        assertTrue(scrape.matches("(?s).*\\ngavel_build_info\\{commit=\"[^\"]+\",version=\"[^\"]+\"} 1(\\.0)?\\n.*"), scrape);
        assertTrue(scrape.contains("process_cpu_seconds_total "), scrape);
        assertTrue(scrape.contains("jvm_compilation_seconds_total "), scrape);
        assertFalse(scrape.contains("_ns_total") || scrape.contains("_ms_total"), scrape);
    }

    @Test
    void theVertxOptionsLabelNoPathAndNoAddressAndEachNodeHasItsOwnRegistry() {
        var options = metrics.vertxOptions();
        assertFalse(options.getLabels().contains(Label.HTTP_PATH));
        assertFalse(options.getLabels().contains(Label.HTTP_ROUTE));
        assertFalse(options.getLabels().contains(Label.REMOTE));
        assertFalse(options.getLabels().contains(Label.LOCAL));
        GavelMetrics other = new GavelMetrics(Clock.systemUTC());
        assertFalse(options.getRegistryName().equals(other.vertxOptions().getRegistryName()));
        metrics.joined();
        assertFalse(other.scrape().contains("gavel_joins_total 1.0"));
        assertEquals(1.0, metrics.registry().get("gavel.joins").counter().count());
    }
}
