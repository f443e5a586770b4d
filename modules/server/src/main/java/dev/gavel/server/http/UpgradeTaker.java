package dev.gavel.server.http;

/**
 * Takes viewers' WebSocket upgrades off Vert.x's path, at the Netty level ({@link HttpConnectionGuard}): a viewer's
 * connection then never gets Vert.x's request, response, routing context or WebSocket objects, which cost more than
 * the viewer itself (see docs/benchmarks.md, "Admission before Vert.x"). Called on the connection's event loop.
 */
public interface UpgradeTaker {

    /** True when this takes the upgrade (a viewer path); false leaves it to Vert.x's routes. */
    boolean takes(UpgradeRequest upgrade);

    /** Answers the upgrade, at once or later: a refusal, or the handshake ({@link UpgradeRequest#accept}). */
    void take(UpgradeRequest upgrade);
}
