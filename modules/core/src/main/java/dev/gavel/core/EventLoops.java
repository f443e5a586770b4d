package dev.gavel.core;

import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;

/**
 * Which event loop code runs on, written once. Vert.x runs each connection and request on a duplicate of its server's
 * context; Gavel keeps what belongs to an event loop (a loop's rooms of viewers, the Socket.IO and SockJS sessions
 * that live on it) with the context underneath, one per loop. Only Vert.x's internal API names that context
 * ({@code ContextInternal.unwrap}), so this class is the one place that uses it: a Vert.x upgrade that changes it
 * changes this file only.
 */
public final class EventLoops {

    private EventLoops() {
    }

    /** The event loop's own context under {@code context} (itself when it is not a duplicate); null for null. */
    public static Context loopOf(Context context) {
        return context instanceof ContextInternal internal ? internal.unwrap() : context;
    }

    /** The loop context of the calling thread, or null when it runs on no Vert.x context. */
    public static Context current() {
        return loopOf(Vertx.currentContext());
    }

    /** The loop context of the calling thread, or one that {@code vertx} assigns when it runs on none. */
    public static Context here(Vertx vertx) {
        return loopOf(vertx.getOrCreateContext());
    }

    /** Whether the calling thread runs on {@code loop} (or on a duplicate of it). */
    public static boolean isOn(Context loop) {
        return loop != null && current() == loop;
    }

    /** Runs {@code action} at once when called on {@code loop}, else hands it to the loop. */
    public static void onLoop(Context loop, Runnable action) {
        if (isOn(loop)) {
            action.run();
        } else {
            loop.runOnContext(v -> action.run());
        }
    }

    /**
     * Calls {@code handler} now, on the calling thread, with {@code loop} as the current context: for handlers that
     * Netty calls on the loop's thread outside any Vert.x task, so that what they call sees the context they expect
     * (and an exception goes to the context's handler).
     */
    public static <T> void dispatch(Context loop, T argument, Handler<T> handler) {
        ((ContextInternal) loop).dispatch(argument, handler);
    }
}
