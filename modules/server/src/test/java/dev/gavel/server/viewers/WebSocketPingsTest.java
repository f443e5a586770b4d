package dev.gavel.server.viewers;

import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket13FrameDecoder;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WebSocketPingsTest {

    private static final long INTERVAL = 1000;
    /** Connections are watched at time 0: their first ping is due at {@link #INTERVAL}. */
    private final WebSocketPings pings = new WebSocketPings(INTERVAL, Clock.fixed(Instant.EPOCH, ZoneOffset.UTC));

    /** A WebSocket channel as the server has it after the upgrade: the frame decoder, then whoever takes frames. */
    private EmbeddedChannel webSocket(List<Object> received) {
        EmbeddedChannel channel = new EmbeddedChannel(new WebSocket13FrameDecoder(false, true, 65536),
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelRead(io.netty.channel.ChannelHandlerContext ctx, Object msg) {
                        received.add(msg);
                    }
                });
        pings.watch(channel);
        return channel;
    }

    private static boolean pinged(EmbeddedChannel channel) {
        Object out = channel.readOutbound();
        ReferenceCountUtil.release(out);
        assertNull(channel.readOutbound(), "one ping at a time");
        return out instanceof PingWebSocketFrame;
    }

    @Test
    void aViewerThatAnswersIsPingedEveryIntervalAndKept() {
        List<Object> received = new ArrayList<>();
        EmbeddedChannel channel = webSocket(received);
        pings.tick(INTERVAL - 1);
        assertNull(channel.readOutbound(), "a whole interval before the first ping");
        for (long now = INTERVAL; now <= 10 * INTERVAL; now += INTERVAL) {
            pings.tick(now);
            assertTrue(pinged(channel), "pinged at " + now);
            channel.writeInbound(new PongWebSocketFrame());
            assertTrue(channel.isActive(), "kept at " + now);
        }
        assertEquals(10, received.size(), "every pong passed on to the WebSocket's handler");
        assertInstanceOf(PongWebSocketFrame.class, received.get(0));
    }

    @Test
    void aViewerThatDoesNotAnswerWithinTheIntervalIsDropped() {
        EmbeddedChannel channel = webSocket(new ArrayList<>());
        pings.tick(INTERVAL);
        assertTrue(pinged(channel));
        pings.tick(2 * INTERVAL - 1);
        assertTrue(channel.isActive(), "it has the whole interval to answer");
        pings.tick(2 * INTERVAL);
        assertFalse(channel.isActive(), "dropped once the interval after the ping passed in silence");
        assertNull(channel.readOutbound(), "dropped, without a close frame it could not hear");
        pings.tick(3 * INTERVAL);
    }

    @Test
    void anyFrameFromTheViewerCountsAsAnAnswer() {
        EmbeddedChannel channel = webSocket(new ArrayList<>());
        pings.tick(INTERVAL);
        assertTrue(pinged(channel));
        channel.writeInbound(new TextWebSocketFrame("{\"event\":\"heartbeat\"}"));
        pings.tick(2 * INTERVAL);
        assertTrue(channel.isActive());
        assertTrue(pinged(channel));
    }

    @Test
    void aDeadViewerAmongManyIsDroppedAndEveryOtherStillPinged() {
        List<EmbeddedChannel> channels = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            channels.add(webSocket(new ArrayList<>()));
        }
        pings.tick(INTERVAL);
        for (int i = 0; i < channels.size(); i++) {
            assertTrue(pinged(channels.get(i)));
            if (i % 3 != 0) {
                channels.get(i).writeInbound(new PongWebSocketFrame());
            }
        }
        pings.tick(2 * INTERVAL);
        for (int i = 0; i < channels.size(); i++) {
            EmbeddedChannel channel = channels.get(i);
            if (i % 3 == 0) {
                assertFalse(channel.isActive(), "silent viewer " + i + " dropped");
            } else {
                assertTrue(channel.isActive(), "viewer " + i + " kept");
                assertTrue(pinged(channel), "viewer " + i + " pinged though others were dropped around it");
            }
        }
    }

    @Test
    void aConnectionThatClosedIsNoLongerWatched() {
        EmbeddedChannel gone = webSocket(new ArrayList<>());
        EmbeddedChannel kept = webSocket(new ArrayList<>());
        gone.close();
        pings.tick(INTERVAL);
        assertNull(gone.readOutbound());
        assertTrue(pinged(kept));
    }

    @Test
    void aConnectionThatIsNotAWebSocketIsNotWatched() {
        EmbeddedChannel http = new EmbeddedChannel(new ChannelInboundHandlerAdapter());
        pings.watch(http);
        pings.tick(INTERVAL);
        pings.tick(2 * INTERVAL);
        assertNull(http.readOutbound());
        assertTrue(http.isActive());
    }
}
