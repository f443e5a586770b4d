package dev.gavel.server;

import dev.gavel.core.AuctionId;
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
     * @throws Refusal 403 for an origin that is not allowed, 400 for a missing or bad slug
     */
    public AuctionId admit(HttpServerRequest request) {
        if (!origins.allows(request)) {
            throw new Refusal(403, "origin not allowed: " + request.getHeader("Origin"));
        }
        try {
            return AuctionId.fromSlug(request.getParam("slug"));
        } catch (IllegalArgumentException e) {
            throw new Refusal(400, e.getMessage());
        }
    }
}
