package dev.gavel.core.memory;

import dev.gavel.core.ReplicaQueries;

import io.vertx.core.Future;

import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The in-memory backend is one replica: there is nobody else to ask, so every other replica named is missing (there
 * are none: the in-memory store's entries are this replica's own).
 */
final class InMemoryReplicaQueries implements ReplicaQueries {

    @Override
    public Future<Map<String, String>> ask(Set<String> replicas, String question, long timeoutMillis) {
        return Future.succeededFuture(Map.of());
    }

    @Override
    public Future<Void> answer(String nodeId, Function<String, Future<String>> answerer) {
        return Future.succeededFuture();
    }
}
