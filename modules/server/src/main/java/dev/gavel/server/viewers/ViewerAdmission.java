package dev.gavel.server.viewers;

import dev.gavel.core.AuctionId;
import dev.gavel.core.AuctionRegistry;
import dev.gavel.core.EventOffset;
import dev.gavel.core.ViewerId;
import dev.gavel.server.http.AddressLimiter;
import dev.gavel.server.http.ClientAddresses;
import dev.gavel.server.http.OriginPolicy;
import dev.gavel.server.http.Refusal;
import dev.gavel.server.http.UpgradeRequest;
import dev.gavel.server.ops.GavelMetrics;
import dev.gavel.server.ops.NodeState;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;

import java.util.function.Supplier;

/** The checks every viewer connection passes before it is counted, whatever its transport. */
public final class ViewerAdmission {

    /**
     * A connection that may become a viewer: the auction it watches, who is behind it ({@code viewerId}, whether the
     * connection gave it or it was made up, and the signed-in user when it presented a viewer token; null for an
     * anonymous viewer), where it is ({@code country}: ISO 3166-1 alpha-2 from {@link ViewerCountries}, or null when
     * nothing says), and the offset of the last event it got when it comes back ({@code offset=}; null for a new
     * viewer, {@link EventOffset#UNKNOWN} for one that is not an offset).
     */
    public record Admitted(AuctionId auction, String viewerId, boolean viewerIdGiven, EventOffset resumeFrom,
                           ViewerIdentity identity, String country) {

        /** The same connection, coming back from {@code offset}. */
        public Admitted resumingFrom(EventOffset offset) {
            return new Admitted(auction, viewerId, viewerIdGiven, offset, identity, country);
        }

        /** The same connection, signed in as {@code identity} (null: anonymous). */
        public Admitted signedInAs(ViewerIdentity identity) {
            return new Admitted(auction, viewerId, viewerIdGiven, resumeFrom, identity, country);
        }

        /**
         * The person the connection counts as ({@code COUNT_BY=person}, and {@code people}): {@code "u:<user id>"} when
         * signed in, else {@code "v:<viewerId>"} when it gave one, else null (a person of its own).
         */
        public String personKey() {
            if (identity != null) {
                return "u:" + identity.userId();
            }
            return viewerIdGiven ? "v:" + viewerId : null;
        }
    }

    /** The query parameter that carries a viewer token on WebSocket and SockJS (Socket.IO: its CONNECT's auth). */
    private static final String TOKEN_PARAM = "token";

    private final OriginPolicy origins;
    private final NodeState state;
    private final GavelMetrics metrics;
    private final AuctionRegistry auctions;
    private final boolean registeredOnly;
    private final ClientAddresses addresses;
    private final AddressLimiter perAddress;
    private final ViewerTokens tokens;
    private final ViewerCountries countries;

    /**
     * @param registeredOnly {@code AUCTIONS=registered}: only auctions open in {@code auctions} are watched
     * @param perAddress     the node's connection limits per client address, shared by every event loop
     * @param tokens         the node's viewer token verifier ({@code VIEWER_TOKENS})
     * @param countries      where each admitted viewer is, found once here
     */
    public ViewerAdmission(OriginPolicy origins, NodeState state, GavelMetrics metrics, AuctionRegistry auctions,
                    boolean registeredOnly, ClientAddresses addresses, AddressLimiter perAddress, ViewerTokens tokens,
                    ViewerCountries countries) {
        this.origins = origins;
        this.state = state;
        this.metrics = metrics;
        this.auctions = auctions;
        this.registeredOnly = registeredOnly;
        this.addresses = addresses;
        this.perAddress = perAddress;
        this.tokens = tokens;
        this.countries = countries;
    }

    /**
     * The auction the request asks to watch, and its {@code viewerId} (a random one when it has none, so that it
     * counts as its own viewer).
     *
     * @throws Refusal 403 for an origin that is not allowed, 400 for a missing or bad slug or a bad {@code viewerId},
     *                 404 ({@code auction_not_open}) with {@code AUCTIONS=registered} for an auction that is not open (by
     *                 this replica's copy of the registry: no I/O)
     */
    public Admitted admit(HttpServerRequest request) {
        checkOrigin(request);
        return admit(request.getParam("slug"), request.getParam("viewerId"), request.getParam("offset"),
                request.remoteAddress(), request.headers());
    }

    /** The same checks on an upgrade taken before Vert.x ({@link UpgradeRouter}). */
    public Admitted admit(UpgradeRequest upgrade) {
        checkOrigin(upgrade);
        return admit(upgrade.param("slug"), upgrade.param("viewerId"), upgrade.param("offset"),
                upgrade.remoteAddress(), upgrade.headers());
    }

    private Admitted admit(String slug, String viewerId, String offset, SocketAddress peer, MultiMap headers) {
        Admitted admitted;
        try {
            admitted = new Admitted(AuctionId.fromSlug(slug), ViewerId.orRandom(viewerId), viewerId != null,
                    EventOffset.fromClient(offset), null, countries.of(peer, headers));
        } catch (IllegalArgumentException e) {
            metrics.refused("bad_request");
            throw new Refusal(400, e.getMessage());
        }
        if (registeredOnly && !auctions.isOpen(admitted.auction())) {
            metrics.refused("auction_not_open");
            throw new Refusal(404, "auction is not open: " + admitted.auction().value());
        }
        return admitted;
    }

    /**
     * Signs the connection in with the viewer token of its query ({@code token=}, WebSocket and SockJS): see
     * {@link #signIn(Admitted, String)}.
     *
     * @throws Refusal 401 {@code "invalid token: <missing|expired|invalid>"}
     */
    public Admitted signIn(Admitted admitted, HttpServerRequest request) {
        return signInByQuery(admitted, request.getParam(TOKEN_PARAM));
    }

    /** The same sign-in on an upgrade taken before Vert.x. */
    public Admitted signIn(Admitted admitted, UpgradeRequest upgrade) {
        return signInByQuery(admitted, upgrade.param(TOKEN_PARAM));
    }

    private Admitted signInByQuery(Admitted admitted, String token) {
        try {
            return signIn(admitted, token);
        } catch (ViewerTokens.Invalid invalid) {
            throw new Refusal(401, "invalid_token", invalid.getMessage(), 0);
        }
    }

    /**
     * Who is behind the connection, by the viewer token it presented: signed in when the token verifies, anonymous when
     * it presented none (unless {@code VIEWER_TOKENS=required}) or tokens are off. Counted in the metrics as
     * {@code invalid_token} when refused. The token is neither kept nor logged.
     *
     * @param token the token as the client sent it, or null
     * @throws ViewerTokens.Invalid when the token does not verify or has expired, or none was sent and one is required
     */
    public Admitted signIn(Admitted admitted, String token) {
        try {
            return admitted.signedInAs(tokens.identify(token));
        } catch (ViewerTokens.Invalid invalid) {
            metrics.refused("invalid_token");
            throw invalid;
        }
    }

    /**
     * The origin check alone, for requests of a connection that {@link #admit} already let in.
     *
     * @throws Refusal 403 for an origin that is not allowed
     */
    public void checkOrigin(HttpServerRequest request) {
        checkOrigin(request.getHeader(HttpHeaders.ORIGIN), request.getHeader(HttpHeaders.HOST));
    }

    /** The origin check alone, on an upgrade taken before Vert.x. */
    public void checkOrigin(UpgradeRequest upgrade) {
        checkOrigin(upgrade.header(HttpHeaders.ORIGIN), upgrade.header(HttpHeaders.HOST));
    }

    private void checkOrigin(String origin, String host) {
        if (origin != null && !origins.isAllowedOrigin(origin, host)) {
            metrics.refused("origin");
            throw new Refusal(403, "origin not allowed: " + origin);
        }
    }

    /**
     * Refuses a connection that would add a viewer while the replica takes no more (stopping, full or overloaded).
     * Requests of sessions that already exist are not refused: the viewers the replica holds are kept.
     *
     * @throws Refusal 503, saying why
     */
    public void refuseWhenFull() {
        NodeState.Busy busy = state.whyNoViewers();
        if (busy != null) {
            metrics.refused(busy.reason());
            throw new Refusal(503, busy.message());
        }
    }

    /**
     * Counts a new viewer connection against its client address's limits, before any work is done for it; the
     * caller releases the lease when the connection ends (or never started).
     *
     * @throws Refusal 429 when the address opens connections too fast or holds too many
     */
    public AddressLimiter.Lease acquireConnection(HttpServerRequest request) {
        return counted(() -> perAddress.acquire(addresses.of(request)));
    }

    /** The same count for an upgrade taken before Vert.x. */
    public AddressLimiter.Lease acquireConnection(UpgradeRequest upgrade) {
        return counted(() -> perAddress.acquire(addresses.of(upgrade.remoteAddress(), upgrade.headers())));
    }

    /**
     * Counts a connection whose request was let through but gave its lease back before the connection was taken
     * (SockJS: its client left while the request waited), without refusing it: it exists now.
     */
    public AddressLimiter.Lease holdConnection(SocketAddress peer, MultiMap headers) {
        return counted(() -> perAddress.hold(addresses.of(peer, headers)));
    }

    /** Counts a refusal of a limit in the metrics by its reason. */
    private <T> T counted(Supplier<T> check) {
        try {
            return check.get();
        } catch (Refusal refusal) {
            metrics.refused(refusal.reason());
            throw refusal;
        }
    }
}
