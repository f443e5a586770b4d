package dev.gavel.testkit;

import dev.gavel.core.Backend;
import dev.gavel.core.ViewerEvent;
import dev.gavel.core.ViewerStats;
import dev.gavel.redis.RedisTarget;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The ACL file that compose and the Kubernetes dev overlay give their Redis ({@code deploy/redis/users.acl}), loaded by a
 * real {@code redis-server} as it is: the whole backend contract passes as its user {@code gavel}, a node on it counts
 * viewers, opens auctions and publishes, and nothing beyond Gavel's commands and {@code gavel:} keys and channels is
 * allowed to it; the default user may only PING (the healthchecks). The file says what docs/redis.md says.
 */
class ShippedRedisAclIT extends BackendContract {

    static final Path ACL_FILE = MonitoringFiles.REPOSITORY.resolve("deploy/redis/users.acl");
    private static final Path K8S_COPY = MonitoringFiles.REPOSITORY.resolve("k8s/overlays/dev/redis-users.acl");

    private static RedisProcess redis;
    private static String password;

    @BeforeAll
    static void startRedis() throws IOException {
        List<String> lines = Files.readAllLines(ACL_FILE);
        String gavel = lines.stream().filter(line -> line.startsWith("user gavel on >")).findFirst().orElseThrow();
        password = gavel.substring("user gavel on >".length(), gavel.indexOf(' ', "user gavel on >".length()));
        Path dir = Files.createTempDirectory("gavel-redis-acl");
        Files.copy(ACL_FILE, dir.resolve("users.acl"));
        int port = Ports.free();
        redis = RedisProcess.start("redis-acl", port, dir, new RedisProcess.Access(null, "gavel", password), List.of(
                "--port", String.valueOf(port), "--bind", "127.0.0.1", "--aclfile", "users.acl", "--save", "",
                "--appendonly", "no", "--dir", dir.toString()));
    }

    @AfterAll
    static void stopRedis() {
        redis.close();
    }

    private static String url() {
        return "redis://gavel:" + password + "@127.0.0.1:" + redis.port();
    }

    @Override
    protected Backend createBackend(Vertx vertx, Clock clock, long leaseMillis, dev.gavel.core.CountBy countBy) {
        return RedisExtension.connectedEngine(RedisTarget.standalone(url()), vertx, clock, leaseMillis,
                ViewerStats.DEFAULT_INTERVAL_MILLIS, ViewerStats.DEFAULT_RETENTION_MILLIS, countBy);
    }

    @Test
    void theFileGivesGavelExactlyTheDocumentedRulesAndTheKubernetesCopyIsTheSame() throws IOException {
        String rules = TlsRedisBackendContractIT.documentedRules("+publish ");
        assertEquals(List.of("user default on nopass -@all +ping", "user gavel on >" + password + " " + rules),
                Files.readAllLines(ACL_FILE));
        assertEquals(Files.readString(ACL_FILE), Files.readString(K8S_COPY), "k8s/overlays/dev/redis-users.acl is a copy");
    }

    @Test
    void gavelMayDoNothingBeyondItsCommandsAndKeysAndTheDefaultUserOnlyPings() {
        for (List<String> command : List.of(List.of("FLUSHALL"), List.of("CONFIG", "GET", "*"), List.of("KEYS", "*"),
                List.of("GET", "someone-else:key"), List.of("SET", "gavel-but-not-prefix", "x"), List.of("HSET", "other:{a}", "f", "v"),
                List.of("PUBLISH", "someone-else:channel", "x"), List.of("SCRIPT", "FLUSH"),
                // EVAL is Gavel's (publish.lua goes whole); a script runs with the user's rules all the same
                List.of("EVAL", "return redis.call('FLUSHALL')", "0"), List.of("EVAL", "return redis.call('GET', KEYS[1])", "1", "other:key"),
                List.of("CLIENT", "KILL", "TYPE", "pubsub"), List.of("ACL", "LIST"))) {
            assertNoPermission(new RedisProcess.Access(null, "gavel", password), command);
        }
        RedisProcess.Access nobody = RedisProcess.Access.PLAIN;
        assertEquals("PONG", String.valueOf(redis.commandAs(nobody, "PING")));
        for (List<String> command : List.of(List.of("GET", "gavel:x"), List.of("HGETALL", "gavel:{a:x}:presence"),
                List.of("PUBLISH", "gavel:{a:x}", "forged"), List.of("SUBSCRIBE", "gavel:{a:x}"), List.of("FLUSHALL"))) {
            assertNoPermission(nobody, command);
        }
    }

    private static void assertNoPermission(RedisProcess.Access access, List<String> command) {
        IllegalStateException refused = assertThrows(IllegalStateException.class,
                () -> redis.commandAs(access, command.toArray(String[]::new)), command.toString());
        // a script's own calls are refused with Redis 7.0's "The user executing the script can't run this command"
        assertTrue(refused.getMessage().contains("NOPERM") || refused.getMessage().contains("can't run this command"),
                command + ": " + refused.getMessage());
    }

    @Test
    void aNodeAsGavelOpensAuctionsCountsViewersPublishesAndReadsItsFigures() {
        try (Cluster cluster = Cluster.start(null, 2, Map.of("REDIS_URL", url(), "AUCTIONS", "registered"))) {
            int first = cluster.port(0);
            int second = cluster.port(1);
            assertEquals(200, ApiClient.get(first, "/health/ready").status());
            assertEquals(201, ApiClient.send(HttpMethod.PUT, first, "/api/v1/auctions/acl",
                    Map.of("Authorization", "Bearer " + ApiClient.ADMIN_TOKEN), null).status());
            TestViewer one = TestViewer.watch(first, "acl");
            TestViewer two = TestViewer.watch(second, "acl");
            one.awaitCount(2, 2);
            two.awaitCount(2, 2);
            assertEquals(202, ApiClient.adminPost(second, "/api/v1/auctions/acl/bidding", "{\"player\":\"Kohli\"}").status());
            assertEquals(List.of(new JsonObject().put("player", "Kohli")), one.awaitEvents(ViewerEvent.PLAYER_BIDDING_UPDATE, 1));
            ApiClient.Answer stats = ApiClient.adminGet(first, "/api/v1/auctions/acl/viewer-stats");
            assertEquals(200, stats.status(), stats.toString());
            assertEquals(2, stats.json().getLong("current"));
            one.close();
            two.awaitCount(1, 2);
            two.close();
        }
    }
}
