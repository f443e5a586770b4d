package dev.gavel.server;

import dev.gavel.core.Backend;
import dev.gavel.core.Timers;
import dev.gavel.core.audience.Audience;
import dev.gavel.core.audience.AudienceSettings;
import dev.gavel.core.memory.InMemoryBackend;
import dev.gavel.redis.RedisBackend;
import dev.gavel.server.api.WhoIsWatching;
import dev.gavel.server.http.ClientAddresses;
import dev.gavel.server.http.NodeLimits;
import dev.gavel.server.ops.GavelMetrics;
import dev.gavel.server.ops.HealthRoutes;
import dev.gavel.server.ops.NodeState;
import dev.gavel.server.viewers.ViewerCountries;
import dev.gavel.server.viewers.ViewerDirectory;
import dev.gavel.server.viewers.socketio.SocketIoViewers;
import dev.gavel.server.viewers.sockjs.SockJsViewers;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.MicrometerMetricsFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One running replica: its Vert.x instance, backend, audience and HTTP server. {@link Main} starts one per
 * process; tests start several in one JVM.
 */
public final class GavelNode {

    private static final Logger LOG = LoggerFactory.getLogger(GavelNode.class);
    /** Count broadcasts to viewers are coalesced to at most one per auction per this interval. */
    static final long BROADCAST_MILLIS = 200;

    private final GavelConfig config;
    private final Vertx vertx;
    private final Backend backend;
    private final Audience audience;
    private final NodeState state;
    /** Who is watching here, and where each viewer is: one of each per node, shared by the event loops. */
    private final ViewerDirectory directory;
    private final ViewerCountries countries;
    private final WhoIsWatching watching;
    private final List<HttpVerticle> http = new ArrayList<>();
    private HttpServer management;

    private GavelNode(GavelConfig config, Vertx vertx, Backend backend, Audience audience, GavelMetrics metrics,
                      ViewerCountries countries) {
        this.config = config;
        this.countries = countries;
        this.directory = new ViewerDirectory(config.nodeId());
        this.watching = new WhoIsWatching(directory, backend, audience::presence);
        this.vertx = vertx;
        this.backend = backend;
        this.audience = audience;
        this.state = new NodeState(config.maxViewers(), config.eventLoops(), audience::localViewers);
        metrics.watch(audience, () -> HealthRoutes.isReady(state), () -> HealthRoutes.storeFailure(backend, audience) != null);
    }

    /**
     * Starts a node. A Redis that is not reachable yet does not stop it: it is ready, takes viewers and counts them
     * once Redis is; until then its readiness body says the store is down.
     */
    public static Future<GavelNode> start(GavelConfig config) {
        Clock clock = Clock.systemUTC();
        // a registry of its own per node: tests run several nodes in one JVM
        GavelMetrics metrics = new GavelMetrics(clock);
        Vertx vertx = Vertx.builder()
                .with(new VertxOptions().setEventLoopPoolSize(config.eventLoops()).setPreferNativeTransport(true)
                        .setMetricsOptions(metrics.vertxOptions()))
                .withMetrics(new MicrometerMetricsFactory(metrics.registry()))
                .build();
        Timers timers = Timers.of(vertx);
        AudienceSettings timings = AudienceSettings.forNodeTtl(config.nodeTtlMillis(), BROADCAST_MILLIS);
        long lease = timings.leaseMillis();
        Backend backend;
        Future<Void> connected;
        if (config.redis() == null) {
            backend = new InMemoryBackend(vertx, clock, lease, config.historyIntervalMillis(), config.historyRetentionMillis(),
                    config.eventLog(), config.countBy());
            connected = Future.succeededFuture();
        } else {
            RedisBackend redis = RedisBackend.create(vertx, config.redis(), clock, lease,
                    config.historyIntervalMillis(), config.historyRetentionMillis(), config.eventLog(), metrics.forRedis(),
                    config.countBy());
            backend = redis;
            connected = redis.connect().recover(e -> {
                LOG.warn("Redis is not reachable yet ({}); viewers are counted once it is", e.toString());
                return Future.succeededFuture();
            });
        }
        ViewerCountries countries;
        try {
            countries = ViewerCountries.open(ClientAddresses.trusting(config.trustedProxies()), config.countryHeader(),
                    config.geoipDatabase());
        } catch (IOException e) {
            // GavelConfig opened it a moment ago: the file changed or went away since
            return backend.close().eventually(vertx::close).transform(x -> Future.failedFuture(
                    new ConfigException("GEOIP_DB", "could not be opened: " + e.getMessage())));
        }
        Audience audience = new Audience(vertx, backend, config.nodeId(),
                timings, clock, timers, metrics, config.registeredAuctions());
        GavelNode node = new GavelNode(config, vertx, backend, audience, metrics, countries);
        return connected
                .compose(v -> node.watching.answerOthers())
                .compose(v -> audience.start())
                .compose(v -> {
                    SocketIoViewers.Sessions sessions = new SocketIoViewers.Sessions();
                    SockJsViewers.Sessions sockJsSessions = new SockJsViewers.Sessions();
                    NodeLimits limits = config.limits();
                    vertx.setPeriodic(NodeLimits.SWEEP_MILLIS, t -> limits.sweep());
                    AtomicReferenceArray<Context> loops = new AtomicReferenceArray<>(config.eventLoops());
                    return vertx.deployVerticle(() -> {
                        HttpVerticle instance = new HttpVerticle(config, backend, audience, node.directory, node.countries,
                                node.watching, node.state, metrics, sessions, sockJsSessions, limits, loops, node.http.size(), clock);
                        node.http.add(instance);
                        return instance;
                    }, new DeploymentOptions().setInstances(config.eventLoops()));
                })
                .compose(id -> node.startManagement(metrics))
                .map(v -> {
                    node.state.started();
                    LOG.info("Gavel node {} listening on port {}{} with the {} backend, {} event loops ({}), compression {}, {} auctions, "
                                    + "viewer tokens {}",
                            config.nodeId(), node.port(),
                            node.management == null ? "" : " (/metrics and probes on " + node.managementPort() + ")",
                            config.redis() == null ? "in-memory" : "Redis (" + config.redis() + ")",
                            config.eventLoops(), vertx.isNativeTransportEnabled() ? "epoll" : "NIO",
                            config.wsCompression() ? "on" : "off", config.registeredAuctions() ? "registered" : "open",
                            config.viewerTokens());
                    return node;
                })
                .recover(e -> vertx.close().eventually(node::closeCountries).transform(x -> Future.failedFuture(e)));
    }

    /**
     * The management port ({@code MANAGEMENT_PORT}): {@code /metrics} and the probes, for the orchestrator and
     * Prometheus only; never routed from the public side. One server on one event loop: a scrape every few seconds
     * needs no more.
     */
    private Future<Void> startManagement(GavelMetrics metrics) {
        if (!config.hasManagementPort()) {
            return Future.succeededFuture();
        }
        Router router = Router.router(vertx);
        HealthRoutes health = new HealthRoutes(backend, audience, state, metrics);
        health.mountProbes(router);
        health.mountMetrics(router);
        // HTTP/1.1 only, as the public port: a client's h2c upgrade (Java's HttpClient asks for one) is not taken
        return vertx.createHttpServer(new HttpServerOptions().setPort(config.managementPort()).setHttp2ClearTextEnabled(false))
                .requestHandler(router)
                .listen()
                .onSuccess(s -> management = s)
                .mapEmpty();
    }

    public int port() {
        return http.get(0).actualPort();
    }

    /** The management port's actual number (see {@code MANAGEMENT_PORT}), or -1 when the node has none. */
    public int managementPort() {
        return management == null ? -1 : management.actualPort();
    }

    /** The node's HTTP routes; tests compare them with the OpenAPI document. */
    public Router router() {
        return http.get(0).router();
    }

    public GavelConfig config() {
        return config;
    }

    public Audience audience() {
        return audience;
    }

    public Backend backend() {
        return backend;
    }

    /**
     * Stops gracefully: refuses new viewers and turns unready at once, closes the viewers with 1012 (Service
     * Restart) in batches over {@code DRAIN_MS} while their count stays exact, removes this replica from the counts,
     * and closes everything.
     */
    public Future<Void> stop() {
        state.stopping();
        int viewers = audience.localViewers();
        LOG.info("Gavel node {} stopping: draining {} {} over {} ms", config.nodeId(), viewers,
                viewers == 1 ? "viewer" : "viewers", config.drainMillis());
        return audience.shutdown(config.drainMillis())
                .eventually(backend::close)
                .eventually(vertx::close)
                .eventually(this::closeCountries);
    }

    /**
     * Dies the way a killed process does, for tests: no more heartbeats, every socket dropped, nothing
     * removed from the store.
     */
    public Future<Void> crash() {
        audience.halt();
        return vertx.close().eventually(this::closeCountries);
    }

    /** Unmaps the country database, once no event loop looks anything up in it. */
    private Future<Void> closeCountries() {
        try {
            countries.close();
        } catch (IOException e) {
            LOG.warn("Could not close the country database: {}", e.toString());
        }
        return Future.succeededFuture();
    }
}
