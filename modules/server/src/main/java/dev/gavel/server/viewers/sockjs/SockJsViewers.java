package dev.gavel.server.viewers.sockjs;

import dev.gavel.core.EventLoops;
import dev.gavel.core.ViewerEvent;
import dev.gavel.core.audience.Audience;
import dev.gavel.server.http.AddressLimiter;
import dev.gavel.server.http.Refusal;
import dev.gavel.server.http.StickyCookie;
import dev.gavel.server.ops.GavelMetrics;
import dev.gavel.server.viewers.AttachedViewer;
import dev.gavel.server.viewers.PendingWire;
import dev.gavel.server.viewers.ViewerAdmission;
import dev.gavel.server.viewers.ViewerDirectory;
import dev.gavel.server.viewers.ViewerFrames;
import dev.gavel.server.viewers.ViewerWire;
import dev.gavel.server.viewers.WebSocketPings;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandler;
import io.vertx.ext.web.handler.sockjs.SockJSHandlerOptions;
import io.vertx.ext.web.handler.sockjs.SockJSSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.regex.Pattern;

/**
 * Viewers over SockJS at {@code /sockjs?slug=auction-<id>}, with vertx-web's SockJS server: every transport that
 * {@code sockjs-client} 1.6 offers, the same JSON frames as {@code /ws}.
 *
 * <p>{@code sockjs-client} repeats the query of the URL it was given on every request it makes (info, iframe,
 * each transport's requests and the WebSocket upgrade). So every request under {@code /sockjs/} passes
 * {@link ViewerAdmission} before SockJS sees it: a disallowed {@code Origin} is answered 403, a bad slug 400 and an
 * auction that is not open 404, with {@code {"error": ...}}; the client's first request ({@code /info}) is refused, and nothing is counted.
 * The viewer token ({@code token=}) is checked on {@code /info} and on the request that opens a session (401), not on the
 * session's later requests: a token that expires while the session lives does not end it.
 * Every HTTP answer carries {@link StickyCookie}, since a SockJS session over HTTP lives on one replica.
 *
 * <p>A viewer whose link died is reclaimed within about two {@code WS_PING_INTERVAL_MS}: over WebSocket, by
 * {@link WebSocketPings}; over HTTP, SockJS's heartbeat frame goes out every interval, a receiving connection whose
 * data stays unacknowledged for the interval is ended by the kernel ({@code TCP_USER_TIMEOUT}, with epoll on Linux),
 * and the session then times out as any whose client went away.
 */
public final class SockJsViewers {

    private static final Logger LOG = LoggerFactory.getLogger(SockJsViewers.class);
    /** Where the node serves the sockjs-client bundle that SockJS's iframe page loads (never a public CDN). */
    static final String LIBRARY_PATH = "/assets/sockjs-client/sockjs.min.js";
    private static final String LIBRARY_RESOURCE = "META-INF/resources/webjars/sockjs-client/1.6.1/dist/sockjs.min.js";
    /** The receiving requests of the HTTP transports, which vertx-web answers and then disconnects. */
    private static final List<String> CLOSING_TRANSPORTS = List.of("/xhr", "/xhr_streaming", "/eventsource", "/htmlfile", "/jsonp");
    /** SockJS's raw WebSocket endpoint: plain WebSocket frames, no session. */
    private static final String RAW_WEBSOCKET = "/sockjs/websocket";
    /** The transports whose first request for a session id opens the session. */
    private static final Set<String> OPENING_TRANSPORTS = Set.of("xhr", "xhr_streaming", "eventsource", "htmlfile", "jsonp",
            "websocket");

    /** Where a session-opening request keeps what {@link ViewerAdmission} made of it, for its session ({@link #accept}). */
    private static final String ADMITTED = "gavel.sockjs.admitted";

    /** What vertx-web's JSONP and htmlfile transports accept as a callback name. */
    private static final Pattern CALLBACK = Pattern.compile("[A-Za-z0-9_.-]{1,256}");

    private final ViewerAdmission admission;
    private final Audience audience;
    private final ViewerDirectory directory;
    private final GavelMetrics metrics;
    private final String nodeId;
    private final int maxFrameBytes;
    private final WebSocketPings pings;
    private final Clock clock;
    private final Set<String> sessions;
    /** The node's event loops (see {@link #mount}). */
    private AtomicReferenceArray<Context> loops;

    /** @param sessions the node's open SockJS sessions, shared by every event loop's handler */
    public SockJsViewers(ViewerAdmission admission, Audience audience, ViewerDirectory directory, GavelMetrics metrics, String nodeId, int maxFrameBytes,
                  WebSocketPings pings, Clock clock, Sessions sessions) {
        this.admission = admission;
        this.pings = pings;
        this.sessions = sessions.open;
        this.clock = clock;
        this.audience = audience;
        this.directory = directory;
        this.metrics = metrics;
        this.nodeId = nodeId;
        this.maxFrameBytes = maxFrameBytes;
    }

    /** The ids of a node's open SockJS sessions, whichever event loop holds them. */
    public static final class Sessions {
        private final Set<String> open = ConcurrentHashMap.newKeySet();
    }

    /**
     * @param loops the node's event loops (the server contexts of its HTTP verticles, by index; an entry may still
     *              be null while the node starts)
     */
    public void mount(Vertx vertx, Router router, AtomicReferenceArray<Context> loops) {
        this.loops = loops;
        Buffer library = Buffer.buffer(readLibrary());
        router.get(LIBRARY_PATH).handler(ctx -> ctx.response()
                .putHeader(HttpHeaders.CONTENT_TYPE, "application/javascript; charset=utf-8")
                .putHeader(HttpHeaders.CACHE_CONTROL, "public, max-age=86400")
                .end(library));
        router.route("/sockjs/*").handler(this::admit);
        // the XHR transports post their frames; a few frames fit, a flood is answered 413
        router.route("/sockjs/*").handler(BodyHandler.create(false).setBodyLimit(4L * maxFrameBytes));
        router.route("/sockjs/*").handler(ctx -> toSessionLoop(ctx, loops));
        SockJSHandlerOptions options = new SockJSHandlerOptions().setHeartbeatInterval(pings.intervalMillis())
                .setLibraryURL(LIBRARY_PATH);
        router.route("/sockjs/*").subRouter(SockJSHandler.create(vertx, options).socketHandler(this::accept));
    }

    /**
     * Hands every request of one SockJS session over HTTP to the same event loop, chosen by its session id. vertx-web's
     * SockJS sessions are not safe when their requests run on several loops at once (a poll on one loop does not
     * reliably cancel the session timeout that the previous poll set on another, and the session is dropped under a
     * live client), and the node's connections land on any loop. A WebSocket session is one connection: it stays.
     */
    private static void toSessionLoop(RoutingContext ctx, AtomicReferenceArray<Context> loops) {
        Context home = sessionLoop(ctx.request().path(), loops);
        if (home == null) {
            ctx.next();
        } else {
            home.runOnContext(v -> ctx.next());
        }
    }

    /** The loop a request of a SockJS session over HTTP must run on, or null when it is on it (or is a WebSocket). */
    private static Context sessionLoop(String path, AtomicReferenceArray<Context> loops) {
        String[] segments = path.split("/");
        // "", "sockjs", server, session, transport
        if (segments.length != 5 || "websocket".equals(segments[4])) {
            return null;
        }
        Context home = loops.get(Math.floorMod(segments[3].hashCode(), loops.length()));
        return home == null || EventLoops.isOn(home) ? null : home;
    }

    private void admit(RoutingContext ctx) {
        String path = ctx.request().path();
        ViewerAdmission.Admitted admitted;
        boolean opens = false;
        String claimed = null;
        AddressLimiter.Lease lease = null;
        try {
            admitted = admission.admit(ctx.request());
            checkCallback(ctx.request(), path);
            opens = RAW_WEBSOCKET.equals(path);
            if (!opens) {
                claimed = claimSession(path);
                opens = claimed != null;
            }
            if (opens || path.endsWith("/info")) {
                // a client's first request, or a new session: a new viewer, signed in by its token; the later requests
                // of a session are its, whatever becomes of the token (it may expire while the session lives)
                admission.refuseWhenFull();
                admitted = admission.signIn(admitted, ctx.request());
            }
            if (opens) {
                // its place in its address's connections, held by its session for as long as it lives (accept)
                lease = admission.acquireConnection(ctx.request());
            }
        } catch (Refusal refusal) {
            if (claimed != null) {
                sessions.remove(claimed);
            }
            refusal.send(ctx.response());
            return;
        }
        Opening opening = opens ? Opening.start(ctx, lease, claimed, sessions) : null;
        if (!"websocket".equalsIgnoreCase(ctx.request().getHeader(HttpHeaders.UPGRADE))) {
            ctx.response().addCookie(StickyCookie.forNode(nodeId));
        }
        if (CLOSING_TRANSPORTS.stream().anyMatch(path::endsWith)) {
            // vertx-web closes the connection after each answer of these; saying so keeps a keep-alive client
            // or proxy from sending its next request on it (Node's agent does, and that request fails)
            ctx.response().putHeader(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
            // a streaming client whose link died never answers, and vertx-web's session lives while its connection
            // does: the kernel ends one whose heartbeat stays unacknowledged rather than retrying for 15 minutes
            pings.boundUnacknowledged(ctx.request());
        }
        if (opens) {
            ctx.put(ADMITTED, admitted);
            open(ctx, admitted, opening);
        } else {
            ctx.next();
        }
    }

    /**
     * Joins the viewer of a session-opening request, then hands the request to SockJS once the viewer is started: the
     * client learns it is connected (the open frame, or the raw WebSocket's upgrade) only when its place in the
     * auction's events is known, and misses nothing from then on. The viewer joins on the loop its session will live
     * on; the request waits paused on its own, so that its end reaches the body handler or the upgrade unread.
     */
    private void open(RoutingContext ctx, ViewerAdmission.Admitted admitted, Opening opening) {
        HttpServerRequest request = ctx.request();
        boolean upgrade = "websocket".equalsIgnoreCase(request.getHeader(HttpHeaders.UPGRADE));
        request.pause();
        Context own = Vertx.currentContext();
        Context home = sessionLoop(request.path(), loops);
        Runnable join = () -> opening.joinEarly(Vertx.currentContext(),
                wire -> AttachedViewer.attach(audience, directory, metrics, admitted, wire, clock), () -> own.runOnContext(v -> {
                    ctx.next();
                    if (!upgrade) {
                        // the HTTP transports read no body of their own (a body handler that did has resumed it already)
                        request.resume();
                    }
                }));
        if (home == null) {
            join.run();
        } else {
            home.runOnContext(v -> join.run());
        }
    }

    /**
     * The JSONP and htmlfile transports name a JavaScript function in {@code c} (or {@code callback}) that their answer
     * calls. vertx-web answers a missing or unsafe one with a 500 (as SockJS's protocol tests expect); it is the
     * client's mistake, so it is a 400 here, before any session is made, counted and logged by class.
     *
     * @throws Refusal 400 for a missing callback or one with a character outside {@code [A-Za-z0-9_.-]}
     */
    private void checkCallback(HttpServerRequest request, String path) {
        if (!path.endsWith("/jsonp") && !path.endsWith("/htmlfile")) {
            return;
        }
        String callback = request.getParam("c");
        if (callback == null) {
            callback = request.getParam("callback");
        }
        if (callback == null || callback.isEmpty() || !CALLBACK.matcher(callback).matches()) {
            metrics.refused("bad_request");
            throw new Refusal(400, "bad_request", "missing or invalid \"c\" (callback) parameter", 0);
        }
    }

    /**
     * The session id of a receiving transport's request that opens a session, taken for it at once (so that a second
     * request for the id while this one waits to open it is not an opening too); null for any other request.
     */
    private String claimSession(String path) {
        String[] segments = path.split("/");
        // "", "sockjs", server, session, transport
        return segments.length == 5 && OPENING_TRANSPORTS.contains(segments[4]) && sessions.add(segments[3]) ? segments[3] : null;
    }

    private void accept(SockJSSocket socket) {
        ViewerAdmission.Admitted admitted = socket.routingContext().get(ADMITTED);
        if (admitted == null) {
            // every request that opens a session passed admit(), so this cannot happen; refuse anyway rather than count it
            socket.close(1008, "not admitted");
            return;
        }
        String[] segments = socket.routingContext().request().path().split("/");
        String session = segments.length == 5 ? segments[3] : null;
        if (session != null) {
            sessions.add(session);
        }
        Opening opening = Opening.of(socket.routingContext());
        Opening.Taken taken = opening != null ? opening.take() : new Opening.Taken(null, null, null);
        // no lease: the request that opened the session gave its place back (its client left while it waited)
        AddressLimiter.Lease lease = taken.lease() != null ? taken.lease()
                : admission.holdConnection(socket.remoteAddress(), socket.headers());
        SockJsFrames frames = new SockJsFrames(socket);
        AttachedViewer viewer = taken.viewer() != null ? taken.viewer()
                : AttachedViewer.attach(audience, directory, metrics, admitted, frames, clock);
        // the WebSocket transports' sessions are created on their upgrade's request; the others are not WebSockets
        pings.watch(socket.routingContext().request());
        socket.handler(data -> {
            if (data.length() > maxFrameBytes) {
                // answered like a WebSocket frame over the limit: closed with 1009 (Message Too Big)
                viewer.close(ViewerFrames.TOO_BIG, "frame over " + maxFrameBytes + " bytes");
            } else {
                viewer.receiveText(data.toString());
            }
        });
        socket.exceptionHandler(e -> LOG.atDebug().addKeyValue("auction", admitted.auction().value())
                .log("SockJS viewer failed: {}", e.toString()));
        socket.closeHandler(v -> {
            viewer.detach();
            lease.release();
            if (session != null) {
                sessions.remove(session);
            }
        });
        if (taken.wire() != null) {
            taken.wire().connected(frames);
        }
    }

    /**
     * A request that opens a session, until the session takes it over ({@link #accept}): its place in its address's
     * connections, taken at admission, and its viewer, joined before the client is told it is connected ({@link #open}). A request that opens no session (its client left while it waited, the upgrade failed, vertx-web
     * refused it) gives both back when it ends, a turn of the loop later: vertx-web ends an XHR poll's answer with the
     * open frame just before it hands the session over, in the same task.
     */
    private static final class Opening {
        private static final String KEY = "gavel.sockjs.opening";

        record Taken(AddressLimiter.Lease lease, AttachedViewer viewer, PendingWire wire) {
        }

        private AddressLimiter.Lease lease;
        /** The session id it took, given back if it opens no session; null for a raw WebSocket. */
        private String session;
        private final Set<String> sessions;
        private AttachedViewer viewer;
        private PendingWire wire;
        /** The context the viewer joined on: it is let go there. */
        private Context joinedOn;
        private boolean ended;

        private Opening(AddressLimiter.Lease lease, String session, Set<String> sessions) {
            this.lease = lease;
            this.session = session;
            this.sessions = sessions;
        }

        static Opening start(RoutingContext ctx, AddressLimiter.Lease lease, String session, Set<String> sessions) {
            Opening opening = new Opening(lease, session, sessions);
            ctx.put(KEY, opening);
            Context admitted = Vertx.currentContext();
            ctx.addEndHandler(x -> {
                Context current = Vertx.currentContext();
                (current != null ? current : admitted).runOnContext(v -> opening.end());
            });
            return opening;
        }

        /** The opening of the request that created a session, or null. */
        static Opening of(RoutingContext ctx) {
            return ctx.get(KEY);
        }

        /**
         * Joins the viewer now, on {@code here} (the loop its session will live on), on a wire that waits for the
         * connection, unless the request has ended already; {@code started} runs once the viewer is started.
         */
        void joinEarly(Context here, java.util.function.Function<PendingWire, AttachedViewer> attach, Runnable started) {
            PendingWire joining;
            synchronized (this) {
                if (ended) {
                    return;
                }
                joinedOn = here;
                joining = new PendingWire(GavelMetrics.Transport.SOCKJS);
                wire = joining;
                viewer = attach.apply(joining);
            }
            joining.whenStarted(started);
        }

        /** Hands over what the request holds to its session: from now on, the session gives it back. */
        synchronized Taken take() {
            Taken taken = new Taken(lease, viewer, wire);
            lease = null;
            viewer = null;
            wire = null;
            session = null;
            return taken;
        }

        private synchronized void end() {
            ended = true;
            if (lease != null) {
                lease.release();
            }
            if (viewer != null) {
                AttachedViewer leaving = viewer;
                joinedOn.runOnContext(v -> leaving.detach());
            }
            if (session != null) {
                sessions.remove(session);
            }
            take();
        }
    }

    private static byte[] readLibrary() {
        try (InputStream in = SockJsViewers.class.getClassLoader().getResourceAsStream(LIBRARY_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + LIBRARY_RESOURCE + " (the sockjs-client webjar)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The SockJS wire: the same JSON frames as {@code /ws}, in SockJS's framing. */
    private record SockJsFrames(SockJSSocket socket) implements ViewerWire {

        @Override
        public GavelMetrics.Transport transport() {
            return GavelMetrics.Transport.SOCKJS;
        }

        @Override
        public void write(ViewerEvent event) {
            socket.write(event.jsonFrame());
        }

        @Override
        public boolean congested() {
            return socket.writeQueueFull();
        }

        @Override
        public void onDrained(Runnable action) {
            socket.drainHandler(v -> action.run());
        }

        @Override
        public void close(short code, String reason) {
            socket.close(code, reason);
        }
    }
}
