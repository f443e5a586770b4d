package dev.gavel.redis;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.types.ErrorType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 18, item 4, the local rule: a subscription's outcome is settled whatever it is (vertx-redis-client drops
 * promises), except an error reply of Redis, which is a refusal.
 */
class SubscriberLinkTest {

    private final Vertx vertx = Vertx.vertx();

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
}
