package dev.gavel.core;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** One event loop's rooms, on a real Vert.x context. */
class LocalRoomsTest {

    private static final AuctionId A = AuctionId.of("a");

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void stop() throws Exception {
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    /** A viewer that is closed while an event goes out leaves at once; everyone else still gets the event. */
    @Test
    void aViewerLeavingDuringAFanOutDoesNotCostTheOthersTheEvent() throws Exception {
        Context context = vertx.getOrCreateContext();
        LocalRooms rooms = new LocalRooms(0, context, (deltas, ids) -> { }, AudienceMetrics.NONE, new RoomIndex());
        List<String> received = new ArrayList<>();
        CompletableFuture<Void> done = new CompletableFuture<>();
        context.runOnContext(v -> {
            for (int i = 0; i < 50; i++) {
                String name = "viewer-" + i;
                rooms.join(A, new Viewer() {
                    @Override
                    public void send(ViewerEvent event) {
                        received.add(name);
                        if (name.equals("viewer-7")) {
                            rooms.leave(A, this);
                        }
                    }

                    @Override
                    public void close(short code, String reason) {
                    }
                }, name, null);
            }
            rooms.event(A, ViewerEvent.of(ViewerEvent.PLAYER_SOLD_UPDATE, "\"sold\""));
            done.complete(null);
        });
        done.get(5, TimeUnit.SECONDS);

        assertEquals(50, received.size(), "every viewer got the event: " + received);
        assertEquals(49, rooms.viewers());
    }

    /** Closing one auction's room closes its viewers with the code, leaves the others, and reports them gone. */
    @Test
    void closingARoomClosesItsViewersOnlyAndReportsThemGone() throws Exception {
        AuctionId other = AuctionId.of("b");
        Context context = vertx.getOrCreateContext();
        List<Map<AuctionId, Integer>> shipped = new CopyOnWriteArrayList<>();
        LocalRooms rooms = new LocalRooms(0, context, (deltas, ids) -> shipped.add(deltas), AudienceMetrics.NONE, new RoomIndex());
        List<String> closed = new CopyOnWriteArrayList<>();
        CompletableFuture<Integer> closedCount = new CompletableFuture<>();
        context.runOnContext(v -> {
            for (int i = 0; i < 3; i++) {
                rooms.join(A, closing("a-" + i, closed), "a-" + i, null);
            }
            rooms.join(other, closing("b", closed), "b", null);
            // after the joins were shipped; and completed after the close's own shipment, queued before it
            context.runOnContext(x -> {
                int count = rooms.closeRoom(A, Viewer.NORMAL_CLOSURE, "auction closed");
                context.runOnContext(y -> closedCount.complete(count));
            });
        });
        assertEquals(3, closedCount.get(5, TimeUnit.SECONDS));

        assertEquals(List.of("a-0:1000", "a-1:1000", "a-2:1000"), closed.stream().sorted().toList());
        assertEquals(1, rooms.viewers());
        assertEquals(2, shipped.size(), shipped::toString);
        assertEquals(Map.of(A, 3, other, 1), shipped.get(0));
        assertEquals(Map.of(A, -3), shipped.get(1));
    }

    private static Viewer closing(String name, List<String> closed) {
        return new Viewer() {
            @Override
            public void send(ViewerEvent event) {
            }

            @Override
            public void close(short code, String reason) {
                closed.add(name + ":" + code);
            }
        };
    }
}
