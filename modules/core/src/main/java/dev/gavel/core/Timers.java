package dev.gavel.core;

import io.vertx.core.Vertx;

/**
 * One-shot timers on the caller's thread. Injected, with a {@link java.time.Clock}, into the classes whose
 * logic depends on time, so that their unit tests move a manual clock and fire timers by hand instead of
 * sleeping.
 */
public interface Timers {

    /** Runs {@code task} once, {@code delayMillis} from now (at least 1 ms), on the thread that scheduled it. */
    long schedule(long delayMillis, Runnable task);

    /** Cancels a timer that has not fired; unknown ids are ignored. */
    void cancel(long id);

    /** Vert.x timers: a task runs on the context that scheduled it. */
    static Timers of(Vertx vertx) {
        return new Timers() {
            @Override
            public long schedule(long delayMillis, Runnable task) {
                return vertx.setTimer(Math.max(1, delayMillis), id -> task.run());
            }

            @Override
            public void cancel(long id) {
                vertx.cancelTimer(id);
            }
        };
    }
}
