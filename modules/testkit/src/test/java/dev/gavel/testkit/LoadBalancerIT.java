package dev.gavel.testkit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

/**
 * Two replicas on one Redis behind a real nginx with the deployment's template (deploy/nginx/gavel.conf.template): the team's front end (socket.io-client
 * with default options: long-polling, then the upgrade) and SockJS's HTTP transports work through the balancer,
 * and see the same count as WebSocket viewers on either replica.
 */
class LoadBalancerIT {

    private static RedisFixture redis;
    private static Cluster cluster;
    private static NginxFixture nginx;

    @BeforeAll
    static void start() {
        redis = RedisFixture.start();
        cluster = Cluster.start(redis, 2, Map.of());
        nginx = NginxFixture.balance(List.of(cluster.port(0), cluster.port(1)));
    }

    @AfterAll
    static void stop() {
        nginx.close();
        cluster.close();
        redis.close();
    }

    @Test
    void theTeamsFrontEndThroughTheBalancerSeesWhatWebSocketViewersOnEachReplicaSee() {
        try (JsViewer frontEnd = JsViewer.socketIo(nginx.port(), JsViewer.teamOptions("auction-lb"));
             JsViewer sockJs = JsViewer.sockJs(nginx.port(), "auction-lb", "xhr-polling");
             TestViewer onFirst = TestViewer.watch(cluster.port(0), "lb");
             TestViewer onSecond = TestViewer.watch(cluster.port(1), "lb");
             TestViewer throughBalancer = TestViewer.watch(nginx.port(), "lb")) {
            frontEnd.awaitRecord("upgrade");
            frontEnd.awaitCount(5, 5);
            sockJs.awaitCount(5, 5);
            onFirst.awaitCount(5, 5);
            onSecond.awaitCount(5, 5);
            throughBalancer.awaitCount(5, 5);
        }
    }
}
