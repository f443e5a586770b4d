package dev.gavel.testkit;

import org.awaitility.core.ConditionTimeoutException;

/** Waits on a plain {@link TestViewer}'s count, and says what it got when the wait fails. */
final class PlainCounts {

    private PlainCounts() {
    }

    static void await(TestViewer viewer, long current, long peak, Object... others) {
        try {
            viewer.awaitCount(current, peak);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("plain viewer waited for " + current + "/" + peak + " but got " + viewer.frames()
                    + (others.length == 0 ? "" : "; others: " + java.util.Arrays.toString(others)), e);
        }
    }
}
