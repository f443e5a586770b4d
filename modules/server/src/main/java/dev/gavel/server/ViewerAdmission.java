package dev.gavel.server;

import dev.gavel.core.AuctionId;
import dev.gavel.core.ViewerId;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;

import java.util.List;
import java.util.Map;

/** The checks every viewer connection passes before it is counted, whatever its transport. */
public final class ViewerAdmission {

    /** A connection that may become a viewer: the auction it watches and who is behind it. */
    public record Admitted(AuctionId auction, String viewerId) {
    }

    private final OriginPolicy origins;
    private final NodeState state;
    private final ClientAddresses addresses;
    private final AddressLimiter perAddress;

    /** @param perAddress the node's connection limits per client address, shared by every event loop */
    ViewerAdmission(OriginPolicy origins, NodeState state, ClientAddresses addresses, AddressLimiter perAddress) {
        this.origins = origins;
        this.state = state;
        this.addresses = addresses;
        this.perAddress = perAddress;
    }

    /**
     * The auction the request asks to watch, and its {@code viewerId} (a random one when it has none, so that it
     * counts as its own viewer).
     *
     * @throws Refusal 403 for an origin that is not allowed, 400 for a missing or bad slug or a bad {@code viewerId}
     */
    public Admitted admit(HttpServerRequest request) {
        if (!origins.allows(request)) {
            throw new Refusal(403, "origin not allowed: " + request.getHeader("Origin"));
        }
        Admitted admitted;
        try {
            admitted = new Admitted(AuctionId.fromSlug(request.getParam("slug")), ViewerId.orRandom(request.getParam("viewerId")));
        } catch (IllegalArgumentException e) {
            throw new Refusal(400, e.getMessage());
        }
        return admitted;
    }

    /**
     * Refuses a connection that would add a viewer while the replica takes no more (stopping, full or overloaded).
     * Requests of sessions that already exist are not refused: the viewers the replica holds are kept.
     *
     * @throws Refusal 503, saying why
     */
    public void refuseWhenFull() {
        String busy = state.whyNoViewers();
        if (busy != null) {
            throw new Refusal(503, busy);
        }
    }

    /**
     * Counts a new viewer connection against its client address's limits, before any work is done for it; the
     * caller releases the lease when the connection ends (or never started).
     *
     * @throws Refusal 429 when the address opens connections too fast or holds too many
     */
    public AddressLimiter.Lease acquireConnection(HttpServerRequest request) {
        return perAddress.acquire(addresses.of(request));
    }

    /**
     * Takes a new connection's place in its address's rate, and refuses it when the address holds too many, for a
     * connection that is counted later, once its session exists, with {@link #holdConnection}.
     *
     * @throws Refusal 429 when the address opens connections too fast or holds too many
     */
    void checkNewConnection(HttpServerRequest request) {
        perAddress.check(addresses.of(request));
    }

    /** Counts a connection that {@link #checkNewConnection} let through, by the request that opened it. */
    AddressLimiter.Lease holdConnection(SocketAddress peer, MultiMap headers) {
        return perAddress.hold(addresses.of(peer, headers));
    }

    /**
     * The same checks on the query of a URI that an earlier request of the connection already passed with
     * {@link #admit} (SockJS hands its socket over with only the URI).
     *
     * @throws IllegalArgumentException for a bad slug or {@code viewerId}
     */
    static Admitted fromUri(String uri) {
        Map<String, List<String>> query = new QueryStringDecoder(uri).parameters();
        return new Admitted(AuctionId.fromSlug(first(query, "slug")), ViewerId.orRandom(first(query, "viewerId")));
    }

    private static String first(Map<String, List<String>> query, String name) {
        List<String> values = query.get(name);
        return values == null ? null : values.get(0);
    }
}
