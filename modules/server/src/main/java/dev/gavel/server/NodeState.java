package dev.gavel.server;

/** Where a node is in its life; only a started node that is not stopping takes viewers. */
final class NodeState {

    private volatile boolean started;
    private volatile boolean stopping;

    void started() {
        started = true;
    }

    void stopping() {
        stopping = true;
    }

    boolean isServing() {
        return started && !stopping;
    }
}
