package dev.gavel.bench;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * permessage-deflate (RFC 7692) for received messages, as a browser does it: one raw inflater per connection,
 * kept across messages unless the server asked for no context takeover. Netty's own decoder runs every frame
 * through an embedded channel and costs the generator several times what the server spends on the frame.
 */
final class MessageInflater {

    static final int RSV1 = 0x4;
    private static final byte[] TAIL = {0, 0, (byte) 0xff, (byte) 0xff};
    private static final ThreadLocal<byte[]> OUTPUT = ThreadLocal.withInitial(() -> new byte[1 << 16]);

    private final Inflater inflater = new Inflater(true);
    private final boolean resetEachMessage;

    MessageInflater(boolean resetEachMessage) {
        this.resetEachMessage = resetEachMessage;
    }

    String inflate(ByteBuf compressed) {
        int length = compressed.readableBytes();
        byte[] input = new byte[length + TAIL.length];
        compressed.getBytes(compressed.readerIndex(), input, 0, length);
        System.arraycopy(TAIL, 0, input, length, TAIL.length);
        inflater.setInput(input);
        byte[] output = OUTPUT.get();
        int size = 0;
        try {
            while (true) {
                int n = inflater.inflate(output, size, output.length - size);
                size += n;
                if (size == output.length) {
                    output = java.util.Arrays.copyOf(output, output.length * 2);
                    OUTPUT.set(output);
                } else if (n == 0 && (inflater.needsInput() || inflater.finished())) {
                    break;
                }
            }
        } catch (DataFormatException e) {
            throw new IllegalStateException("bad permessage-deflate data: " + e.getMessage(), e);
        }
        if (resetEachMessage) {
            inflater.reset();
        }
        return new String(output, 0, size, StandardCharsets.UTF_8);
    }

    void end() {
        inflater.end();
    }
}
