package dev.gavel.server.viewers;

import dev.gavel.core.AuctionId;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ViewerDirectoryTest {

    private static final AuctionId LOT = AuctionId.of("lot");

    @Test
    void pagesWalkEveryViewerOnceInConnectionOrder() {
        ViewerDirectory directory = new ViewerDirectory("node-a");
        List<ViewerDirectory.Card> added = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            // two at each millisecond: the serial orders them
            added.add(directory.add(LOT, 1000 + i / 2, "v" + i, null, null, null, "websocket"));
        }
        List<String> seen = new ArrayList<>();
        ViewerDirectory.Position after = null;
        for (int page = 0; page < 4; page++) {
            ViewerDirectory.Part part = directory.part(LOT, after, 3);
            assertEquals(7, part.connections(), "the total whatever the page");
            part.viewers().forEach(card -> seen.add(card.viewerId()));
            if (part.viewers().isEmpty()) {
                break;
            }
            ViewerDirectory.Card last = part.viewers().get(part.viewers().size() - 1);
            after = new ViewerDirectory.Position(last.connectedAtMillis(), "node-a", last.serial());
        }
        assertEquals(List.of("v0", "v1", "v2", "v3", "v4", "v5", "v6"), seen);
    }

    @Test
    void aCursorOfAnotherReplicaSplitsThisOnesViewersByTimeThenReplicaName() {
        ViewerDirectory b = new ViewerDirectory("node-b");
        b.add(LOT, 999, "early", null, null, null, "websocket");
        b.add(LOT, 1000, "same-time", null, null, null, "websocket");
        b.add(LOT, 1001, "late", null, null, null, "websocket");
        // node-a sorts before node-b: at the cursor's millisecond, node-b's viewers come after node-a's
        assertEquals(List.of("same-time", "late"), ids(b.part(LOT, new ViewerDirectory.Position(1000, "node-a", 5), 10)));
        // node-c sorts after node-b: node-b's viewer of that millisecond came before the cursor
        assertEquals(List.of("late"), ids(b.part(LOT, new ViewerDirectory.Position(1000, "node-c", 5), 10)));
    }

    @Test
    void countriesAreTalliedAndForgotten() {
        ViewerDirectory directory = new ViewerDirectory("node-a");
        ViewerDirectory.Card asha1 = directory.add(LOT, 1, "tab1", "u-1", "Asha", "IN", "socket.io");
        directory.add(LOT, 2, "tab2", "u-1", "Asha", "IN", "websocket");
        directory.add(LOT, 3, "x", null, null, "GB", "sockjs");
        ViewerDirectory.Card anonymous = directory.add(LOT, 4, "y", null, null, null, "websocket");
        ViewerDirectory.Part part = directory.part(LOT, null, 10);
        assertEquals(4, part.connections());
        assertEquals(new ViewerDirectory.Countries(Map.of("IN", 2L, "GB", 1L), 1), directory.countries(LOT));

        directory.remove(LOT, asha1);
        directory.remove(LOT, anonymous);
        directory.remove(LOT, anonymous);
        assertEquals(new ViewerDirectory.Countries(Map.of("IN", 1L, "GB", 1L), 0), directory.countries(LOT));
        assertEquals(2, directory.part(LOT, null, 10).connections());
    }

    @Test
    void anAuctionWithoutViewersKeepsNothing() {
        ViewerDirectory directory = new ViewerDirectory("node-a");
        ViewerDirectory.Card card = directory.add(LOT, 1, "v", null, null, "FR", "websocket");
        directory.remove(LOT, card);
        assertEquals(0, directory.part(LOT, null, 10).connections());
        assertEquals(new ViewerDirectory.Countries(Map.of(), 0), directory.countries(LOT));
        assertTrue(directory.part(AuctionId.of("never"), null, 10).viewers().isEmpty());
    }

    private static List<String> ids(ViewerDirectory.Part part) {
        return part.viewers().stream().map(ViewerDirectory.Card::viewerId).toList();
    }
}
