package dev.gavel.server.viewers.socketio;

import dev.gavel.core.testing.ManualTime;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EngineSessionTest {

    private static final long INTERVAL = 25_000;
    private static final long TIMEOUT = 20_000;
    private static final long UPGRADE_TIMEOUT = 10_000;
    private static final EngineSettings SETTINGS = new EngineSettings(INTERVAL, TIMEOUT, 4096, UPGRADE_TIMEOUT);
    /** Sessions ticked exactly at their deadlines, unless a test says otherwise. */
    private static final long NO_LEAD = 0;

    private final ManualTime clock = new ManualTime();
    private final List<String> messages = new ArrayList<>();
    private final List<String> closes = new ArrayList<>();
    private final EngineSession.Listener listener = new EngineSession.Listener() {
        @Override
        public void onMessage(String data) {
            messages.add(data);
        }

        @Override
        public void onClose(String reason) {
            closes.add(reason);
        }
    };

    /** A poll that remembers its answer. */
    private static final class HeldPoll implements EngineSession.Poll {
        String answer;
        int answers;

        @Override
        public void answer(String payload) {
            answer = payload;
            answers++;
        }
    }

    /** A WebSocket that remembers what it was sent and how it was closed. */
    private static final class RecordingSocket implements EngineSession.Socket {
        final List<String> sent = new ArrayList<>();
        Short closedWith;

        @Override
        public void send(String packet) {
            sent.add(packet);
        }

        @Override
        public void close(short code, String reason) {
            closedWith = code;
        }
    }

    private EngineSession polling() {
        return EngineSession.overPolling("sid1", SETTINGS, clock, NO_LEAD, listener);
    }

    private EngineSession overWebSocket(RecordingSocket ws) {
        return EngineSession.overWebSocket("sid2", SETTINGS, clock, NO_LEAD, listener, ws);
    }

    @Test
    void theOpenPacketAnnouncesTheSessionAndItsParameters() {
        assertEquals("0{\"sid\":\"sid1\",\"upgrades\":[\"websocket\"],\"pingInterval\":25000,\"pingTimeout\":20000,"
                + "\"maxPayload\":4096}", polling().openPacket());
        RecordingSocket ws = new RecordingSocket();
        overWebSocket(ws);
        assertEquals(List.of("0{\"sid\":\"sid2\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,"
                + "\"maxPayload\":4096}"), ws.sent);
    }

    @Test
    void aPollIsHeldUntilThereIsSomethingToSend() {
        EngineSession session = polling();
        HeldPoll poll = new HeldPoll();
        assertEquals(EngineSession.Answer.OK, session.poll(poll));
        assertNull(poll.answer);
        session.send("40{\"sid\":\"x\"}");
        assertEquals("40{\"sid\":\"x\"}", poll.answer);
    }

    @Test
    void packetsWaitingForAPollGoInOneBodyInOrder() {
        EngineSession session = polling();
        session.send("41");
        session.send("42[\"a\",1]");
        HeldPoll poll = new HeldPoll();
        session.poll(poll);
        assertEquals("41\u001e42[\"a\",1]", poll.answer);
        HeldPoll next = new HeldPoll();
        session.poll(next);
        assertNull(next.answer);
    }

    @Test
    void aSecondConcurrentPollClosesTheSession() {
        EngineSession session = polling();
        HeldPoll first = new HeldPoll();
        session.poll(first);
        assertEquals(EngineSession.Answer.BAD_REQUEST, session.poll(new HeldPoll()));
        assertEquals("1", first.answer);
        assertEquals(List.of("overlapping polls"), closes);
        assertTrue(session.isClosed());
        assertEquals(EngineSession.Answer.BAD_REQUEST, session.poll(new HeldPoll()));
    }

    @Test
    void postedMessagesReachTheListenerInOrder() {
        EngineSession session = polling();
        assertEquals(EngineSession.Answer.OK, session.post("40\u001e42[\"heartbeat\"]"));
        assertEquals(List.of("0", "2[\"heartbeat\"]"), messages);
    }

    @Test
    void aBadPacketClosesTheSession() {
        EngineSession session = polling();
        HeldPoll poll = new HeldPoll();
        session.poll(poll);
        assertEquals(EngineSession.Answer.BAD_REQUEST, session.post("abc"));
        assertTrue(session.isClosed());
        assertEquals("1", poll.answer);
        assertEquals(1, closes.size());
    }

    @Test
    void aClientMayNotPingOrOpen() {
        EngineSession session = polling();
        assertEquals(EngineSession.Answer.BAD_REQUEST, session.post("2"));
        assertTrue(session.isClosed());
        EngineSession other = polling();
        assertEquals(EngineSession.Answer.BAD_REQUEST, other.post("0"));
        assertTrue(other.isClosed());
    }

    @Test
    void theServerPingsAfterTheIntervalAndAPongKeepsTheSession() {
        EngineSession session = polling();
        HeldPoll poll = new HeldPoll();
        session.poll(poll);
        assertEquals(clock.millis() + INTERVAL, session.nextDeadline());
        clock.advance(INTERVAL - 1);
        session.tick();
        assertNull(poll.answer);
        clock.advance(1);
        session.tick();
        assertEquals("2", poll.answer);
        assertEquals(clock.millis() + TIMEOUT, session.nextDeadline());
        clock.advance(TIMEOUT - 1);
        session.post("3");
        assertEquals(clock.millis() + INTERVAL, session.nextDeadline());
        clock.advance(INTERVAL);
        session.tick();
        assertFalse(session.isClosed());
        assertEquals(List.of(), closes);
    }

    @Test
    void aClientThatStopsPollingIsGoneAfterIntervalPlusTimeout() {
        EngineSession session = polling();
        clock.advance(INTERVAL);
        session.tick();
        clock.advance(TIMEOUT - 1);
        session.tick();
        assertFalse(session.isClosed());
        clock.advance(1);
        session.tick();
        assertEquals(List.of("ping timeout"), closes);
        assertEquals(Long.MAX_VALUE, session.nextDeadline());
    }

    /** Why the ticker is told after what a client sends, and not only after a tick (SessionTicker#rescheduled). */
    @Test
    void aPongBringsTheNextDeadlineCloserWhenTheTimeoutIsLongerThanTheInterval() {
        EngineSettings settings = new EngineSettings(5_000, 20_000, 4096, UPGRADE_TIMEOUT);
        RecordingSocket ws = new RecordingSocket();
        EngineSession session = EngineSession.overWebSocket("sid3", settings, clock, NO_LEAD, listener, ws);
        clock.advance(5_000);
        session.tick();
        assertEquals("2", ws.sent.get(ws.sent.size() - 1));
        assertEquals(clock.millis() + 20_000, session.nextDeadline(), "the pong is due");
        clock.advance(100);
        session.socketMessage(ws, "3");
        assertEquals(clock.millis() + 5_000, session.nextDeadline(), "the next ping: 15 s before the pong's deadline");
    }

    @Test
    void aPollAtIntervalPlusTimeoutFindsTheSessionGoneBeforeTheNextTick() {
        long lead = SessionTicker.PING_LEAD_MILLIS;
        EngineSession session = EngineSession.overPolling("sid1", SETTINGS, clock, lead, listener);
        clock.advance(INTERVAL - lead);
        session.tick();
        clock.advance(lead + TIMEOUT);
        HeldPoll poll = new HeldPoll();
        assertEquals(EngineSession.Answer.BAD_REQUEST, session.poll(poll));
        assertNull(poll.answer);
        assertEquals(List.of("ping timeout"), closes);
        assertFalse(session.owesPoll(), "its next request finds the session unknown");
    }

    @Test
    void aPollJustBeforeTheDeadlineGetsThePing() {
        long lead = SessionTicker.PING_LEAD_MILLIS;
        EngineSession session = EngineSession.overPolling("sid1", SETTINGS, clock, lead, listener);
        clock.advance(INTERVAL - lead);
        session.tick();
        clock.advance(lead + TIMEOUT - 1);
        HeldPoll poll = new HeldPoll();
        assertEquals(EngineSession.Answer.OK, session.poll(poll));
        assertEquals("2", poll.answer);
        assertEquals(EngineSession.Answer.OK, session.post("3"));
        assertFalse(session.isClosed());
        assertEquals(clock.millis() + INTERVAL - lead, session.nextDeadline());
    }

    @Test
    void aPongPostedAtTheDeadlineIsTooLate() {
        EngineSession session = polling();
        clock.advance(INTERVAL);
        session.tick();
        clock.advance(TIMEOUT);
        assertEquals(EngineSession.Answer.BAD_REQUEST, session.post("3"));
        assertEquals(List.of("ping timeout"), closes);
    }

    @Test
    void aWebSocketMessageAtTheDeadlineClosesTheSessionUnread() {
        RecordingSocket ws = new RecordingSocket();
        EngineSession session = overWebSocket(ws);
        clock.advance(INTERVAL);
        session.tick();
        clock.advance(TIMEOUT);
        session.socketMessage(ws, "42[\"heartbeat\"]");
        assertEquals(List.of(), messages);
        assertEquals(EngineSession.NORMAL_CLOSURE, ws.closedWith);
        assertEquals(List.of("ping timeout"), closes);
    }

    @Test
    void aPingGoesOutUpToTheLeadEarlyAndItsPongIsDueTimeoutAfterThePingWasDue() {
        long lead = SessionTicker.PING_LEAD_MILLIS;
        long due = clock.millis() + INTERVAL;
        EngineSession session = EngineSession.overPolling("sid1", SETTINGS, clock, lead, listener);
        HeldPoll poll = new HeldPoll();
        session.poll(poll);
        assertEquals(due - lead, session.nextDeadline());
        clock.advance(INTERVAL - lead - 1);
        session.tick();
        assertNull(poll.answer);
        clock.advance(1);
        session.tick();
        assertEquals("2", poll.answer, "the ping, early: the client has more than pingTimeout to answer");
        assertEquals(due + TIMEOUT, session.nextDeadline());
        clock.advance(lead + TIMEOUT - 1);
        session.tick();
        assertFalse(session.isClosed());
        clock.advance(1);
        session.tick();
        assertEquals(List.of("ping timeout"), closes);
    }

    @Test
    void aPingThatABusyLoopSentLateLeavesTheClientAllOfPingTimeout() {
        EngineSession session = EngineSession.overPolling("sid1", SETTINGS, clock, SessionTicker.PING_LEAD_MILLIS, listener);
        clock.advance(INTERVAL + 700);
        session.tick();
        assertEquals(clock.millis() + TIMEOUT, session.nextDeadline());
        HeldPoll poll = new HeldPoll();
        session.poll(poll);
        assertEquals("2", poll.answer);
        clock.advance(TIMEOUT - 1);
        assertEquals(EngineSession.Answer.OK, session.post("3"));
        assertFalse(session.isClosed());
    }

    @Test
    void aRequestThatFindsThePingUnsentGetsItAndAllOfPingTimeout() {
        EngineSession session = EngineSession.overPolling("sid1", SETTINGS, clock, SessionTicker.PING_LEAD_MILLIS, listener);
        clock.advance(INTERVAL + TIMEOUT + 50);
        HeldPoll poll = new HeldPoll();
        assertEquals(EngineSession.Answer.OK, session.poll(poll), "no tick came: the client is not to blame");
        assertEquals("2", poll.answer);
        assertEquals(clock.millis() + TIMEOUT, session.nextDeadline());
    }

    @Test
    void aPingNeverGoesOutEarlierThanHalfTheInterval() {
        EngineSettings shortInterval = new EngineSettings(300, 200, 4096, UPGRADE_TIMEOUT);
        EngineSession session = EngineSession.overPolling("sid1", shortInterval, clock, 1000, listener);
        assertEquals(clock.millis() + 150, session.nextDeadline());
    }

    @Test
    void upgradeProbeNoopAndFlush() {
        EngineSession session = polling();
        HeldPoll held = new HeldPoll();
        session.poll(held);
        RecordingSocket ws = new RecordingSocket();
        assertTrue(session.canUpgrade());
        session.probe(ws);
        assertFalse(session.canUpgrade());

        session.socketMessage(ws, "2probe");
        assertEquals(List.of("3probe"), ws.sent);
        assertEquals("6", held.answer, "the held poll is released with a noop");

        HeldPoll late = new HeldPoll();
        session.poll(late);
        assertEquals("6", late.answer, "a poll during the upgrade ends at once");

        session.send("42[\"during\",1]");
        session.socketMessage(ws, "5");
        assertFalse(session.isPolling());
        session.send("42[\"after\",2]");
        assertEquals(List.of("3probe", "42[\"during\",1]", "42[\"after\",2]"), ws.sent);

        assertEquals(EngineSession.Answer.BAD_REQUEST, session.poll(new HeldPoll()));
        assertEquals(EngineSession.Answer.BAD_REQUEST, session.post("3"));
        assertFalse(session.isClosed());

        session.socketMessage(ws, "42[\"heartbeat\"]");
        assertEquals(List.of("2[\"heartbeat\"]"), messages);
    }

    @Test
    void aProbeThatDoesNotFinishIsDroppedAndPollingGoesOn() {
        EngineSession session = polling();
        RecordingSocket ws = new RecordingSocket();
        session.probe(ws);
        assertEquals(clock.millis() + UPGRADE_TIMEOUT, session.nextDeadline());
        clock.advance(UPGRADE_TIMEOUT);
        session.tick();
        assertEquals(EngineSession.PROTOCOL_ERROR, ws.closedWith);
        assertTrue(session.isPolling());
        assertTrue(session.canUpgrade());
        assertFalse(session.isClosed());
    }

    @Test
    void aBadPacketOnAProbeDropsOnlyTheProbe() {
        EngineSession session = polling();
        RecordingSocket ws = new RecordingSocket();
        session.probe(ws);
        session.socketMessage(ws, "5");
        assertEquals(EngineSession.PROTOCOL_ERROR, ws.closedWith);
        assertFalse(session.isClosed());
        HeldPoll poll = new HeldPoll();
        session.poll(poll);
        session.send("42[\"x\",1]");
        assertEquals("42[\"x\",1]", poll.answer);
    }

    @Test
    void aSecondProbeIsRefused() {
        EngineSession session = polling();
        RecordingSocket first = new RecordingSocket();
        RecordingSocket second = new RecordingSocket();
        session.probe(first);
        session.probe(second);
        assertEquals(EngineSession.PROTOCOL_ERROR, second.closedWith);
        assertNull(first.closedWith);
    }

    @Test
    void aWebSocketWithTheSidAfterTheUpgradeIsClosedAndTheSessionCarriesOn() {
        EngineSession session = polling();
        RecordingSocket upgraded = new RecordingSocket();
        session.probe(upgraded);
        session.socketMessage(upgraded, "2probe");
        session.socketMessage(upgraded, "5");
        RecordingSocket again = new RecordingSocket();
        session.probe(again);
        assertEquals(EngineSession.PROTOCOL_ERROR, again.closedWith);
        session.socketMessage(again, "2probe");
        assertEquals(List.of(), again.sent, "the closed WebSocket is not answered");
        session.socketClosed(again);
        assertFalse(session.isClosed());
        session.send("42[\"x\",1]");
        assertEquals(List.of("3probe", "42[\"x\",1]"), upgraded.sent);
        assertNull(upgraded.closedWith);
    }

    @Test
    void aWebSocketWithTheSidOfAnEndedSessionIsClosed() {
        EngineSession session = polling();
        session.close((short) 1012, "server stopping");
        RecordingSocket late = new RecordingSocket();
        session.probe(late);
        assertEquals(EngineSession.PROTOCOL_ERROR, late.closedWith);
    }

    @Test
    void theClientClosingEndsTheSessionOnce() {
        EngineSession session = polling();
        HeldPoll poll = new HeldPoll();
        session.poll(poll);
        assertEquals(EngineSession.Answer.OK, session.post("1"));
        assertEquals("6", poll.answer);
        assertFalse(session.owesPoll());
        assertEquals(EngineSession.Answer.BAD_REQUEST, session.poll(new HeldPoll()), "then the sid is gone");
        session.close(EngineSession.NORMAL_CLOSURE, "again");
        assertEquals(List.of("closed by the client"), closes);
    }

    @Test
    void theClientClosingWithItsPollStillOnTheWayHasThatPollAnsweredWithANoop() {
        EngineSession session = polling();
        assertEquals(EngineSession.Answer.OK, session.post("1"));
        assertEquals(List.of("closed by the client"), closes);
        assertTrue(session.owesPoll());
        HeldPoll late = new HeldPoll();
        assertEquals(EngineSession.Answer.OK, session.poll(late));
        assertEquals("6", late.answer);
        assertFalse(session.owesPoll());
        assertEquals(EngineSession.Answer.BAD_REQUEST, session.poll(new HeldPoll()), "then the sid is gone");
    }

    @Test
    void theClientClosingAWebSocketSessionOwesNoPoll() {
        RecordingSocket ws = new RecordingSocket();
        EngineSession session = overWebSocket(ws);
        session.socketMessage(ws, "1");
        assertEquals(EngineSession.NORMAL_CLOSURE, ws.closedWith);
        assertFalse(session.owesPoll());
        assertEquals(List.of("closed by the client"), closes);
    }

    @Test
    void theServerClosingAPollingSessionSendsClose() {
        EngineSession session = polling();
        session.send("42[\"x\",1]");
        HeldPoll poll = new HeldPoll();
        session.poll(poll);
        HeldPoll next = new HeldPoll();
        session.poll(next);
        session.close((short) 1012, "server stopping");
        assertEquals("1", next.answer);
        assertEquals(1, next.answers);
        session.send("42[\"late\",1]");
        assertEquals(1, next.answers);
        assertEquals(List.of("server stopping"), closes);
    }

    @Test
    void theServerClosingAWebSocketSessionUsesTheCode() {
        RecordingSocket ws = new RecordingSocket();
        EngineSession session = overWebSocket(ws);
        session.close((short) 1012, "server stopping");
        assertEquals((short) 1012, ws.closedWith);
        session.socketClosed(ws);
        assertEquals(List.of("server stopping"), closes);
    }

    @Test
    void theWebSocketGoingAwayEndsTheSession() {
        RecordingSocket ws = new RecordingSocket();
        EngineSession session = overWebSocket(ws);
        session.socketClosed(ws);
        assertEquals(List.of("transport close"), closes);
        session.send("42[\"late\",1]");
        assertEquals(1, ws.sent.size());
    }

    @Test
    void aHeldPollWhoseConnectionDiesEndsTheSession() {
        EngineSession session = polling();
        HeldPoll answered = new HeldPoll();
        session.poll(answered);
        session.send("40");
        session.pollAborted(answered);
        assertFalse(session.isClosed(), "an answered poll's connection may close at any time");
        HeldPoll held = new HeldPoll();
        session.poll(held);
        session.pollAborted(held);
        assertEquals(List.of("poll connection closed"), closes);
    }

    @Test
    void binaryOnTheWebSocketClosesTheSession() {
        RecordingSocket ws = new RecordingSocket();
        EngineSession session = overWebSocket(ws);
        session.socketBinary(ws);
        assertEquals(EngineSession.PROTOCOL_ERROR, ws.closedWith);
        assertTrue(session.isClosed());
    }

    @Test
    void aSessionClosedBetweenPollsTellsTheNextPoll() {
        EngineSession session = polling();
        session.close((short) 1012, "server stopping");
        assertTrue(session.owesPoll());
        assertEquals(List.of("server stopping"), closes);
        HeldPoll next = new HeldPoll();
        assertEquals(EngineSession.Answer.OK, session.poll(next));
        assertEquals("1", next.answer);
        assertFalse(session.owesPoll());
        assertEquals(EngineSession.Answer.BAD_REQUEST, session.poll(new HeldPoll()));
    }

    @Test
    void whatWasSentJustBeforeAServerCloseBetweenPollsReachesTheNextPollBeforeTheClose() {
        EngineSession session = polling();
        session.send(SocketIoSocket.DISCONNECT);
        session.close(EngineSession.NORMAL_CLOSURE, "auction closed");
        HeldPoll next = new HeldPoll();
        assertEquals(EngineSession.Answer.OK, session.poll(next));
        assertEquals("41\u001e1", next.answer);
    }

    @Test
    void aSessionFailedBetweenPollsIsUnknownToTheNextPoll() {
        EngineSession session = polling();
        session.fail(EngineSession.PROTOCOL_ERROR, "bad packet");
        assertFalse(session.owesPoll());
        assertEquals(EngineSession.Answer.BAD_REQUEST, session.poll(new HeldPoll()));
    }
}
