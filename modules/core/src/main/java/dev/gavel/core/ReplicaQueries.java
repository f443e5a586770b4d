package dev.gavel.core;

import io.vertx.core.Future;

import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Questions from one replica to others, answered on demand: how an admin's "who is watching" is gathered from the
 * replicas that hold an auction's viewers, as Socket.IO's {@code fetchSockets()} does over its Redis adapter, without
 * keeping anything per viewer in the backend. Questions and answers are opaque strings (the server's JSON).
 *
 * <p>Guarantees:
 * <ul>
 *   <li>{@link #ask} completes within its timeout (plus a scheduling delay) with the answers that arrived, by replica;
 *       a replica that is gone, cut off or slow is simply absent from the map, so the caller can name it. It fails only
 *       when the question could not be sent at all (the backend is away).</li>
 *   <li>Delivery is at most once: a question or an answer lost with the backend's connection is an absent answer, never
 *       a repeated one. An answer that arrives after its timeout is dropped.</li>
 *   <li>At rest (nobody asking) it costs the backend nothing but one subscription per replica.</li>
 *   <li>The answerer runs on a context of this replica, one question at a time per answer; it must not block.</li>
 * </ul>
 */
public interface ReplicaQueries {

    /**
     * Asks each of {@code replicas} (node ids; this replica's own id is not asked: the caller answers itself) and
     * completes with their answers once all answered or {@code timeoutMillis} passed.
     */
    Future<Map<String, String>> ask(Set<String> replicas, String question, long timeoutMillis);

    /**
     * Starts answering the questions other replicas send to {@code nodeId} with {@code answerer}; a failed answer is
     * not sent (the asker sees the replica as missing). Call once, before the replica takes viewers.
     */
    Future<Void> answer(String nodeId, Function<String, Future<String>> answerer);
}
