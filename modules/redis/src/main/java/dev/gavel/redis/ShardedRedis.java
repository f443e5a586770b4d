package dev.gavel.redis;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.RequestImpl;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Commands to the Redis of a {@link RedisTopology}, each to the shard that serves its key, over one held connection
 * per shard ({@link HeldConnection}: a shard's commands keep their order, and a demoted master's connection is
 * dropped). The only router of the backend: on one Redis every key has the one shard, on a Redis Cluster the master of
 * its slot. A batch is split per shard into one pipeline each, and succeeds only if every part did; a caller that
 * wants the shards to fail apart sends them apart ({@link #shardOf}). {@code SCRIPT LOAD} goes to every shard. A
 * {@code MOVED} answer reads the topology again and sends the command once more where it now lives; an {@code ASK}
 * (the slot is being migrated, the key has moved already) sends it once to the node named, after {@code ASKING}; a
 * lost connection reads the topology again and fails the command (the backend's callers retry on their next round).
 *
 * <p>Only the commands the backend sends are routed: the key is the first argument, or the first key of an
 * {@code EVALSHA}; commands without a key go to any shard.
 */
final class ShardedRedis implements Redis {

    private static final Pattern REDIRECT = Pattern.compile("(?:^|\\] )(MOVED|ASK) \\d+ (\\S+)");
    private static final Set<Command> KEYLESS = Set.of(Command.PING, Command.SCRIPT, Command.CLUSTER, Command.INFO, Command.TIME);

    private final RedisTopology topology;
    private final String purpose;
    private final Map<String, HeldConnection> shards = new ConcurrentHashMap<>();

    /** @param purpose what the connections are for: names their pools where the topology names pools */
    ShardedRedis(RedisTopology topology, String purpose) {
        this.topology = topology;
        this.purpose = purpose;
        topology.onChange(this::dropFormerMasters);
    }

    @Override
    public Future<Response> send(Request command) {
        if (command.command() == Command.SCRIPT) {
            return toEveryMaster(command);
        }
        String endpoint = endpointOf(command);
        if (endpoint == null) {
            return unknownSlot();
        }
        return shard(endpoint).send(command).recover(error -> {
            String movedTo = redirectedTo(error, "MOVED ");
            if (movedTo != null) {
                return topology.refresh().otherwiseEmpty().compose(v -> shard(movedTo).send(command));
            }
            String askedTo = redirectedTo(error, "ASK ");
            if (askedTo != null) {
                // the slot is being migrated and this key has moved already: asked once there, the slot map unchanged
                return shard(askedTo).batch(List.of(Request.cmd(Command.ASKING), command)).map(replies -> replies.get(1));
            }
            return failed(error);
        });
    }

    @Override
    public Future<List<Response>> batch(List<Request> commands) {
        Map<String, List<Integer>> parts = new LinkedHashMap<>();
        for (int i = 0; i < commands.size(); i++) {
            String endpoint = endpointOf(commands.get(i));
            if (endpoint == null) {
                return unknownSlot();
            }
            parts.computeIfAbsent(endpoint, e -> new ArrayList<>()).add(i);
        }
        if (parts.size() == 1) {
            // all on one shard (always, on one Redis): the batch as it is, one pipeline
            return sendPart(parts.keySet().iterator().next(), commands);
        }
        List<Future<List<Response>>> sent = new ArrayList<>();
        List<List<Integer>> positions = new ArrayList<>();
        parts.forEach((endpoint, indexes) -> {
            positions.add(indexes);
            sent.add(sendPart(endpoint, indexes.stream().map(commands::get).toList()));
        });
        return Future.all(sent).map(all -> {
            Response[] replies = new Response[commands.size()];
            for (int p = 0; p < sent.size(); p++) {
                List<Response> part = sent.get(p).result();
                List<Integer> indexes = positions.get(p);
                for (int i = 0; i < indexes.size(); i++) {
                    replies[indexes.get(i)] = part.get(i);
                }
            }
            // a nil reply is a null element
            return Arrays.asList(replies);
        });
    }

    private Future<List<Response>> sendPart(String endpoint, List<Request> part) {
        return shard(endpoint).batch(part).recover(error -> {
            boolean moved = redirectedTo(error, "MOVED ") != null;
            if (moved || redirectedTo(error, "ASK ") != null) {
                // a slot of this part moved, or is moving: its commands are sent again one by one, each where it
                // lives now (the backend's batches may run twice: reports, PFADD, SADD and samples are idempotent)
                Future<Void> reread = moved ? topology.refresh().otherwiseEmpty() : Future.succeededFuture();
                return reread.compose(v -> Future.all(part.stream().map(this::send).toList())).map(all -> all.<Response>list());
            }
            return failed(error);
        });
    }

    private Future<Response> toEveryMaster(Request command) {
        Set<String> masters = topology.shards();
        if (masters.isEmpty()) {
            return unknownSlot();
        }
        List<Future<Response>> sent = masters.stream().map(endpoint -> shard(endpoint).send(command)).toList();
        return Future.all(sent).map(all -> sent.get(0).result());
    }

    private String endpointOf(Request command) {
        if (KEYLESS.contains(command.command())) {
            return topology.shards().stream().findFirst().orElse(null);
        }
        return topology.shardOf(routingKey(command));
    }

    /** The key that picks the shard: the first argument, or the first key of an {@code EVALSHA} / {@code EVAL}. */
    static String routingKey(Request command) {
        List<byte[]> args = ((RequestImpl) command).getArgs();
        int index = command.command() == Command.EVALSHA || command.command() == Command.EVAL ? 2 : 0;
        if (args.size() <= index) {
            throw new IllegalArgumentException("no key to route " + command.command() + " by");
        }
        return new String(args.get(index), StandardCharsets.UTF_8);
    }

    private HeldConnection shard(String endpoint) {
        return shards.computeIfAbsent(endpoint, e -> new HeldConnection(topology.client(e, purpose)));
    }

    /**
     * {@code MOVED <slot> <host:port>} or {@code ASK <slot> <host:port>} (as {@code kind}), also as a batch reports it
     * ({@code ERR [<index>] MOVED ...}): the endpoint named, else null.
     */
    private String redirectedTo(Throwable error, String kind) {
        String message = error.getMessage();
        if (message == null) {
            return null;
        }
        Matcher redirect = REDIRECT.matcher(message);
        if (!redirect.find() || !redirect.group(1).equals(kind.trim())) {
            return null;
        }
        return topology.shardAt(redirect.group(2));
    }

    /** Anything but an answer from Redis (the connection was lost, or timed out) may mean the slots moved. */
    private <T> Future<T> failed(Throwable error) {
        if (!(error instanceof Response)) {
            topology.refresh();
        }
        return Future.failedFuture(error);
    }

    private static <T> Future<T> unknownSlot() {
        return Future.failedFuture(new IllegalStateException("no Redis Cluster master known for the slot (topology not read yet)"));
    }

    /** Closes the connections of nodes that serve no slot any more. */
    private void dropFormerMasters() {
        Set<String> masters = topology.shards();
        shards.entrySet().removeIf(shard -> {
            if (masters.contains(shard.getKey())) {
                return false;
            }
            shard.getValue().close();
            return true;
        });
    }

    /** A connection to any shard; the backend's subscribers hold their own connections. */
    @Override
    public Future<RedisConnection> connect() {
        String endpoint = topology.shards().stream().findFirst().orElse(null);
        return endpoint == null ? unknownSlot() : shard(endpoint).connect();
    }

    @Override
    public Future<Void> close() {
        List<Future<Void>> closing = shards.values().stream().map(HeldConnection::close).toList();
        shards.clear();
        return Future.join(closing).mapEmpty();
    }
}
