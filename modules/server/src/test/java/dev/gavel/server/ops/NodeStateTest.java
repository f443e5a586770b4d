package dev.gavel.server.ops;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class NodeStateTest {

    private static final long MS = 1_000_000;

    /** The monotonic clock and the JVM's collection pauses so far, as the node would read them. */
    private final AtomicLong now = new AtomicLong(1_000 * MS);
    private final AtomicLong paused = new AtomicLong();
    private final AtomicInteger viewers = new AtomicInteger();
    private final NodeState state = new NodeState(100, 2, viewers::get, () -> now.get() - paused.get());

    @Test
    void aNodeTakesViewersOnlyWhileServing() {
        assertEquals("not_serving", state.whyNoViewers().reason());
        state.started();
        assertNull(state.whyNoViewers());
        state.stopping();
        assertEquals("not_serving", state.whyNoViewers().reason());
    }

    @Test
    void aFullNodeRefuses() {
        state.started();
        viewers.set(100);
        assertEquals("full", state.whyNoViewers().reason());
        viewers.set(99);
        assertNull(state.whyNoViewers());
    }

    @Test
    void aLoopThatHasNotTurnedForTwoSecondsMakesTheNodeOverloaded() {
        state.started();
        for (int t = 0; t < 25; t++) {
            now.addAndGet(NodeState.TICK_MILLIS * MS);
            state.ticked(0);
        }
        assertEquals("overloaded", state.whyNoViewers().reason(), "loop 1 has not turned for 2.5 s");
        state.ticked(1);
        assertNull(state.whyNoViewers());
    }

    @Test
    void aLoopTurningLateButWithinTheLimitIsNotOverloaded() {
        state.started();
        now.addAndGet(2_000 * MS);
        assertNull(state.whyNoViewers());
    }

    @Test
    void aCollectionPauseIsNotALoopsLag() {
        state.started();
        now.addAndGet(2_500 * MS);
        paused.addAndGet(2_400 * MS);
        assertNull(state.whyNoViewers(), "2.4 of the 2.5 s were a collection that stopped every thread");
        now.addAndGet(2_100 * MS);
        assertEquals("overloaded", state.whyNoViewers().reason(), "2.2 s of the loops' own time since they turned");
    }
}
