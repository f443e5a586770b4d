package dev.gavel.redis;

import dev.gavel.core.ReplicaQueries;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;

/**
 * Questions between replicas over Redis pub/sub: each replica listens on a channel of its own
 * ({@link RedisKeys#replicaQueries}); a question goes to each asked replica's channel, its answer to the asker's. One
 * subscription per replica and nothing else while nobody asks; a question costs one {@code PUBLISH} per replica asked
 * and one per answer.
 *
 * <p>Messages: {@code q <question id> <asker's node id> <question>} and {@code a <question id> <answerer's node id>
 * <answer>}. Node ids have no spaces.
 */
final class RedisReplicaQueries implements ReplicaQueries {

    private static final Logger LOG = LoggerFactory.getLogger(RedisReplicaQueries.class);

    private final Vertx vertx;
    private final RedisEventBroker broker;
    private final Redis publisher;
    private final String publish;
    /** Questions this replica asked that still wait for answers, by id. */
    private final Map<String, Waiting> waiting = new ConcurrentHashMap<>();
    private volatile String nodeId;
    private volatile Function<String, Future<String>> answerer;
    private volatile Context answering;

    /** @param pubSub the topology's pub/sub: {@code SPUBLISH} on a Redis Cluster, else {@code PUBLISH} */
    RedisReplicaQueries(Vertx vertx, RedisEventBroker broker, Redis publisher, PubSub pubSub) {
        this.vertx = vertx;
        this.broker = broker;
        this.publisher = publisher;
        this.publish = pubSub.publish();
    }

    @Override
    public Future<Void> answer(String nodeId, Function<String, Future<String>> answerer) {
        if (this.nodeId != null) {
            return Future.failedFuture(new IllegalStateException("already answering as " + this.nodeId));
        }
        this.answerer = answerer;
        this.answering = vertx.getOrCreateContext();
        this.nodeId = nodeId;
        return broker.listenNow(RedisKeys.replicaQueries(nodeId), this::heard);
    }

    @Override
    public Future<Map<String, String>> ask(Set<String> replicas, String question, long timeoutMillis) {
        String self = nodeId;
        if (replicas.isEmpty()) {
            return Future.succeededFuture(Map.of());
        }
        if (self == null) {
            return Future.failedFuture(new IllegalStateException("this replica cannot hear answers: it does not answer yet"));
        }
        if (!broker.isConnected()) {
            return Future.failedFuture(new IllegalStateException("Redis is not reachable"));
        }
        String id = Long.toString(ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
        Waiting asked = new Waiting(replicas.size(), Promise.promise());
        waiting.put(id, asked);
        long timer = vertx.setTimer(timeoutMillis, t -> finish(id));
        asked.timer = timer;
        for (String replica : replicas) {
            String message = "q " + id + " " + self + " " + question;
            // a question that could not be sent is an answer that will not come: the replica is missing
            publisher.send(Request.cmd(Command.create(publish)).arg(RedisKeys.replicaQueries(replica)).arg(message))
                    .onFailure(e -> LOG.debug("Could not ask replica {}: {}", replica, e.toString()));
        }
        return asked.answered.future();
    }

    /** A message on this replica's channel, on the subscriber connection's thread. */
    private void heard(String message) {
        int idEnd = message.indexOf(' ', 2);
        int fromEnd = idEnd < 0 ? -1 : message.indexOf(' ', idEnd + 1);
        if (message.length() < 2 || message.charAt(1) != ' ' || fromEnd < 0) {
            LOG.warn("Ignored a message of unknown shape on {}", RedisKeys.replicaQueries(nodeId));
            return;
        }
        String id = message.substring(2, idEnd);
        String from = message.substring(idEnd + 1, fromEnd);
        String body = message.substring(fromEnd + 1);
        switch (message.charAt(0)) {
            case 'q' -> answering.runOnContext(v -> answerer.apply(body).onSuccess(answer ->
                    publisher.send(Request.cmd(Command.create(publish)).arg(RedisKeys.replicaQueries(from))
                            .arg("a " + id + " " + nodeId + " " + answer))
                            .onFailure(e -> LOG.debug("Could not answer replica {}: {}", from, e.toString())))
                    .onFailure(e -> LOG.warn("Could not answer a question of replica {}: {}", from, e.toString())));
            case 'a' -> {
                Waiting question = waiting.get(id);
                if (question != null && question.add(from, body)) {
                    vertx.cancelTimer(question.timer);
                    finish(id);
                }
            }
            default -> LOG.warn("Ignored a message of unknown shape on {}", RedisKeys.replicaQueries(nodeId));
        }
    }

    private void finish(String id) {
        Waiting question = waiting.remove(id);
        if (question != null) {
            question.answered.tryComplete(question.answers());
        }
    }

    /** A question's answers so far; answers arrive on the subscriber's thread, the timeout on a timer's. */
    private static final class Waiting {
        private final int expected;
        private final Map<String, String> answers = new HashMap<>();
        final Promise<Map<String, String>> answered;
        volatile long timer;

        Waiting(int expected, Promise<Map<String, String>> answered) {
            this.expected = expected;
            this.answered = answered;
        }

        /** Adds an answer; true once every replica asked answered. */
        synchronized boolean add(String replica, String answer) {
            answers.put(replica, answer);
            return answers.size() >= expected;
        }

        synchronized Map<String, String> answers() {
            return Map.copyOf(answers);
        }
    }
}
