package dev.gavel.server.viewers;

import dev.gavel.core.AuctionId;
import dev.gavel.core.AuctionRegistry;
import dev.gavel.core.EventOffset;
import dev.gavel.core.ViewerId;
import dev.gavel.server.http.AddressLimiter;
import dev.gavel.server.http.ClientAddresses;
import dev.gavel.server.http.OriginPolicy;
import dev.gavel.server.http.Refusal;
import dev.gavel.server.ops.GavelMetrics;
import dev.gavel.server.ops.NodeState;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;

import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** The checks every viewer connection passes before it is counted, whatever its transport. */
public final class ViewerAdmission {

    /**
     * A connection that may become a viewer: the auction it watches, who is behind it, and the offset of the last event
     * it got when it comes back ({@code offset=}; null for a new viewer, {@link EventOffset#UNKNOWN} for one that is not
     * an offset).
     */
    public record Admitted(AuctionId auction, String viewerId, EventOffset resumeFrom) {

        /** The same connection, coming back from {@code offset}. */
        public Admitted resumingFrom(EventOffset offset) {
            return new Admitted(auction, viewerId, offset);
        }
    }

    private final OriginPolicy origins;
    private final NodeState state;
    private final GavelMetrics metrics;
    private final AuctionRegistry auctions;
    private final boolean registeredOnly;
    private final ClientAddresses addresses;
    private final AddressLimiter perAddress;

    /**
     * @param registeredOnly {@code AUCTIONS=registered}: only auctions open in {@code auctions} are watched
     * @param perAddress     the node's connection limits per client address, shared by every event loop
     */
    public ViewerAdmission(OriginPolicy origins, NodeState state, GavelMetrics metrics, AuctionRegistry auctions,
                    boolean registeredOnly, ClientAddresses addresses, AddressLimiter perAddress) {
        this.origins = origins;
        this.state = state;
        this.metrics = metrics;
        this.auctions = auctions;
        this.registeredOnly = registeredOnly;
        this.addresses = addresses;
        this.perAddress = perAddress;
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
        Admitted admitted;
        try {
            admitted = new Admitted(AuctionId.fromSlug(request.getParam("slug")), ViewerId.orRandom(request.getParam("viewerId")),
                    EventOffset.fromClient(request.getParam("offset")));
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
     * The origin check alone, for requests of a connection that {@link #admit} already let in.
     *
     * @throws Refusal 403 for an origin that is not allowed
     */
    public void checkOrigin(HttpServerRequest request) {
        if (!origins.allows(request)) {
            metrics.refused("origin");
            throw new Refusal(403, "origin not allowed: " + request.getHeader("Origin"));
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

    /**
     * The same checks on the query of a URI that an earlier request of the connection already passed with
     * {@link #admit} (SockJS hands its socket over with only the URI).
     *
     * @throws IllegalArgumentException for a bad slug or {@code viewerId}
     */
    public static Admitted fromUri(String uri) {
        Map<String, List<String>> query = new QueryStringDecoder(uri).parameters();
        return new Admitted(AuctionId.fromSlug(first(query, "slug")), ViewerId.orRandom(first(query, "viewerId")),
                EventOffset.fromClient(first(query, "offset")));
    }

    private static String first(Map<String, List<String>> query, String name) {
        List<String> values = query.get(name);
        return values == null ? null : values.get(0);
    }
}
