package dev.gavel.server.viewers.socketio;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class SessionTickerTest {

    private final SessionTicker ticker = new SessionTicker();
    private final List<String> ticked = new ArrayList<>();

    /** A session due at {@code deadline}; its tick moves it on by {@code every} ms, or ends it. */
    private final class Session implements SessionTicker.Ticked {
        final String name;
        long deadline;
        final long every;
        boolean endOnTick;
        int slot = -1;

        Session(String name, long deadline, long every) {
            this.name = name;
            this.deadline = deadline;
            this.every = every;
        }

        @Override
        public long nextDeadline() {
            return deadline;
        }

        @Override
        public void tick() {
            ticked.add(name);
            if (endOnTick) {
                ticker.remove(this);
            } else {
                deadline += every;
            }
        }

        @Override
        public int tickerSlot() {
            return slot;
        }

        @Override
        public void tickerSlot(int slot) {
            this.slot = slot;
        }
    }

    @Test
    void onlyDueSessionsAreTicked() {
        ticker.add(new Session("a", 1_000, 25_000));
        ticker.add(new Session("b", 2_000, 25_000));
        ticker.tick(900);
        assertEquals(List.of(), ticked);
        ticker.tick(1_000);
        assertEquals(List.of("a"), ticked);
        ticker.tick(2_000);
        assertEquals(List.of("a", "b"), ticked, "a is next due at 26,000");
    }

    @Test
    void aRescheduledSessionIsDueWhenItNowSays() {
        Session a = new Session("a", 1_000, 25_000);
        Session b = new Session("b", 25_000, 25_000);
        ticker.add(a);
        ticker.add(b);
        a.deadline = 5_000; // a pong came: the next ping is later
        ticker.rescheduled(a);
        b.deadline = 10_000; // an upgrade started: its deadline comes before the next ping
        ticker.rescheduled(b);
        ticker.tick(4_999);
        assertEquals(List.of(), ticked);
        ticker.tick(5_000);
        assertEquals(List.of("a"), ticked);
        ticker.tick(10_000);
        assertEquals(List.of("a", "b"), ticked);
    }

    @Test
    void aSessionIsDueWhenItSaidAtItsLastTickUntilRescheduled() {
        Session a = new Session("a", 25_000, 25_000);
        ticker.add(a);
        a.deadline = 10_000;
        ticker.tick(10_000);
        assertEquals(List.of(), ticked, "the ticker reads due times it was given, not the session");
        ticker.rescheduled(a);
        ticker.tick(10_000);
        assertEquals(List.of("a"), ticked);
    }

    @Test
    void aSessionEndingInItsTickLeavesItsSlotToTheLastWhichIsStillTicked() {
        List<Session> sessions = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            Session s = new Session("s" + i, 1_000, 25_000);
            s.endOnTick = i % 2 == 0;
            sessions.add(s);
            ticker.add(s);
        }
        ticker.tick(1_000);
        assertEquals(200, ticked.size(), "every session ticked once: " + ticked);
        assertEquals(200, ticked.stream().distinct().count());
        ticked.clear();
        ticker.tick(26_000);
        assertEquals(100, ticked.size(), "the 100 left: " + ticked);
        for (Session s : sessions) {
            assertEquals(s.endOnTick, s.slot == -1, s.name);
        }
    }

    @Test
    void aRemovedSessionIsNotTickedAndTheOthersKeepTheirDeadlines() {
        Session a = new Session("a", 1_000, 25_000);
        Session b = new Session("b", 3_000, 25_000);
        Session c = new Session("c", 2_000, 25_000);
        ticker.add(a);
        ticker.add(b);
        ticker.add(c);
        ticker.remove(a);
        ticker.tick(2_000);
        assertEquals(List.of("c"), ticked);
        ticker.tick(3_000);
        assertEquals(List.of("c", "b"), ticked);
        assertEquals(-1, a.slot);
    }
}
