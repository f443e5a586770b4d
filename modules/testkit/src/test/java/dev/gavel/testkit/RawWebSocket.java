package dev.gavel.testkit;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A WebSocket client on a bare socket, for what ordinary clients hide: the exact upgrade request and answer
 * (which extensions were offered and accepted), and a client that stops reading altogether.
 */
final class RawWebSocket implements AutoCloseable {

    /** What a browser offers. */
    static final String BROWSER_EXTENSIONS = "permessage-deflate; client_max_window_bits";

    private final Socket socket;
    private final DataInputStream in;
    private final int status;
    private final Map<String, String> headers;

    private RawWebSocket(Socket socket, DataInputStream in, int status, Map<String, String> headers) {
        this.socket = socket;
        this.in = in;
        this.status = status;
        this.headers = headers;
    }

    /**
     * Sends the upgrade request and reads the answer's head.
     *
     * @param extensions the {@code Sec-WebSocket-Extensions} offered, or null
     * @param receiveBuffer the socket's receive buffer in bytes (small: a client that stops reading fills it soon)
     */
    static RawWebSocket open(int port, String uri, String extensions, int receiveBuffer) throws IOException {
        return open("127.0.0.1", port, uri, extensions == null ? Map.of() : Map.of("Sec-WebSocket-Extensions", extensions),
                receiveBuffer);
    }

    /**
     * Sends the upgrade request from a local address (e.g. {@code 127.0.0.2}) with extra headers, and reads the
     * answer's head.
     */
    static RawWebSocket open(String localAddress, int port, String uri, Map<String, String> extraHeaders, int receiveBuffer)
            throws IOException {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(receiveBuffer);
        socket.setSoTimeout((int) TestViewer.PATIENCE.toMillis());
        socket.bind(new InetSocketAddress(localAddress, 0));
        socket.connect(new InetSocketAddress("127.0.0.1", port));
        String key = Base64.getEncoder().encodeToString("gavel-raw-client".getBytes(StandardCharsets.US_ASCII));
        StringBuilder request = new StringBuilder("GET " + uri + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
                + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key
                + "\r\nSec-WebSocket-Version: 13\r\n");
        extraHeaders.forEach((name, value) -> request.append(name).append(": ").append(value).append("\r\n"));
        request.append("\r\n");
        OutputStream out = socket.getOutputStream();
        out.write(request.toString().getBytes(StandardCharsets.US_ASCII));
        out.flush();
        DataInputStream in = new DataInputStream(socket.getInputStream());
        String statusLine = line(in);
        Map<String, String> headers = new LinkedHashMap<>();
        for (String header = line(in); !header.isEmpty(); header = line(in)) {
            int colon = header.indexOf(':');
            headers.put(header.substring(0, colon).trim().toLowerCase(), header.substring(colon + 1).trim());
        }
        return new RawWebSocket(socket, in, Integer.parseInt(statusLine.split(" ")[1]), headers);
    }

    int status() {
        return status;
    }

    /** A header of the upgrade answer, by lower-case name, or null. */
    String header(String name) {
        return headers.get(name);
    }

    /** One short text frame (payload up to 125 bytes) carrying these bytes as they are, masked as a client must. */
    static byte[] maskedText(byte[] payload) {
        if (payload.length > 125) {
            throw new IllegalArgumentException("short frames only");
        }
        byte[] mask = {1, 2, 3, 4};
        byte[] frame = new byte[6 + payload.length];
        frame[0] = (byte) 0x81;
        frame[1] = (byte) (0x80 | payload.length);
        System.arraycopy(mask, 0, frame, 2, 4);
        for (int i = 0; i < payload.length; i++) {
            frame[6 + i] = (byte) (payload[i] ^ mask[i % 4]);
        }
        return frame;
    }

    /** Sends one text frame with these payload bytes as they are (valid UTF-8 or not), masked as a client must. */
    void sendText(byte[] payload) throws IOException {
        sendTexts(payload, 1);
    }

    /** Sends the same short text frame {@code times} times, in as few writes as possible. */
    void sendTexts(byte[] payload, int times) throws IOException {
        byte[] frame = maskedText(payload);
        OutputStream out = socket.getOutputStream();
        int perWrite = Math.max(1, 65536 / frame.length);
        byte[] batch = new byte[frame.length * perWrite];
        for (int i = 0; i < perWrite; i++) {
            System.arraycopy(frame, 0, batch, i * frame.length, frame.length);
        }
        for (int sent = 0; sent < times; sent += perWrite) {
            out.write(batch, 0, frame.length * Math.min(perWrite, times - sent));
        }
        out.flush();
    }

    /**
     * Reads frames until the server's close frame and returns its code, counting the text frames before it.
     *
     * @param textFrames receives the number of text frames read before the close
     */
    short readUntilClose(int[] textFrames) throws IOException {
        while (true) {
            Frame frame = readFrame();
            if (frame.opcode() == 0x8) {
                byte[] payload = frame.payload();
                return payload.length >= 2 ? (short) (((payload[0] & 0xff) << 8) | (payload[1] & 0xff)) : -1;
            }
            if (frame.opcode() == 0x1) {
                textFrames[0]++;
            }
        }
    }

    /** Reads frames until a text frame and returns its payload; fails on the server's close frame. */
    String readText() throws IOException {
        while (true) {
            Frame frame = readFrame();
            if (frame.opcode() == 0x8) {
                throw new EOFException("closed by the server");
            }
            if (frame.opcode() == 0x1) {
                return new String(frame.payload(), StandardCharsets.UTF_8);
            }
        }
    }

    /** One frame from the server (unmasked, as a server sends them). */
    private record Frame(int opcode, byte[] payload) {
    }

    private Frame readFrame() throws IOException {
        int first = in.readUnsignedByte();
        int second = in.readUnsignedByte();
        long length = second & 0x7f;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
        }
        byte[] payload = new byte[(int) length];
        in.readFully(payload);
        return new Frame(first & 0x0f, payload);
    }

    /** One line of an HTTP answer's head, without its CR LF. */
    static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\n') {
            if (b == -1) {
                throw new EOFException("connection closed in the answer's head");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
