package dev.gavel.server.viewers;

import dev.gavel.core.ViewerEvent;
import dev.gavel.server.ops.GavelMetrics;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PendingWireTest {

    /** A connection's wire that records what it is asked to do. */
    private static final class RecordingWire implements ViewerWire {
        final List<String> done = new ArrayList<>();
        Runnable drained;
        boolean congested;

        @Override
        public GavelMetrics.Transport transport() {
            return GavelMetrics.Transport.WS;
        }

        @Override
        public void write(ViewerEvent event) {
            done.add("write " + event.name());
        }

        @Override
        public boolean congested() {
            return congested;
        }

        @Override
        public void onDrained(Runnable action) {
            drained = action;
        }

        @Override
        public void close(short code, String reason) {
            done.add("close " + code + " " + reason);
        }
    }

    @Test
    void whatWaitedGoesOutOnceTheConnectionExistsAndItsWireTakesOver() {
        PendingWire pending = new PendingWire(GavelMetrics.Transport.WS);
        List<ViewerEvent> waiting = new ArrayList<>(List.of(ViewerEvent.of(ViewerEvent.PLAYER_BIDDING_UPDATE, "1"),
                ViewerEvent.of(ViewerEvent.PLAYER_SOLD_UPDATE, "2")));
        // the viewer's drain: writes what waits while the wire is not congested
        pending.onDrained(() -> {
            while (!pending.congested() && !waiting.isEmpty()) {
                pending.write(waiting.remove(0));
            }
        });
        assertTrue(pending.congested(), "no connection yet: what arrives waits");

        RecordingWire connection = new RecordingWire();
        pending.connected(connection);
        assertEquals(List.of("write playerBiddingUpdate", "write playerSoldUpdate"), connection.done);
        assertFalse(pending.congested());
        connection.congested = true;
        assertTrue(pending.congested(), "the connection's own congestion from now on");
        assertTrue(connection.drained != null, "the connection tells the viewer when it drains");
    }

    @Test
    void aViewerClosedBeforeItsConnectionExistedIsClosedAsSoonAsItDoes() {
        PendingWire pending = new PendingWire(GavelMetrics.Transport.WS);
        List<String> drains = new ArrayList<>();
        pending.onDrained(() -> drains.add("drain"));
        pending.close((short) 1012, "server stopping");

        RecordingWire connection = new RecordingWire();
        pending.connected(connection);
        assertEquals(List.of("close 1012 server stopping"), connection.done);
        assertEquals(List.of(), drains, "nothing is written to a closed viewer");
    }
}
