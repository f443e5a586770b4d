package dev.gavel.core;

import java.nio.charset.StandardCharsets;

/**
 * One event sent to viewers: a name and its payload as JSON text. An event fanned out to many viewers is
 * encoded once per wire format, not once per viewer; the encodings are memoised here. The event loops of a
 * replica share one event: a memo computed twice by two loops at once is the same value, and its fields are
 * immutable (String, or a byte array that nobody modifies), so the race is harmless.
 */
public final class ViewerEvent {

    public static final String VIEWER_COUNT_UPDATE = "viewerCountUpdate";
    public static final String PLAYER_BIDDING_UPDATE = "playerBiddingUpdate";
    public static final String PLAYER_SOLD_UPDATE = "playerSoldUpdate";
    public static final String HEARTBEAT_ACK = "heartbeat-ack";
    public static final String ERROR = "error";

    private final String name;
    private final String dataJson;
    private String jsonFrame;
    private String socketIoPacket;
    private byte[] jsonFrameBytes;
    private byte[] socketIoPacketBytes;

    private ViewerEvent(String name, String dataJson) {
        this.name = name;
        this.dataJson = dataJson;
    }

    /**
     * @param name     an event name of the contract; it is put into JSON unescaped, so it must not need escaping
     * @param dataJson the payload, already valid JSON text
     */
    public static ViewerEvent of(String name, String dataJson) {
        return new ViewerEvent(name, dataJson);
    }

    /** An {@code error} event with code {@code bad_frame}. */
    public static ViewerEvent badFrame(String message) {
        return of(ERROR, "{\"code\":\"bad_frame\",\"message\":" + Json.quote(message) + "}");
    }

    public String name() {
        return name;
    }

    /** True for a {@code viewerCountUpdate}: a newer one makes it worthless. */
    public boolean isCount() {
        return VIEWER_COUNT_UPDATE.equals(name);
    }

    /** Roughly what the event weighs on any wire, in characters. */
    public int weight() {
        return name.length() + dataJson.length() + 16;
    }

    public String dataJson() {
        return dataJson;
    }

    /** The WebSocket and SockJS frame: {@code {"event":NAME,"data":PAYLOAD}}. */
    public String jsonFrame() {
        String frame = jsonFrame;
        if (frame == null) {
            frame = "{\"event\":\"" + name + "\",\"data\":" + dataJson + "}";
            jsonFrame = frame;
        }
        return frame;
    }

    /** The Socket.IO EVENT packet in the default namespace, with the Engine.IO MESSAGE prefix: {@code 42["NAME",PAYLOAD]}. */
    public String socketIoPacket() {
        String packet = socketIoPacket;
        if (packet == null) {
            packet = "42[\"" + name + "\"," + dataJson + "]";
            socketIoPacket = packet;
        }
        return packet;
    }

    /** {@link #jsonFrame()} in UTF-8, encoded once however many viewers it is written to. Do not modify. */
    public byte[] jsonFrameBytes() {
        byte[] bytes = jsonFrameBytes;
        if (bytes == null) {
            bytes = jsonFrame().getBytes(StandardCharsets.UTF_8);
            jsonFrameBytes = bytes;
        }
        return bytes;
    }

    /** {@link #socketIoPacket()} in UTF-8, encoded once however many viewers it is written to. Do not modify. */
    public byte[] socketIoPacketBytes() {
        byte[] bytes = socketIoPacketBytes;
        if (bytes == null) {
            bytes = socketIoPacket().getBytes(StandardCharsets.UTF_8);
            socketIoPacketBytes = bytes;
        }
        return bytes;
    }

    @Override
    public String toString() {
        return jsonFrame();
    }
}
