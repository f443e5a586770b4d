package dev.gavel.server;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gavel.core.Viewer;
import dev.gavel.core.ViewerEvent;

/**
 * What a viewer may send on WebSocket and SockJS: {@code {"event": "heartbeat"}}, answered with
 * {@code heartbeat-ack}. Anything else is answered with an {@code error} event; the connection stays open.
 */
public final class ViewerFrames {

    public static final String HEARTBEAT = "heartbeat";
    private static final ViewerEvent HEARTBEAT_ACK = ViewerEvent.of(ViewerEvent.HEARTBEAT_ACK, "null");
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private ViewerFrames() {
    }

    /** Handles one text frame from {@code viewer}. */
    public static void handle(String text, Viewer viewer) {
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
