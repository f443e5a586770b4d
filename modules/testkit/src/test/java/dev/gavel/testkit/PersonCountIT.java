package dev.gavel.testkit;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code COUNT_BY=person} on three real node processes on one Redis: one person in five tabs over the three replicas
 * counts 1, and 0 when the last tab closes; a replica killed with {@code kill -9} takes its persons' share with it within
 * {@code NODE_TTL_MS} (where another replica still holds the person, it stays counted), and every remaining viewer is
 * told. Persons here are {@code viewerId}s ("v:<id>"); a signed-in user ("u:<sub>") counts the same way.
 */
class PersonCountIT {

    private static final long NODE_TTL_MILLIS = 2000;
    private static final String AUCTION = "persons";

    private static TestViewer tab(NodeProcess node, String viewerId) {
        String uri = "/ws?slug=auction-" + AUCTION + (viewerId == null ? "" : "&viewerId=" + viewerId);
        return TestViewer.connect(node.port(), uri, null);
    }

    private static JsonObject stats(NodeProcess node) {
        ApiClient.Answer answer = ApiClient.adminGet(node.port(), "/api/v1/auctions/" + AUCTION + "/viewer-stats");
        assertEquals(200, answer.status(), answer.toString());
        return answer.json();
    }

    private static void awaitEveryone(List<TestViewer> viewers, long current) {
        for (TestViewer viewer : viewers) {
            await().atMost(TestViewer.PATIENCE).until(() -> viewer.lastCount() != null
                    && viewer.lastCount().getLong("current") == current);
        }
    }

    @Test
    void onePersonInFiveTabsOnThreeReplicasCountsOnceAndAKilledReplicaTakesOnlyItsOwnPersons() {
        try (RedisFixture redis = RedisFixture.start()) {
            List<NodeProcess> nodes = new ArrayList<>();
            List<TestViewer> all = new ArrayList<>();
            try {
                for (int i = 0; i < 3; i++) {
                    nodes.add(NodeProcess.start(Map.of("REDIS_URL", redis.url(), "NODE_ID", "person-" + i,
                            "NODE_TTL_MS", String.valueOf(NODE_TTL_MILLIS), "COUNT_BY", "person",
                            "ADMIN_TOKEN", ApiClient.ADMIN_TOKEN)));
                }
                List<TestViewer> ann = new ArrayList<>();
                for (int i = 0; i < 5; i++) {
                    ann.add(tab(nodes.get(i % 3), "ann"));
                }
                all.addAll(ann);
                awaitEveryone(ann, 1);
                for (NodeProcess node : nodes) {
                    await().atMost(TestViewer.PATIENCE).until(() -> stats(node).getLong("connections") == 5);
                    JsonObject stats = stats(node);
                    assertEquals(1, stats.getLong("people"), stats.encode());
                    assertEquals(1, stats.getLong("current"), stats.encode());
                }

                // bob only on replica 2, and one anonymous viewer on replica 0
                TestViewer bob = tab(nodes.get(2), "bob");
                TestViewer anonymous = tab(nodes.get(0), null);
                all.add(bob);
                all.add(anonymous);
                awaitEveryone(all, 3);

                nodes.get(2).kill();
                long killedAt = System.nanoTime();
                List<TestViewer> left = new ArrayList<>(List.of(ann.get(0), ann.get(1), ann.get(3), ann.get(4), anonymous));
                // ann is still on replicas 0 and 1; bob was only on the dead one
                for (TestViewer viewer : left) {
                    await().atMost(Duration.ofMillis(NODE_TTL_MILLIS + 1000)).until(() -> viewer.lastCount().getLong("current") == 2);
                }
                System.out.printf("persons: the killed replica's share was gone at every viewer %d ms after the kill%n",
                        (System.nanoTime() - killedAt) / 1_000_000);
                JsonObject after = stats(nodes.get(0));
                assertEquals(5, after.getLong("connections"), "ann's four tabs left and the anonymous one: " + after.encode());
                assertEquals(2, after.getLong("people"), after.encode());
                assertEquals(3, after.getLong("peak"), after.encode());

                TestViewer.closeAll(List.of(ann.get(0), ann.get(1), ann.get(3)));
                await().atMost(TestViewer.PATIENCE).until(() -> anonymous.lastCount().getLong("current") == 2);
                ann.get(4).close();
                awaitEveryone(List.of(anonymous), 1);
                anonymous.close();
                await().atMost(TestViewer.PATIENCE).until(() -> stats(nodes.get(1)).getLong("current") == 0);
                JsonObject none = stats(nodes.get(1));
                assertEquals(0, none.getLong("connections"), none.encode());
                assertEquals(0, none.getLong("people"), none.encode());
            } finally {
                TestViewer.closeAll(all);
                nodes.forEach(NodeProcess::close);
            }
        }
    }
}
