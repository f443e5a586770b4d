package dev.gavel.server;

import dev.gavel.core.AuctionId;
import dev.gavel.core.ViewerId;
import io.vertx.core.http.HttpServerRequest;

/** The checks every viewer connection passes before it is counted, whatever its transport. */
public final class ViewerAdmission {

    private final OriginPolicy origins;

    public ViewerAdmission(OriginPolicy origins) {
        this.origins = origins;
    }

    /**
     * The auction the request asks to watch.
     *
     * @throws Refusal 403 for an origin that is not allowed, 400 for a missing or bad slug or a bad {@code viewerId}
     */
    public AuctionId admit(HttpServerRequest request) {
        if (!origins.allows(request)) {
            throw new Refusal(403, "origin not allowed: " + request.getHeader("Origin"));
        }
        try {
            AuctionId auction = AuctionId.fromSlug(request.getParam("slug"));
            String viewerId = request.getParam("viewerId");
            if (viewerId != null) {
                ViewerId.orRandom(viewerId);
            }
            return auction;
        } catch (IllegalArgumentException e) {
            throw new Refusal(400, e.getMessage());
        }
    }

    /**
     * Who is behind the connection, for unique viewers: its {@code viewerId} query parameter, or a random id when
     * it has none, so that it counts as its own viewer.
     *
     * @throws IllegalArgumentException for a {@code viewerId} that is not 1 to 64 characters of {@code [A-Za-z0-9_-]}
     */
    public String viewerId(HttpServerRequest request) {
        return ViewerId.orRandom(request.getParam("viewerId"));
    }
}
