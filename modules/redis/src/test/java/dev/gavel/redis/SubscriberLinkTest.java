package dev.gavel.redis;

import dev.gavel.core.BackendMetrics;
import dev.gavel.core.testing.ManualTime;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.types.ErrorType;
import io.vertx.redis.client.impl.types.SimpleStringType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 18, item 4, the local rule: a subscription's outcome is settled whatever it is (vertx-redis-client drops
 * promises), except an error reply of Redis, which is a refusal. And the link's own logic on a fake node
 * ({@link FakeNode}): what it subscribes with on each kind of pub/sub, and what a lost connection and a refusal do.
 */
class SubscriberLinkTest {

    private final Vertx vertx = Vertx.vertx();
    private final Context context = vertx.getOrCreateContext();
    private final ManualTime time = new ManualTime();
    private final FakeNode node = new FakeNode("10.0.0.1:6379", (connection, command) ->
            command.command() == Command.PING ? SimpleStringType.create("PONG") : null);
    private final Owner owner = new Owner(List.of("auction:{a}", "auction:{b}"));

    @AfterEach
    void close() throws Exception {
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    private Future<Void> settled(Future<Response> reply) throws Exception {
        Future<Void> settled = vertx.getOrCreateContext().<Future<Void>>executeBlocking(() -> SubscriberLink.settled(reply))
                .await(5, TimeUnit.SECONDS);
        settled.otherwiseEmpty().await(5, TimeUnit.SECONDS);
        return settled;
    }

    @Test
    void anErrorReplyIsARefusal() throws Exception {
        Future<Void> settled = settled(Future.failedFuture(
                ErrorType.create("NOPERM User gavel has no permissions to run the 'subscribe' command")));
        assertTrue(settled.failed());
        assertInstanceOf(SubscriberLink.Refused.class, settled.cause());
        assertTrue(settled.cause().getMessage().startsWith("NOPERM"), settled.cause().getMessage());
    }

    @Test
    void aReplyALostConnectionOrADroppedPromiseIsSettled() throws Exception {
        assertTrue(settled(Future.succeededFuture()).succeeded());
        assertTrue(settled(Future.failedFuture(new IllegalStateException("Connection is closed"))).succeeded());
        assertFalse(SubscriberLink.isRefusal(new IllegalStateException("Connection is closed")));
        // a reply whose promise the client dropped: settled after the wait
        io.vertx.core.Promise<Response> never = ((io.vertx.core.internal.ContextInternal) vertx.getOrCreateContext()).promise();
        assertTrue(settled(never.future()).succeeded());
    }

    @Test
    void onOneRedisTheChannelsAreOneSubscribeAndTheOwnerIsToldOnceRedisAnswered() throws Exception {
        SubscriberLink link = start(PubSub.PLAIN);
        link.firstTry().await(5, TimeUnit.SECONDS);

        assertEquals(List.of("SUBSCRIBE auction:{a} auction:{b}", "PING"), node.received);
        assertTrue(link.isUp());
        assertEquals(List.of("connected"), owner.told);
        close(link);
    }

    @Test
    void onAClusterEachChannelIsASubscribeOfItsOwn() throws Exception {
        SubscriberLink link = start(PubSub.SHARDED);
        link.firstTry().await(5, TimeUnit.SECONDS);

        assertEquals(List.of("SSUBSCRIBE auction:{a}", "SSUBSCRIBE auction:{b}", "PING"), node.received);
        run(() -> link.unsubscribe("auction:{a}"));
        waitFor(() -> node.received.contains("SUNSUBSCRIBE auction:{a}"));
        assertEquals(List.of("auction:{b}"), link.subscribed());
        close(link);
    }

    @Test
    void aLostConnectionIsToldAndTheNextOneSubscribesAgainToWhatTheOwnerSaysThen() throws Exception {
        SubscriberLink link = start(PubSub.PLAIN);
        link.firstTry().await(5, TimeUnit.SECONDS);
        owner.channels = List.of("auction:{b}", "auction:{c}");

        node.connections.get(0).lose();
        waitFor(() -> owner.told.size() == 2);
        advance(100);
        waitFor(() -> owner.told.size() == 3);
        assertEquals(List.of("connected", "lost: connection closed", "connected again"), owner.told);
        assertEquals(List.of("SUBSCRIBE auction:{a} auction:{b}", "PING", "SUBSCRIBE auction:{b} auction:{c}", "PING"), node.received);
        assertTrue(link.isUp());
        close(link);
    }

    @Test
    void aRefusedSubscriptionTakesTheLinkDownWithRedissReason() throws Exception {
        node.answer = (connection, command) -> command.command() == Command.SUBSCRIBE
                ? ErrorType.create("NOPERM User gavel has no permissions to access the 'auction:{a}' channel")
                : SimpleStringType.create("PONG");
        SubscriberLink link = start(PubSub.PLAIN);

        assertThrows(Exception.class, () -> link.firstTry().await(5, TimeUnit.SECONDS));
        waitFor(() -> link.refusal() != null);
        assertTrue(link.refusal().startsWith("NOPERM"), link.refusal());
        assertFalse(link.isUp());
        waitFor(() -> !owner.told.isEmpty());
        assertTrue(owner.told.get(0).startsWith("lost: subscription refused: NOPERM"), owner.told.toString());
        assertEquals(0, node.open(), "the refused connection is closed");
        close(link);
    }

    @Test
    void aLinkThatCannotConnectTriesAgainAfterABackoffFromATenthOfASecondDoublingToASecond() throws Exception {
        SubscriberLink link = start(PubSub.PLAIN);
        link.firstTry().await(5, TimeUnit.SECONDS);
        node.down = true;
        node.connections.get(0).lose();
        waitFor(() -> owner.told.size() == 2);

        int attempts = node.attempts;
        for (long backoff : new long[] {100, 200, 400, 800, 1000, 1000}) {
            advance(backoff - 1);
            assertEquals(attempts, node.attempts, "not before " + backoff + " ms");
            advance(1);
            assertEquals(++attempts, node.attempts, "after " + backoff + " ms");
        }
        node.down = false;
        advance(1000);
        waitFor(link::isUp);
        assertEquals("connected again", owner.told.get(owner.told.size() - 1));
        advance(1000);
        assertEquals(attempts + 1, node.attempts, "up: no more tries");
        close(link);
    }

    @Test
    void anUpLinkPingsEverySecond() throws Exception {
        SubscriberLink link = start(PubSub.PLAIN);
        link.firstTry().await(5, TimeUnit.SECONDS);
        long pings = node.count("PING");

        advance(999);
        assertEquals(pings, node.count("PING"));
        advance(1);
        assertEquals(pings + 1, node.count("PING"));
        advance(3000);
        assertEquals(pings + 4, node.count("PING"));
        close(link);
        advance(3000);
        assertEquals(pings + 4, node.count("PING"), "closed: no more");
    }

    private SubscriberLink start(PubSub pubSub) {
        SubscriberLink link = new SubscriberLink(context, " at test", node.client(), pubSub, BackendMetrics.NONE, owner,
                time, time::nanoTime);
        link.start();
        return link;
    }

    private void run(Runnable action) {
        context.runOnContext(v -> action.run());
    }

    /** Moves the time on the link's context, where its timers belong. */
    private void advance(long millis) throws Exception {
        Promise<Void> moved = Promise.promise();
        context.runOnContext(v -> {
            time.advance(millis);
            moved.complete();
        });
        moved.future().await(5, TimeUnit.SECONDS);
    }

    private static void close(SubscriberLink link) throws Exception {
        link.close().await(5, TimeUnit.SECONDS);
    }

    private static void waitFor(java.util.function.BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not within 5 s");
            }
            Thread.sleep(5);
        }
    }

    /** Records what the link tells it. */
    private static final class Owner implements SubscriberLink.Owner {
        volatile List<String> channels;
        final List<String> told = new CopyOnWriteArrayList<>();

        Owner(List<String> channels) {
            this.channels = channels;
        }

        @Override
        public Collection<String> channelsOf(SubscriberLink link) {
            return channels;
        }

        @Override
        public void pushed(SubscriberLink link, Response push) {
        }

        @Override
        public void connected(SubscriberLink link, boolean again) {
            told.add(again ? "connected again" : "connected");
        }

        @Override
        public void lost(SubscriberLink link, String why) {
            told.add("lost: " + why);
        }
    }
}
