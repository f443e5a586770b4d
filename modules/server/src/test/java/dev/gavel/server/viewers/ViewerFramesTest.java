package dev.gavel.server.viewers;

import dev.gavel.core.ViewerEvent;
import dev.gavel.core.audience.Start;
import dev.gavel.core.audience.Viewer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ViewerFramesTest {

    /** Records what the frames handler does to a viewer. */
    private static final class RecordingViewer implements Viewer {
        final List<ViewerEvent> sent = new ArrayList<>();
        Short closedWith;

        @Override
        public void send(ViewerEvent event) {
            sent.add(event);
        }

        @Override
        public void started(Start start) {
        }

        @Override
        public void close(short code, String reason) {
            closedWith = code;
        }
    }

    @Test
    void aHeartbeatIsAcknowledged() {
        RecordingViewer viewer = new RecordingViewer();
        ViewerFrames.handle("{\"event\":\"heartbeat\"}", viewer);
        assertEquals("{\"event\":\"heartbeat-ack\",\"data\":null}", viewer.sent.get(0).jsonFrame());
    }

    @Test
    void badFramesGetAnErrorAndNoClose() {
        for (String frame : List.of("nope", "{}", "[]", "{\"event\":3}", "{\"event\":\"bid\"}", "null", "")) {
            RecordingViewer viewer = new RecordingViewer();
            ViewerFrames.handle(frame, viewer);
            assertEquals(1, viewer.sent.size(), frame);
            assertEquals(ViewerEvent.ERROR, viewer.sent.get(0).name(), frame);
            assertTrue(viewer.sent.get(0).dataJson().contains("\"bad_frame\""), frame);
            assertEquals(null, viewer.closedWith, frame);
        }
    }

    @Test
    void aFrameOver4KiBClosesWith1009() {
        RecordingViewer viewer = new RecordingViewer();
        ViewerFrames.handle("{\"event\":\"heartbeat\",\"x\":\"" + "é".repeat(2100) + "\"}", viewer);
        assertEquals((short) 1009, viewer.closedWith);
        assertTrue(viewer.sent.isEmpty());
    }

    @Test
    void aFrameOfExactly4KiBIsTaken() {
        String prefix = "{\"event\":\"heartbeat\",\"x\":\"";
        String frame = prefix + "x".repeat(4096 - prefix.length() - 2) + "\"}";
        assertEquals(4096, frame.length());
        RecordingViewer viewer = new RecordingViewer();
        ViewerFrames.handle(frame, viewer);
        assertEquals(null, viewer.closedWith);
        assertEquals(ViewerEvent.HEARTBEAT_ACK, viewer.sent.get(0).name());
    }
}
