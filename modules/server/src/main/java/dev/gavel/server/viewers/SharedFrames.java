package dev.gavel.server.viewers;

import dev.gavel.core.ViewerEvent;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Server-to-viewer WebSocket text frames, whole (header and payload), made once per event and wire format and
 * written to every viewer as they are: server frames are not masked, so the bytes are the same for every
 * connection. Writing one costs a view of the shared buffer; nothing is encoded, copied or allocated per viewer
 * beyond that. The frames are never compressed (RSV1 clear), which permessage-deflate allows message by message.
 */
public final class SharedFrames {

    private static final int JSON_FRAME = 0;
    private static final int SOCKET_IO_PACKET = 1;

    private SharedFrames() {
    }

    /** The event as a {@code /ws} and SockJS-style JSON frame: {@code {"event":..,"data":..}}. */
    public static ByteBuf jsonFrame(ViewerEvent event) {
        return event.encoding(JSON_FRAME, e -> textFrame(e.jsonFrame()));
    }

    /** The event as a Socket.IO EVENT packet in an Engine.IO MESSAGE: {@code 42["name",data]}. */
    public static ByteBuf socketIoPacket(ViewerEvent event) {
        return event.encoding(SOCKET_IO_PACKET, e -> textFrame(e.socketIoPacket()));
    }

    /**
     * One final, unmasked text frame. The buffer is direct (sockets write it without a copy) and its memory is the
     * JDK's, freed when the event is collected; it is wrapped so that writes may release their views freely.
     */
    static ByteBuf textFrame(String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        int length = payload.length;
        int header = length < 126 ? 2 : length < 65536 ? 4 : 10;
        ByteBuffer frame = ByteBuffer.allocateDirect(header + length);
        frame.put((byte) 0x81);
        if (length < 126) {
            frame.put((byte) length);
        } else if (length < 65536) {
            frame.put((byte) 126).putShort((short) length);
        } else {
            frame.put((byte) 127).putLong(length);
        }
        frame.put(payload).flip();
        return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(frame));
    }
}
