package dev.gavel.core;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
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
        LocalRooms rooms = new LocalRooms(0, context, (loop, deltas, ids) -> { }, AudienceMetrics.NONE);
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
}
