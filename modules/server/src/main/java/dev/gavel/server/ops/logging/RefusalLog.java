package dev.gavel.server.ops.logging;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The node's one guard against log floods: every path that refuses bad input (a bad request line, a missing
 * {@code Host}, a malformed body, a frame a viewer may not send, a connection that never finished its request)
 * logs here, by class, and counts in {@code gavel_refusals_total}. Logs refused requests by class, not one by one, so that a flood of refusals cannot become a flood of log lines:
 * the first refusal of a class is logged at once, and the ones after it as one line per class per
 * {@value #INTERVAL_SECONDS} s ("Refused 1234 more in the last 10 s: origin not allowed (403)") for as long as they
 * go on. Safe to call from any thread, at any rate: a call counts and returns.
 */
public final class RefusalLog {

    static final long INTERVAL_SECONDS = 10;
    /** Reasons are meant to be a fixed set; past this many at once, new ones are counted together. */
    static final int MAX_REASONS = 64;
    static final String OTHER = "other reasons";

    private static final Logger LOG = LoggerFactory.getLogger(RefusalLog.class);
    private static final ScheduledExecutorService SUMMARIES = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread thread = new Thread(r, "gavel-refusal-log");
        thread.setDaemon(true);
        return thread;
    });
    /** Refusals since the last line, by reason, for the reasons that were refused within the last interval. */
    private static final Map<String, Long> PENDING = new ConcurrentHashMap<>();

    private RefusalLog() {
    }

    /**
     * Counts one refusal.
     *
     * @param reason the class of refusal, from a small fixed set, ending with the status when there is one:
     *               {@code "origin not allowed (403)"}; never a client's input (it becomes a map key and a log line)
     * @return true when this refusal was logged (the first of its class in a while): a caller that has more to say
     *         about it, such as a stack trace, says it then and only then
     */
    public static boolean refused(String reason) {
        String key = PENDING.size() >= MAX_REASONS && !PENDING.containsKey(reason) ? OTHER : reason;
        boolean[] first = {false};
        PENDING.compute(key, (k, count) -> {
            first[0] = count == null;
            return count == null ? 0L : count + 1;
        });
        if (first[0]) {
            LOG.info("Refused: {} (more of the same are counted and logged every {} s)", key, INTERVAL_SECONDS);
            SUMMARIES.schedule(() -> summarize(key), INTERVAL_SECONDS, TimeUnit.SECONDS);
        }
        return first[0];
    }

    /** Logs what was refused for {@code key} in the interval just ended; ends the interval's series when nothing was. */
    private static void summarize(String key) {
        long[] refused = {0};
        PENDING.computeIfPresent(key, (k, count) -> {
            refused[0] = count;
            return count == 0 ? null : 0L;
        });
        if (refused[0] > 0) {
            LOG.info("Refused {} more in the last {} s: {}", refused[0], INTERVAL_SECONDS, key);
            SUMMARIES.schedule(() -> summarize(key), INTERVAL_SECONDS, TimeUnit.SECONDS);
        }
    }
}
