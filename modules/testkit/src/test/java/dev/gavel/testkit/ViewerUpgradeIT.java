package dev.gavel.testkit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A viewer's WebSocket upgrade is taken off Vert.x's path at the connection's pipeline (see
 * {@code HttpConnectionGuard} and {@code UpgradeRouter}); what HTTP/1.1 allows around it still holds: an upgrade
 * pipelined behind another request is answered after it, a refused upgrade leaves the connection to its next
 * request, and a handshake Netty cannot answer is refused without leaving a viewer behind.
 */
class ViewerUpgradeIT {

    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    @RegisterExtension
    static final ClusterExtension gavel = new ClusterExtension(1, Map.of());

    @Test
    void anUpgradePipelinedBehindARequestIsAnsweredAfterIt() throws IOException {
        int port = gavel.cluster().port(0);
        try (Socket socket = socket(port)) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            bytes.writeBytes(("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            bytes.writeBytes(upgrade("/ws?slug=auction-pipelined"));
            OutputStream out = socket.getOutputStream();
            out.write(bytes.toByteArray());
            out.flush();

            DataInputStream in = new DataInputStream(socket.getInputStream());
            assertEquals(200, readHead(in, true));
            assertEquals(101, readHead(in, false));
            out.write(RawWebSocket.maskedText("{\"event\":\"heartbeat\"}".getBytes(StandardCharsets.UTF_8)));
            out.flush();
            List<String> texts = new ArrayList<>();
            // the viewer's count and the answer to its heartbeat, in whichever order
            while (texts.stream().noneMatch(t -> t.contains("heartbeat-ack"))
                    || texts.stream().noneMatch(t -> t.contains("viewerCountUpdate"))) {
                texts.add(readText(in));
            }
        }
    }

    @Test
    void aRefusedUpgradeLeavesTheConnectionToItsNextRequest() throws IOException {
        int port = gavel.cluster().port(0);
        try (Socket socket = socket(port)) {
            OutputStream out = socket.getOutputStream();
            out.write(upgrade("/ws?slug=not-an-auction"));
            out.flush();
            DataInputStream in = new DataInputStream(socket.getInputStream());
            assertEquals(400, readHead(in, true));

            out.write(upgrade("/auction/?EIO=3&transport=websocket&slug=auction-next"));
            out.flush();
            assertEquals(400, readHead(in, true));

            out.write(("GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals(200, readHead(in, true));
        }
    }

    @Test
    void anUpgradeWithoutAKeyIsRefusedWith400AndLeavesNoViewer() throws IOException {
        int port = gavel.cluster().port(0);
        try (Socket socket = socket(port)) {
            OutputStream out = socket.getOutputStream();
            out.write(("GET /ws?slug=auction-keyless HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                    + "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            assertEquals(400, readHead(new DataInputStream(socket.getInputStream()), true));
        }
        TestViewer viewer = TestViewer.watch(port, "keyless");
        viewer.awaitCount(1, 1);
        viewer.close();
    }

    private static Socket socket(int port) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout((int) TestViewer.PATIENCE.toMillis());
        return socket;
    }

    private static byte[] upgrade(String uri) {
        return ("GET " + uri + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
    }

    /** Reads an answer's head, and its body by {@code Content-Length} when asked; returns the status. */
    private static int readHead(DataInputStream in, boolean body) throws IOException {
        int status = Integer.parseInt(RawWebSocket.line(in).split(" ")[1]);
        int length = 0;
        for (String header = RawWebSocket.line(in); !header.isEmpty(); header = RawWebSocket.line(in)) {
            if (header.toLowerCase().startsWith("content-length:")) {
                length = Integer.parseInt(header.substring(header.indexOf(':') + 1).trim());
            }
        }
        if (body) {
            in.readFully(new byte[length]);
        }
        return status;
    }

    /** Reads frames up to the next text frame (unmasked, as a server sends them) and returns its text. */
    private static String readText(DataInputStream in) throws IOException {
        while (true) {
            int first = in.readUnsignedByte();
            int length = in.readUnsignedByte() & 0x7f;
            if (length == 126) {
                length = in.readUnsignedShort();
            } else if (length == 127) {
                length = (int) in.readLong();
            }
            byte[] payload = new byte[length];
            in.readFully(payload);
            if ((first & 0x0f) == 0x1) {
                return new String(payload, StandardCharsets.UTF_8);
            }
        }
    }
}
