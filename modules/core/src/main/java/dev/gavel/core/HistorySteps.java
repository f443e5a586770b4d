package dev.gavel.core;

import java.util.ArrayList;
import java.util.List;

/**
 * The audience history as it is stored: a step function of the announced count, one step per interval in which the
 * count changed, so nothing is written while nothing changes. {@link #samples} turns it into one sample per interval.
 */
public final class HistorySteps {

    private HistorySteps() {
    }

    /**
     * One interval in which the count changed.
     *
     * @param startMillis the interval's start
     * @param shown       the interval's sample: the highest count it had, at its start or after a change in it
     * @param end         the count at the interval's end, which the intervals after it keep until the next step
     */
    public record Step(long startMillis, long shown, long end) {
    }

    /** The first interval (its start) that the history still holds at {@code nowMillis}. */
    public static long firstKept(long nowMillis, long intervalMillis, long retentionMillis) {
        return Math.floorDiv(nowMillis, intervalMillis) * intervalMillis - retentionMillis;
    }

    /**
     * The samples of the intervals that start in {@code [fromMillis, toMillis]}, oldest first: an interval with a step
     * has its {@code shown}, one without has the {@code end} of the step before it, and none while that is 0.
     *
     * @param steps oldest first; the step before {@code fromMillis} that later intervals take their count from included
     */
    public static List<HistorySample> samples(List<Step> steps, long intervalMillis, long fromMillis, long toMillis) {
        List<HistorySample> samples = new ArrayList<>();
        for (int i = 0; i < steps.size(); i++) {
            Step step = steps.get(i);
            if (step.startMillis() > toMillis) {
                break;
            }
            if (step.startMillis() >= fromMillis && step.shown() > 0) {
                samples.add(new HistorySample(step.startMillis(), step.shown()));
            }
            if (step.end() <= 0) {
                continue;
            }
            long until = i + 1 < steps.size() ? Math.min(toMillis, steps.get(i + 1).startMillis() - 1) : toMillis;
            long first = step.startMillis() + intervalMillis;
            if (first < fromMillis) {
                first += Math.floorDiv(fromMillis - first + intervalMillis - 1, intervalMillis) * intervalMillis;
            }
            for (long start = first; start <= until; start += intervalMillis) {
                samples.add(new HistorySample(start, step.end()));
            }
        }
        return samples;
    }
}
