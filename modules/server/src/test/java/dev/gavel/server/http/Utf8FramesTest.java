package dev.gavel.server.http;

import dev.gavel.server.ops.GavelMetrics;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.ContinuationWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one UTF-8 rule of every WebSocket, on a channel with no socket: 1007, closed, counted, and nothing passed on. */
class Utf8FramesTest {

    private final GavelMetrics metrics = new GavelMetrics(Clock.systemUTC());
    private final List<String> taken = new ArrayList<>();

    private EmbeddedChannel channel() {
        EmbeddedChannel channel = new EmbeddedChannel(new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object msg) {
                WebSocketFrame frame = (WebSocketFrame) msg;
                taken.add(frame.content().toString(StandardCharsets.UTF_8));
                frame.release();
            }
        });
        Utf8Frames.require(channel.pipeline(), metrics);
        Utf8Frames.require(channel.pipeline(), metrics);
        return channel;
    }

    @Test
    void validTextPassesAndTheRuleIsInThePipelineOnce() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(new TextWebSocketFrame("{\"event\":\"heartbeat\",\"data\":\"é€\"}"));
        assertEquals(List.of("{\"event\":\"heartbeat\",\"data\":\"é€\"}"), taken);
        assertEquals(1, channel.pipeline().names().stream().filter(Utf8Frames.NAME::equals).count());
        assertTrue(channel.isOpen());
    }

    @Test
    void invalidTextIsClosedWith1007CountedAndNeverTaken() {
        EmbeddedChannel channel = channel();
        channel.writeInbound(new TextWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {'{', '"', (byte) 0xc3, (byte) 0x28, '"', '}'})));
        CloseWebSocketFrame close = channel.readOutbound();
        assertEquals(1007, close.statusCode());
        close.release();
        assertFalse(channel.isOpen());
        assertTrue(taken.isEmpty(), taken.toString());
        assertTrue(metrics.scrape().contains("gavel_refusals_total{reason=\"invalid_frame\"} 1.0"), metrics.scrape());
    }

    @Test
    void aCodePointSplitAcrossFragmentsIsValidAndAnUnfinishedOneIsNot() {
        byte[] euro = "€".getBytes(StandardCharsets.UTF_8);
        EmbeddedChannel valid = channel();
        valid.writeInbound(new TextWebSocketFrame(false, 0, Unpooled.wrappedBuffer(euro, 0, 1)));
        valid.writeInbound(new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(euro, 1, 2)));
        assertTrue(valid.isOpen());

        EmbeddedChannel invalid = channel();
        invalid.writeInbound(new TextWebSocketFrame(false, 0, Unpooled.wrappedBuffer(euro, 0, 1)));
        invalid.writeInbound(new ContinuationWebSocketFrame(true, 0, Unpooled.wrappedBuffer(new byte[] {'x'})));
        CloseWebSocketFrame close = invalid.readOutbound();
        assertEquals(1007, close.statusCode());
        close.release();
        assertFalse(invalid.isOpen());
    }
}
