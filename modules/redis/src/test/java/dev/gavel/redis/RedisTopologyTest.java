package dev.gavel.redis;

import io.vertx.core.Vertx;
import io.vertx.redis.client.Request;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One Redis is a topology of one shard with plain pub/sub; a cluster's shards use sharded pub/sub. */
class RedisTopologyTest {

    @Test
    void oneRedisIsOneShardThatServesEveryKeyWithPlainPubSubAndNeverChanges() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            for (RedisTarget target : List.of(RedisTarget.standalone("redis://127.0.0.1:6379"),
                    RedisTarget.sentinel(List.of("redis://127.0.0.1:26379"), "gavel"))) {
                RedisTopology topology = RedisTopology.of(vertx, target);
                assertInstanceOf(RedisTopology.OneShard.class, topology);
                String shard = topology.shardOf("auction:{a}:counts");
                assertEquals(shard, topology.shardOf("node:n1:auctions"));
                assertEquals(Set.of(shard), topology.shards());
                assertEquals(PubSub.PLAIN, topology.pubSub());
                assertEquals("", topology.describe(shard), "logs say Redis, as before shards");
                assertTrue(topology.refresh().succeeded());
            }
            assertInstanceOf(ClusterTopology.class, RedisTopology.of(vertx, RedisTarget.cluster(List.of("redis://127.0.0.1:7000"))));
        } finally {
            vertx.close().await(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void plainPubSubSubscribesToManyChannelsInOneCommandShardedOneByOne() {
        assertEquals(List.of("SUBSCRIBE a b"), describe(PubSub.PLAIN.subscribe(List.of("a", "b"))));
        assertEquals(List.of("SSUBSCRIBE a", "SSUBSCRIBE b"), describe(PubSub.SHARDED.subscribe(List.of("a", "b"))));
        assertEquals(List.of(), PubSub.PLAIN.subscribe(List.of()));
        assertEquals("UNSUBSCRIBE a", FakeNode.describe(PubSub.PLAIN.unsubscribe("a")));
        assertEquals("SUNSUBSCRIBE a", FakeNode.describe(PubSub.SHARDED.unsubscribe("a")));
        assertEquals("PUBLISH", PubSub.PLAIN.publish());
        assertEquals("SPUBLISH", PubSub.SHARDED.publish());
    }

    private static List<String> describe(List<Request> commands) {
        return commands.stream().map(FakeNode::describe).toList();
    }
}
