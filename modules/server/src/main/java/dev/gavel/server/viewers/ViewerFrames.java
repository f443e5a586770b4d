package dev.gavel.server.viewers;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gavel.core.ViewerEvent;
import dev.gavel.core.audience.Viewer;

import java.nio.charset.StandardCharsets;

/**
 * What a viewer may send on WebSocket and SockJS: {@code {"event": "heartbeat"}}, answered with
 * {@code heartbeat-ack}. Anything else is answered with an {@code error} event; the connection stays open.
 */
public final class ViewerFrames {

    public static final String HEARTBEAT = "heartbeat";
    /** The largest frame a viewer may send, in bytes; a bigger one closes the connection with this code. */
    public static final int MAX_FRAME_BYTES = 4096;
    public static final short TOO_BIG = 1009;
    private static final ViewerEvent HEARTBEAT_ACK = ViewerEvent.of(ViewerEvent.HEARTBEAT_ACK, "null");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ViewerFrames() {
    }

    /** True when a text frame is over {@link #MAX_FRAME_BYTES} in UTF-8. */
    public static boolean isTooBig(String text) {
        if (text.length() > MAX_FRAME_BYTES) {
            return true;
        }
        return text.length() * 3 > MAX_FRAME_BYTES && text.getBytes(StandardCharsets.UTF_8).length > MAX_FRAME_BYTES;
    }

    /** Handles one text frame from {@code viewer}: a frame too big closes it with 1009. */
    public static void handle(String text, Viewer viewer) {
        if (isTooBig(text)) {
            viewer.close(TOO_BIG, "frame over " + MAX_FRAME_BYTES + " bytes");
            return;
        }
        JsonNode frame;
        try {
            frame = MAPPER.readTree(text);
        } catch (JacksonException e) {
            viewer.send(ViewerEvent.badFrame("frame is not JSON"));
            return;
        }
        JsonNode event = frame == null ? null : frame.get("event");
        if (event == null || !event.isTextual()) {
            viewer.send(ViewerEvent.badFrame("frame must be {\"event\": NAME}"));
        } else {
            handleEvent(event.asText(), viewer);
        }
    }

    /** Handles a named event from {@code viewer}, whatever transport carried it. */
    public static void handleEvent(String name, Viewer viewer) {
        if (HEARTBEAT.equals(name)) {
            viewer.send(HEARTBEAT_ACK);
        } else {
            viewer.send(ViewerEvent.badFrame("unknown event '" + name + "'"));
        }
    }
}
