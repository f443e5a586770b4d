package dev.gavel.server.ops;

import dev.gavel.core.BackendMetrics;
import dev.gavel.core.audience.Audience;
import dev.gavel.core.audience.AudienceMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MetricsDomain;
import io.vertx.micrometer.MicrometerMetricsOptions;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * One node's metrics, in its own Prometheus registry (several nodes may run in one JVM): Gavel's own meters, named
 * {@code gavel_*}, beside the JVM, process and Vert.x meters. Every meter is listed in docs/metrics.md.
 *
 * <p>Hot-path calls ({@link #countsSent}, {@link #eventDelivered}, joins and leaves) touch meters resolved once at
 * start: one atomic add per fan-out, whatever its size. No label takes an auction, a viewer, a path or an address:
 * every label has a small fixed set of values.
 */
public final class GavelMetrics implements AudienceMetrics, BackendMetrics {

    /** The transports viewers connect over; the {@code transport} label. */
    public enum Transport {
        WS, SOCKJS, SOCKETIO;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * Refusal reasons this node gives; the {@code reason} label. A reason not listed here is counted too (its series
     * appears with its first refusal); these are listed so that their series exist, at 0, from the start.
     */
    static final String[] REFUSAL_REASONS = {
            "origin", "bad_request", "not_serving", "full", "overloaded", "frame_too_big", "invalid_frame",
            "auction_not_open", "address_connections", "address_rate", "api_rate", "frame_rate", "address_sockets",
            "header_timeout", "malformed_http", "unread_answers", "invalid_token"};

    private static final Duration[] LAG_BUCKETS = millis(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000);
    private static final Duration[] REDIS_BUCKETS = millis(0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final String vertxRegistryName = "gavel-" + UUID.randomUUID();
    private final Clock clock;
    private final Counter joins;
    private final Counter leaves;
    private final Counter broadcasts;
    private final Counter countFrames;
    private final Counter eventsDelivered;
    private final Counter eventsPublished;
    private final Counter slowCloses;
    private final Counter gapsRepaired;
    private final Counter auctionReportFailures;
    private final Counter gapsLost;
    private final Timer eventLag;
    /** Registered by {@link #forRedis()}: a node on the in-memory backend has no Redis series at all. */
    private Counter redisReconnects;
    private Counter redisSubscriptionsRefused;
    private final Timer[] redisLatency = new Timer[Operation.values().length];
    private final Counter[] redisErrors = new Counter[Operation.values().length];
    private final AtomicInteger[] transportViewers = new AtomicInteger[Transport.values().length];
    private final Map<String, Counter> refusals = new ConcurrentHashMap<>();

    public GavelMetrics(Clock clock) {
        this.clock = clock;
        // Vert.x counts a connection down when its own handlers see it close; a viewer's WebSocket runs on
        // LeanWebSocket's handler instead, so these two would only ever grow. gavel_viewers counts viewers exactly.
        // Vert.x registers the other gauges once per HTTP server instance (one per event loop), Redis client or
        // connection under one id: Micrometer keeps the first, refuses the others with a WARN, and the series then
        // counts one instance or connection of several. vertx_http_server_requests_total and the response times
        // say what the servers do; the pools (vertx_pool_*, by pool name) and gavel_redis_command_* what the Redis
        // connections do.
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("vertx.http.server.active.connections")
                || id.getName().equals("vertx.http.server.active.ws.connections")
                || id.getName().equals("vertx.http.server.active.requests")
                || id.getName().equals("vertx.net.client.active.connections")
                || id.getName().equals("vertx.redis.processing.pending")));
        // Names that `promtool check metrics` rejects: Micrometer's CPU and compilation times are in ns and ms
        // (process_cpu_time_ns_total, jvm_compilation_time_ms_total), replaced below by the same in seconds;
        // system_cpu_count ends in a suffix that Prometheus keeps for histograms and summaries.
        registry.config().meterFilter(MeterFilter.deny(id -> id.getName().equals("process.cpu.time")
                || id.getName().equals("jvm.compilation.time")));
        registry.config().meterFilter(new MeterFilter() {
            @Override
            public Meter.Id map(Meter.Id id) {
                return id.getName().equals("system.cpu.count") ? id.withName("system.cpus") : id;
            }
        });
        joins = counter("gavel.joins", "Viewers that joined an auction on this replica.");
        leaves = counter("gavel.leaves", "Viewers that left an auction on this replica, for any reason.");
        broadcasts = counter("gavel.count.broadcasts",
                "Count updates this replica sent to its viewers (once per auction per coalesced broadcast).");
        countFrames = counter("gavel.count.frames", "Count update frames handed to viewers' connections.");
        eventsDelivered = counter("gavel.events.delivered",
                "Event frames handed to viewers' connections (one per viewer per event).");
        eventsPublished = counter("gavel.events.published", "Events accepted by this replica's API for publishing.");
        slowCloses = counter("gavel.slow.viewer.closes",
                "Viewers closed with 1013 because they fell too far behind on what they were sent.");
        auctionReportFailures = Counter.builder("gavel.store.auction.failures")
                .description("One auction's count write that failed while the rest of its report succeeded (a key of the wrong type at the auction's key, or its shard away): retried, the other auctions unaffected.")
                .register(registry);
        gapsRepaired = Counter.builder("gavel.event.gaps").tag("outcome", "repaired")
                .description("Gaps in an auction's events seen by this replica: repaired from the log, or lost (no longer in it).")
                .register(registry);
        gapsLost = Counter.builder("gavel.event.gaps").tag("outcome", "lost")
                .description("Gaps in an auction's events seen by this replica: repaired from the log, or lost (no longer in it).")
                .register(registry);
        eventLag = Timer.builder("gavel.event.lag")
                .description("From an event's publishing (on any replica) to its hand-over to this replica's viewers, per event loop.")
                .serviceLevelObjectives(LAG_BUCKETS)
                .register(registry);
        for (Transport transport : Transport.values()) {
            AtomicInteger viewers = new AtomicInteger();
            transportViewers[transport.ordinal()] = viewers;
            Gauge.builder("gavel.transport.viewers", viewers, AtomicInteger::get)
                    .description("Viewer connections open on this replica, by transport.")
                    .tag("transport", transport.label())
                    .register(registry);
        }
        for (String reason : REFUSAL_REASONS) {
            refused(reason, 0);
        }
        new FileDescriptorMetrics().bindTo(registry);
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            FunctionCounter.builder("process.cpu", os, o -> Math.max(0, o.getProcessCpuTime()) / 1e9)
                    .description("CPU time used by this process.")
                    .baseUnit("seconds")
                    .register(registry);
        }
        CompilationMXBean compilation = ManagementFactory.getCompilationMXBean();
        if (compilation != null && compilation.isCompilationTimeMonitoringSupported()) {
            FunctionCounter.builder("jvm.compilation", compilation, c -> c.getTotalCompilationTime() / 1e3)
                    .description("Time the JIT compiler has spent compiling.")
                    .baseUnit("seconds")
                    .register(registry);
        }
        BuildInfo build = BuildInfo.load();
        Gauge.builder("gavel.build.info", () -> 1)
                .description("Always 1; the labels say which build of Gavel this replica runs.")
                .tags("version", build.version(), "commit", build.commit())
                .register(registry);
    }

    /** Registers the Redis backend's meters; called once, before the backend is created, and only for Redis. */
    public GavelMetrics forRedis() {
        redisReconnects = counter("gavel.redis.reconnects", "Times a Redis subscriber connection (one per master on a Redis Cluster) was lost and restored.");
        redisSubscriptionsRefused = counter("gavel.redis.subscriptions.refused", "Times Redis answered this replica's SUBSCRIBE/SSUBSCRIBE with an error (an ACL without the command or the channels): each is retried with backoff.");
        for (Operation operation : Operation.values()) {
            redisLatency[operation.ordinal()] = Timer.builder("gavel.redis.command")
                    .description("Latency of Redis commands (a pipelined batch counts once), by operation.")
                    .tag("operation", operation.label())
                    .serviceLevelObjectives(REDIS_BUCKETS)
                    .register(registry);
            redisErrors[operation.ordinal()] = Counter.builder("gavel.redis.command.errors")
                    .description("Redis commands that failed, by operation.")
                    .tag("operation", operation.label())
                    .register(registry);
        }
        return this;
    }

    /**
     * The Vert.x metrics options that put Vert.x's own meters (HTTP server, pools, JVM) into this registry. Labels that
     * would take a path or an address are off: only method, status code and pool names label Vert.x's meters.
     */
    public MicrometerMetricsOptions vertxOptions() {
        return new MicrometerMetricsOptions()
                .setEnabled(true)
                // Vert.x keeps its registries in a static map by this name: one name per node, or nodes would share one
                .setRegistryName(vertxRegistryName)
                .setJvmMetricsEnabled(true)
                .setLabels(EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.POOL_TYPE, Label.POOL_NAME))
                .addDisabledMetricsCategory(MetricsDomain.EVENT_BUS)
                .addDisabledMetricsCategory(MetricsDomain.DATAGRAM_SOCKET)
                .addDisabledMetricsCategory(MetricsDomain.HTTP_CLIENT)
                .addDisabledMetricsCategory(MetricsDomain.VERTICLES);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /**
     * Registers the gauges that read the node's state: viewers and auctions (the same numbers {@link Audience} gives
     * health and the API), readiness, and the store's health.
     *
     * @param storeFailing true while the store (Redis) does not answer or count writes to it fail
     */
    public void watch(Audience audience, BooleanSupplier ready, BooleanSupplier storeFailing) {
        Gauge.builder("gavel.viewers", audience, Audience::localViewers)
                .description("Viewer connections open on this replica, all transports (the count the API and health report).")
                .register(registry);
        Gauge.builder("gavel.auctions", audience, Audience::localAuctions)
                .description("Auctions with viewers on this replica.")
                .register(registry);
        Gauge.builder("gavel.ready", ready, r -> r.getAsBoolean() ? 1 : 0)
                .description("1 while this replica takes viewers (as /health/ready), else 0.")
                // a gauge holds its object weakly, and nothing else holds this lambda
                .strongReference(true)
                .register(registry);
        Gauge.builder("gavel.store.failing", storeFailing, f -> f.getAsBoolean() ? 1 : 0)
                .description("1 while the store (Redis) does not answer or writing counts to it fails, else 0.")
                .strongReference(true)
                .register(registry);
        Gauge.builder("gavel.store.heartbeat.age", audience, a -> (clock.millis() - a.lastGoodHeartbeatMillis()) / 1000.0)
                .description("Seconds since this replica's last heartbeat reached the store (since start before the first).")
                .baseUnit("seconds")
                .register(registry);
    }

    /** The scrape, in Prometheus text format 0.0.4. */
    public String scrape() {
        return registry.scrape();
    }

    /**
     * Counts a viewer connection refused, or closed for what it sent, with {@code reason}: a constant of the code
     * (snake case), never anything taken from the request.
     */
    public void refused(String reason) {
        refused(reason, 1);
    }

    private void refused(String reason, int times) {
        Counter counter = refusals.get(reason);
        if (counter == null) {
            counter = refusals.computeIfAbsent(reason, r -> Counter.builder("gavel.refusals")
                    .description("Viewer connections refused before they were counted, or closed for what they sent, by reason.")
                    .tag("reason", r)
                    .register(registry));
        }
        counter.increment(times);
    }

    /** A viewer on {@code transport} was counted. */
    public void attached(Transport transport) {
        transportViewers[transport.ordinal()].incrementAndGet();
    }

    /** A viewer on {@code transport} is no longer counted. */
    public void detached(Transport transport) {
        transportViewers[transport.ordinal()].decrementAndGet();
    }

    public void slowViewerClosed() {
        slowCloses.increment();
    }

    public void eventPublished() {
        eventsPublished.increment();
    }

    @Override
    public void joined() {
        joins.increment();
    }

    @Override
    public void left(int viewers) {
        leaves.increment(viewers);
    }

    @Override
    public void broadcast() {
        broadcasts.increment();
    }

    @Override
    public void auctionReportFailed() {
        auctionReportFailures.increment();
    }

    @Override
    public void gapRepaired() {
        gapsRepaired.increment();
    }

    @Override
    public void gapUnrecoverable() {
        gapsLost.increment();
    }

    @Override
    public void countsSent(int viewers) {
        countFrames.increment(viewers);
    }

    @Override
    public void eventDelivered(int viewers, long publishedAtMillis) {
        eventsDelivered.increment(viewers);
        if (publishedAtMillis > 0) {
            // clocks of replicas agree to within NTP's error; a negative lag is that error, not a lag
            eventLag.record(Math.max(0, clock.millis() - publishedAtMillis), TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void command(Operation operation, long nanos, boolean succeeded) {
        redisLatency[operation.ordinal()].record(nanos, TimeUnit.NANOSECONDS);
        if (!succeeded) {
            redisErrors[operation.ordinal()].increment();
        }
    }

    @Override
    public void reconnected() {
        redisReconnects.increment();
    }

    @Override
    public void subscriptionRefused() {
        redisSubscriptionsRefused.increment();
    }

    private Counter counter(String name, String description) {
        return Counter.builder(name).description(description).register(registry);
    }

    private static Duration[] millis(double... values) {
        Duration[] durations = new Duration[values.length];
        for (int i = 0; i < values.length; i++) {
            durations[i] = Duration.ofNanos((long) (values[i] * 1_000_000));
        }
        return durations;
    }
}
