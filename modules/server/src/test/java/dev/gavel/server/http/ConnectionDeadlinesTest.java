package dev.gavel.server.http;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The timing rules of a connection that is not a viewer, on a clock that the test moves. */
class ConnectionDeadlinesTest {

    private static final long HEADER = 2_000;
    private static final long IDLE = 60_000;

    @Test
    void aConnectionThatSendsNothingIsClosedAtTheHeaderTimeoutOfItsAccept() {
        ConnectionDeadlines deadlines = new ConnectionDeadlines(HEADER, IDLE, 1_000);
        assertEquals(3_000, deadlines.deadline());
        assertNull(deadlines.expired(2_999));
        assertEquals(ConnectionDeadlines.Expiry.HEADER, deadlines.expired(3_000));
    }

    @Test
    void aHeadSentOneByteAtATimeGetsNoMoreTimeForEachByte() {
        ConnectionDeadlines deadlines = new ConnectionDeadlines(HEADER, IDLE, 0);
        for (long now = 0; now < HEADER; now += 500) {
            deadlines.bytesArrived(now);
            assertEquals(HEADER, deadlines.deadline());
        }
        assertEquals(ConnectionDeadlines.Expiry.HEADER, deadlines.expired(HEADER));
    }

    @Test
    void nothingIsTimedWhileARequestIsInProgressHoweverLongItsAnswerTakes() {
        ConnectionDeadlines deadlines = new ConnectionDeadlines(HEADER, IDLE, 0);
        deadlines.bytesArrived(10);
        deadlines.requestStarted();
        assertEquals(ConnectionDeadlines.NONE, deadlines.deadline());
        deadlines.bytesArrived(5_000);
        assertNull(deadlines.expired(1_000_000));
    }

    @Test
    void afterItsAnswerAKeptAliveConnectionWaitsTheIdleTimeoutThenItsNextHeadTheHeaderTimeout() {
        ConnectionDeadlines deadlines = new ConnectionDeadlines(HEADER, IDLE, 0);
        deadlines.requestStarted();
        deadlines.responseEnded(1_000);
        assertEquals(1_000 + IDLE, deadlines.deadline());
        assertNull(deadlines.expired(1_000 + IDLE - 1));
        assertEquals(ConnectionDeadlines.Expiry.IDLE, deadlines.expired(1_000 + IDLE));

        deadlines.bytesArrived(30_000);
        assertEquals(30_000 + HEADER, deadlines.deadline());
        deadlines.bytesArrived(31_000);
        assertEquals(30_000 + HEADER, deadlines.deadline(), "more bytes of the same head move nothing");
        assertEquals(ConnectionDeadlines.Expiry.HEADER, deadlines.expired(30_000 + HEADER));
    }

    @Test
    void pipelinedRequestsAreInProgressUntilTheLastAnswerEnds() {
        ConnectionDeadlines deadlines = new ConnectionDeadlines(HEADER, IDLE, 0);
        deadlines.requestStarted();
        deadlines.requestStarted();
        deadlines.requestStarted();
        deadlines.responseEnded(100);
        deadlines.responseEnded(200);
        assertEquals(ConnectionDeadlines.NONE, deadlines.deadline());
        deadlines.responseEnded(300);
        assertEquals(300 + IDLE, deadlines.deadline());
        deadlines.responseEnded(400);
        assertEquals(400 + IDLE, deadlines.deadline(), "an answer with no request of its own (an early refusal) counts none below 0");
    }

    @Test
    void anUpgradedConnectionIsNeverTimedAgain() {
        ConnectionDeadlines deadlines = new ConnectionDeadlines(HEADER, IDLE, 0);
        deadlines.requestStarted();
        deadlines.upgraded();
        deadlines.responseEnded(100);
        deadlines.bytesArrived(200);
        assertEquals(ConnectionDeadlines.NONE, deadlines.deadline());
        assertNull(deadlines.expired(Long.MAX_VALUE - 1));
    }

    @Test
    void answersLeftUnreadForTheIdleTimeoutCloseTheConnectionWhateverItIsDoing() {
        ConnectionDeadlines deadlines = new ConnectionDeadlines(HEADER, IDLE, 0);
        deadlines.requestStarted();
        deadlines.unread(1_000);
        deadlines.unread(5_000);
        assertEquals(1_000 + IDLE, deadlines.deadline(), "from when it stopped reading");
        assertNull(deadlines.expired(1_000 + IDLE - 1));
        assertEquals(ConnectionDeadlines.Expiry.UNREAD, deadlines.expired(1_000 + IDLE));

        deadlines.read();
        assertEquals(ConnectionDeadlines.NONE, deadlines.deadline(), "reading again: a request in progress is not timed");
        deadlines.unread(100_000);
        deadlines.upgraded();
        assertNull(deadlines.expired(Long.MAX_VALUE - 1), "a viewer's slow reading is its pings' and its bound's business");
    }
}
