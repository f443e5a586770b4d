package dev.gavel.testkit;

import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One viewer is one viewer, whatever its transport and replica: three nodes on one real Redis, a
 * {@code socket.io-client} with default options on the first, a {@code sockjs-client} on XHR on the second, a plain
 * WebSocket on the third.
 */
class MixedTransportsIT {

    @RegisterExtension
    static final ClusterExtension gavel = new ClusterExtension(3, Map.of());

    @Test
    void socketIoSockJsAndWebSocketViewersOnThreeNodesAllSeeThree() {
        gavel.start(3, Map.of());
        JsViewer socketIo = gavel.track(JsViewer.socketIo(gavel.cluster().port(0), JsViewer.teamOptions("auction-mixed")));
        JsViewer sockJs = gavel.track(JsViewer.sockJs(gavel.cluster().port(1), "auction-mixed", "xhr-streaming"));
        TestViewer plain = gavel.track(TestViewer.watch(gavel.cluster().port(2), "mixed"));

        socketIo.awaitCount(3, 3);
        sockJs.awaitCount(3, 3);
        PlainCounts.await(plain, 3, 3);

        socketIo.close();
        sockJs.awaitCount(2, 3);
        PlainCounts.await(plain, 2, 3);

        sockJs.close();
        PlainCounts.await(plain, 1, 3);
    }

    @Test
    void socketIoBehindTwoReplicasSeesTheSameCountAsAWebSocketViewer() {
        gavel.start(2, Map.of());
        JsViewer socketIo = gavel.track(JsViewer.socketIo(gavel.cluster().port(0), JsViewer.teamOptions("auction-pair")));
        socketIo.awaitRecord("upgrade");
        TestViewer plain = gavel.track(TestViewer.watch(gavel.cluster().port(1), "pair"));
        socketIo.awaitCount(2, 2);
        PlainCounts.await(plain, 2, 2);
    }

    @Test
    void aStoppingReplicaTakesItsSocketIoViewersOutAndClosesThem() {
        gavel.start(2, Map.of());
        JsViewer upgraded = gavel.track(JsViewer.socketIo(gavel.cluster().port(0), JsViewer.teamOptions("auction-stop")));
        JsViewer polling = gavel.track(JsViewer.socketIo(gavel.cluster().port(0),
                JsViewer.teamOptions("auction-stop").put("transports", new JsonArray().add("polling"))));
        upgraded.awaitRecord("upgrade");
        TestViewer plain = gavel.track(TestViewer.watch(gavel.cluster().port(1), "stop"));
        PlainCounts.await(plain, 3, 3);

        gavel.cluster().stop(0);

        PlainCounts.await(plain, 1, 3);
        assertEquals("transport close", upgraded.awaitRecord("disconnect").getString("reason"));
        // told by its held poll, or by its next one; a poll that finds the replica already gone ends in an error
        assertTrue(List.of("transport close", "transport error").contains(polling.awaitRecord("disconnect").getString("reason")),
                polling::toString);
    }
}
