package dev.gavel.core.audience;

import io.netty.channel.EventLoop;
import io.netty.util.concurrent.EventExecutor;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Runs test code on Vert.x contexts and waits for it; waits until what was queued on them has run. No sleeping. */
final class OnContexts {

    /** Enough turns for the longest chain of hand-overs between contexts in these tests (broker, feed, loop). */
    private static final int ROUNDS = 8;

    private final List<Context> contexts;

    OnContexts(Context... contexts) {
        this.contexts = List.of(contexts);
    }

    /**
     * One context on each of {@code vertx}'s event loops, in order (contexts made from a test's thread would all share
     * one event loop): a server's loops, each on a thread of its own.
     */
    static List<Context> onEachEventLoop(Vertx vertx) {
        List<Context> made = new ArrayList<>();
        VertxInternal internal = (VertxInternal) vertx;
        for (EventExecutor eventLoop : internal.nettyEventLoopGroup()) {
            made.add(internal.contextBuilder().withEventLoop((EventLoop) eventLoop).build());
        }
        return made;
    }

    /** Runs {@code action} on {@code context} and waits for it. */
    static void run(Context context, Runnable action) {
        get(context, () -> {
            action.run();
            return null;
        });
    }

    /** Runs {@code action} on {@code context} and returns what it returns. */
    static <T> T get(Context context, Supplier<T> action) {
        CompletableFuture<T> result = new CompletableFuture<>();
        context.runOnContext(v -> {
            try {
                result.complete(action.get());
            } catch (Throwable e) {
                result.completeExceptionally(e);
            }
        });
        try {
            return result.get(5, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(e.getCause());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Waits until everything queued on the contexts so far has run, and what that queued in turn, a few hand-overs
     * deep: a turn on each context runs after all that was queued on it before.
     */
    void drain() {
        for (int i = 0; i < ROUNDS; i++) {
            for (Context context : contexts) {
                run(context, () -> { });
            }
        }
    }
}
