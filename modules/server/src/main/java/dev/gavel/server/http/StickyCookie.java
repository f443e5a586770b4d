package dev.gavel.server.http;

import io.vertx.core.http.Cookie;
import io.vertx.core.http.CookieSameSite;

/**
 * The cookie {@code GAVEL_NODE=<nodeId>} that a node sets when it opens a session that spans several HTTP
 * requests (Socket.IO long-polling, SockJS's HTTP transports). Such a session lives in one replica's memory,
 * so a load balancer in front of several replicas must send all of its requests to the same one; hashing on
 * this cookie does that (see docs/clients.md). A WebSocket is one connection and needs no such help.
 */
public final class StickyCookie {

    public static final String NAME = "GAVEL_NODE";

    private StickyCookie() {
    }

    public static Cookie forNode(String nodeId) {
        return Cookie.cookie(NAME, nodeId).setPath("/").setHttpOnly(true).setSameSite(CookieSameSite.LAX);
    }
}
