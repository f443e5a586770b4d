package dev.gavel.redis;

import dev.gavel.core.AuctionId;
import dev.gavel.core.CountBy;
import dev.gavel.core.PresenceStore;
import dev.gavel.core.ViewerCount;
import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts in Redis: one hash per auction with one entry per replica and, beside it, the auction's persons with how many
 * replicas hold each and each replica's set of them, kept by the {@code report.lua} script; and per shard one liveness
 * hash, where each replica proves that it is alive once per heartbeat ({@code heartbeat.lua}). So what a replica writes
 * at rest is one command per shard per heartbeat, whatever the number of auctions; a report (changes only) for many
 * auctions is one pipelined round trip. Each node also keeps the set of auctions where it holds entries, so that it can
 * remove them all when it stops or restarts, and a survivor can when it died. The scripts are refused whole when
 * Redis refuses writes (memory full): then nothing is swept, raised or announced, and the future fails.
 *
 * <p>On a Redis Cluster a report is one pipeline per shard, sent together; a shard that fails (its master is failing
 * over) leaves its auctions out of the answer, and the others are counted as usual: the report fails only when every
 * shard failed. The liveness hash of a shard is a key of a slot that shard serves; the report script reads it beside
 * the auction's keys ({@code allow-cross-slot-keys}).
 */
final class RedisPresenceStore implements PresenceStore {

    /** A quiet auction's hash, and so its peak, is kept this long after its last write. */
    static final long KEY_RETENTION_MILLIS = 24L * 60 * 60 * 1000;
    /**
     * A report applied this long after it was sent arrived late, and the peak is not raised to a sum that
     * includes it (see report.lua). Well above a healthy round trip and the clock skew of synchronised hosts,
     * well below the stalls it is there for (a request timeout, a DEBUG SLEEP, a GC pause of Redis).
     */
    static final long LATE_REPORT_MILLIS = 1000;
    /** A survivor that claimed a dead replica has this long to remove its entries before another one may. */
    static final long CLAIM_MILLIS = 30_000;

    private static final RedisScript REPORT = RedisScript.load("report.lua");
    private static final RedisScript HEARTBEAT = RedisScript.load("heartbeat.lua");
    private static final RedisScript RELEASE = RedisScript.load("liveness-release.lua");
    private static final Logger LOG = LoggerFactory.getLogger(RedisPresenceStore.class);
    /** A key of the wrong type is logged at most once in this long. */
    static final long WRONG_TYPE_LOG_MILLIS = 60_000;
    private final AtomicLong lastWrongTypeLog = new AtomicLong(System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(WRONG_TYPE_LOG_MILLIS));
    private final AtomicLong wrongTypeSinceLog = new AtomicLong();

    private final Redis redis;
    private final Clock clock;
    private final long leaseMillis;
    private final RedisTopology topology;
    private final String publish;
    private final CountBy countBy;
    private final long historyIntervalMillis;
    private final long historyRetentionMillis;
    /** The liveness key of each shard, found once per shard (and again if its slot moved). */
    private final Map<String, String> livenessKeys = new ConcurrentHashMap<>();
    /**
     * Auctions whose last report or read found an entry untrusted (a late report): read again after each heartbeat
     * until their peak follows the sum again, since nothing else touches an auction that does not change.
     */
    private final Set<AuctionId> untrusted = ConcurrentHashMap.newKeySet();

    /**
     * @param redis    routes each command to its key's shard
     * @param topology the shard that serves a key now (commands to one shard succeed or fail together), the shards there
     *                 are (each has a liveness hash), and how count changes are announced
     * @param countBy  what current and peak count (every replica of a deployment alike)
     * @param historyIntervalMillis  the audience history's interval: report.lua records each change of the count in it
     * @param historyRetentionMillis how long the audience history is kept
     */
    RedisPresenceStore(Redis redis, RedisTopology topology, Clock clock, long leaseMillis, CountBy countBy,
                       long historyIntervalMillis, long historyRetentionMillis) {
        if (leaseMillis <= 0) {
            throw new IllegalArgumentException("leaseMillis must be positive: " + leaseMillis);
        }
        if (historyIntervalMillis <= 0 || historyRetentionMillis < historyIntervalMillis) {
            throw new IllegalArgumentException("need 0 < interval <= retention: " + historyIntervalMillis + "/" + historyRetentionMillis);
        }
        this.historyIntervalMillis = historyIntervalMillis;
        this.historyRetentionMillis = historyRetentionMillis;
        this.redis = redis;
        this.clock = clock;
        this.leaseMillis = leaseMillis;
        this.topology = topology;
        this.publish = topology.pubSub().publish();
        this.countBy = countBy;
    }

    @Override
    public CountBy countBy() {
        return countBy;
    }

    @Override
    public Future<Boolean> heartbeat(String nodeId) {
        Set<String> all = topology.shards();
        if (all.isEmpty()) {
            return Future.failedFuture(new IllegalStateException("no Redis shard known yet"));
        }
        long now = clock.millis();
        List<Future<Response>> beats = new ArrayList<>();
        for (String shard : all) {
            beats.add(send(HEARTBEAT, HEARTBEAT.call(livenessKey(shard))
                    .arg(nodeId)
                    .arg(now)
                    .arg(leaseMillis)
                    .arg(System.currentTimeMillis())
                    .arg(LATE_REPORT_MILLIS)
                    .arg(CLAIM_MILLIS)
                    .arg(KEY_RETENTION_MILLIS)));
        }
        return Future.join(beats).transform(ar -> {
            boolean lapsed = false;
            Throwable failure = null;
            Set<String> claimed = new LinkedHashSet<>();
            boolean any = false;
            for (Future<Response> beat : beats) {
                if (beat.failed()) {
                    failure = beat.cause();
                    continue;
                }
                any = true;
                Response reply = beat.result();
                lapsed |= reply.get(0).toInteger() == 1;
                for (int i = 1; i < reply.size(); i++) {
                    claimed.add(reply.get(i).toString());
                }
            }
            if (!any) {
                return Future.failedFuture(failure);
            }
            boolean result = lapsed;
            List<Future<Void>> cleanups = new ArrayList<>();
            for (String dead : claimed) {
                LOG.info("Replica {} stopped heartbeating; removing its entries", dead);
                cleanups.add(removeEntries(dead).onFailure(e -> LOG.warn("Could not remove the entries of dead replica {} yet: {}",
                        dead, e.toString())));
            }
            return Future.join(cleanups).compose(x -> readUntrusted()).transform(x -> Future.succeededFuture(result));
        });
    }

    /** Reads the auctions whose peak was held back again: after the heartbeats, their entries may be trusted again. */
    private Future<Void> readUntrusted() {
        if (untrusted.isEmpty()) {
            return Future.succeededFuture();
        }
        long now = clock.millis();
        List<AuctionId> auctions = List.copyOf(untrusted);
        List<Request> requests = new ArrayList<>();
        for (AuctionId auction : auctions) {
            requests.add(reportRequest(auction, "", new LocalCount(0, 0), now, ""));
        }
        return REPORT.batch(redis, requests).map(replies -> {
            for (int i = 0; i < auctions.size(); i++) {
                toCount(auctions.get(i), replies.get(i));
            }
            return null;
        });
    }

    private Future<Response> send(RedisScript script, Request call) {
        return script.batch(redis, List.of(call)).map(replies -> replies.get(0));
    }

    /**
     * The replicas with entries in the auction's hash ({@code n:<node>} = {@code <connections>:<anonymous>:<applied>})
     * that are alive by the shard's liveness hash ({@code <deadline ms>:<applied>}, see heartbeat.lua), with their
     * connections: two reads, the hash and then the deadlines of the replicas it names.
     */
    @Override
    public Future<Map<String, Long>> replicas(AuctionId auction) {
        String counts = RedisKeys.counts(auction);
        String live = livenessKey(String.valueOf(topology.shardOf(counts)));
        return redis.send(Request.cmd(Command.HGETALL).arg(counts)).compose(reply -> {
            Map<String, Long> held = new LinkedHashMap<>();
            if (reply != null) {
                for (String field : reply.getKeys()) {
                    Long connections = field.startsWith("n:") ? leadingNumber(reply.get(field).toString()) : null;
                    if (connections != null && connections > 0) {
                        held.put(field.substring(2), connections);
                    }
                }
            }
            if (held.isEmpty()) {
                return Future.succeededFuture(held);
            }
            List<String> nodes = new ArrayList<>(held.keySet());
            Request deadlines = Request.cmd(Command.HMGET).arg(live);
            nodes.forEach(deadlines::arg);
            return redis.send(deadlines).map(answer -> {
                long now = clock.millis();
                Map<String, Long> alive = new java.util.HashMap<>();
                for (int i = 0; i < nodes.size(); i++) {
                    Long deadline = answer.get(i) == null ? null : leadingNumber(answer.get(i).toString());
                    if (deadline != null && deadline > now) {
                        alive.put(nodes.get(i), held.get(nodes.get(i)));
                    }
                }
                return alive;
            });
        });
    }

    /** The number before the first colon of an entry this backend wrote, or null for anything else ("dead:..."). */
    private static Long leadingNumber(String value) {
        int colon = value.indexOf(':');
        try {
            return Long.parseLong(colon < 0 ? value : value.substring(0, colon));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    @Override
    public Future<Map<AuctionId, ViewerCount>> report(String nodeId, Map<AuctionId, LocalCount> local) {
        if (local.isEmpty()) {
            return Future.succeededFuture(Map.of());
        }
        long now = clock.millis();
        Map<String, List<AuctionId>> byShard = new LinkedHashMap<>();
        Request watching = Request.cmd(Command.SADD).arg(RedisKeys.nodeAuctions(nodeId));
        Request left = Request.cmd(Command.SREM).arg(RedisKeys.nodeAuctions(nodeId));
        boolean anyWatching = false;
        boolean anyLeft = false;
        for (Map.Entry<AuctionId, LocalCount> entry : local.entrySet()) {
            AuctionId auction = entry.getKey();
            LocalCount share = entry.getValue();
            if (share.connections() < 0 || share.anonymous() < 0 || share.anonymous() > share.connections()) {
                return Future.failedFuture(new IllegalArgumentException("bad share for " + auction + ": "
                        + share.connections() + " connections, " + share.anonymous() + " anonymous"));
            }
            byShard.computeIfAbsent(String.valueOf(topology.shardOf(RedisKeys.counts(auction))), s -> new ArrayList<>()).add(auction);
            if (share.connections() > 0) {
                watching.arg(auction.value());
                anyWatching = true;
            } else {
                left.arg(auction.value());
                anyLeft = true;
            }
        }
        // The node's own index (where to clean up after it) goes with the pipeline of the shard that holds it: on one
        // Redis the report stays one round trip.
        String indexShard = String.valueOf(topology.shardOf(RedisKeys.nodeAuctions(nodeId)));
        byShard.computeIfAbsent(indexShard, s -> new ArrayList<>());
        List<Request> index = new ArrayList<>();
        if (anyWatching) {
            index.add(watching);
            index.add(Request.cmd(Command.PEXPIRE).arg(RedisKeys.nodeAuctions(nodeId)).arg(KEY_RETENTION_MILLIS));
        }
        if (anyLeft) {
            index.add(left);
        }
        List<Future<Map<AuctionId, ViewerCount>>> parts = new ArrayList<>();
        byShard.forEach((shard, auctions) -> {
            List<Request> requests = new ArrayList<>();
            for (AuctionId auction : auctions) {
                requests.add(reportRequest(auction, nodeId, local.get(auction), now, ""));
            }
            if (shard.equals(indexShard)) {
                requests.addAll(index);
            }
            parts.add(REPORT.batch(redis, requests).compose(responses -> {
                Map<AuctionId, ViewerCount> counts = new LinkedHashMap<>();
                for (int i = 0; i < auctions.size(); i++) {
                    if (responses.get(i).get(0).toLong() == NOT_ALIVE) {
                        return Future.failedFuture(new NotAliveException(nodeId));
                    }
                    ViewerCount count = toCount(auctions.get(i), responses.get(i));
                    if (count != null) {
                        counts.put(auctions.get(i), count);
                    }
                }
                return Future.succeededFuture(counts);
            }));
        });
        if (parts.size() == 1) {
            return parts.get(0);
        }
        return Future.join(parts).transform(ar -> {
            Map<AuctionId, ViewerCount> counts = new LinkedHashMap<>();
            Throwable failure = null;
            for (Future<Map<AuctionId, ViewerCount>> part : parts) {
                if (part.succeeded()) {
                    counts.putAll(part.result());
                } else if (part.cause() instanceof NotAliveException notAlive) {
                    // written elsewhere or not: the caller heartbeats and writes everything again
                    return Future.failedFuture(notAlive);
                } else {
                    failure = part.cause();
                }
            }
            return counts.isEmpty() && failure != null ? Future.failedFuture(failure) : Future.succeededFuture(counts);
        });
    }

    @Override
    public Future<ViewerCount> read(AuctionId auction) {
        return send(REPORT, reportRequest(auction, "", new LocalCount(0, 0), clock.millis(), "")).compose(reply -> {
            ViewerCount count = toCount(auction, reply);
            return count != null ? Future.succeededFuture(count) : Future.failedFuture(notAHash(auction, reply));
        });
    }

    @Override
    public Future<Reading> read(AuctionId auction, String nodeId, LocalCount local) {
        return send(REPORT, reportRequest(auction, "", new LocalCount(0, 0), clock.millis(), nodeId)).compose(reply -> {
            ViewerCount count = toCount(auction, reply);
            if (count == null) {
                return Future.failedFuture(notAHash(auction, reply));
            }
            long connections = Math.max(0, reply.get(5).toLong() - reply.get(3).toLong() + local.connections());
            long people = Math.max(0, reply.get(6).toLong() - reply.get(4).toLong() + local.anonymous());
            long current = countBy == CountBy.PERSON ? people : connections;
            return Future.succeededFuture(new Reading(
                    new ViewerCount(auction, current, Math.max(count.peak(), current), count.version()), connections, people));
        });
    }

    @Override
    public Future<Void> removeNode(String nodeId) {
        // found dead first, so that every read from now on leaves it out, then its entries are removed one by one
        long claimEnd = clock.millis() + CLAIM_MILLIS;
        List<Future<Response>> marked = new ArrayList<>();
        for (String shard : topology.shards()) {
            marked.add(send(RELEASE, RELEASE.call(livenessKey(shard)).arg(nodeId).arg("1").arg(claimEnd)));
        }
        return Future.all(marked).compose(v -> removeEntries(nodeId));
    }

    /**
     * The auctions that replicas not found dead hold viewers in, by their indexes: read on request, so nothing is written
     * at rest to keep it. May include an auction a replica just left, or one of a replica that died a moment ago.
     */
    Future<Set<AuctionId>> heldAuctions() {
        List<Future<Response>> hashes = new ArrayList<>();
        for (String shard : topology.shards()) {
            hashes.add(redis.send(Request.cmd(Command.HGETALL).arg(livenessKey(shard))));
        }
        return Future.all(hashes).compose(all -> {
            Set<String> alive = new LinkedHashSet<>();
            for (Future<Response> hash : hashes) {
                Response fields = hash.result();
                for (String node : fields.getKeys()) {
                    String[] record = fields.get(node).toString().split(":");
                    // a lapsed deadline lists the replica's auctions too: whether its entries count is the count
                    // read's to decide (report.lua), which refuses rather than sweeps while Redis refuses writes
                    if (record.length == 2 && !record[0].equals("dead")) {
                        alive.add(node);
                    }
                }
            }
            List<Future<Response>> indexes = new ArrayList<>();
            alive.forEach(node -> indexes.add(redis.send(Request.cmd(Command.SMEMBERS).arg(RedisKeys.nodeAuctions(node)))));
            return Future.all(indexes).map(x -> {
                Set<AuctionId> auctions = new LinkedHashSet<>();
                for (Future<Response> index : indexes) {
                    for (Response member : index.result()) {
                        auctions.add(AuctionId.of(member.toString()));
                    }
                }
                return auctions;
            });
        });
    }

    /** Removes the entries of a node found dead from every auction it held, then its liveness records. */
    private Future<Void> removeEntries(String nodeId) {
        String index = RedisKeys.nodeAuctions(nodeId);
        return redis.send(Request.cmd(Command.SMEMBERS).arg(index)).compose(members -> {
            long now = clock.millis();
            List<Request> requests = new ArrayList<>();
            for (Response member : members) {
                requests.add(reportRequest(AuctionId.of(member.toString()), "", new LocalCount(0, 0), now, ""));
            }
            return requests.isEmpty() ? Future.succeededFuture() : REPORT.batch(redis, requests);
        }).compose(swept -> redis.send(Request.cmd(Command.DEL).arg(index))).compose(deleted -> {
            List<Future<Response>> released = new ArrayList<>();
            for (String shard : topology.shards()) {
                released.add(send(RELEASE, RELEASE.call(livenessKey(shard)).arg(nodeId).arg("0").arg(0)));
            }
            return Future.all(released);
        }).mapEmpty();
    }

    /**
     * The liveness hash of a shard: {@code gavel:{live:<n>}} for the first {@code n} whose slot that shard serves (on
     * one Redis, {@code n} = 0).
     */
    private String livenessKey(String shard) {
        String known = livenessKeys.get(shard);
        if (known != null && Objects.equals(String.valueOf(topology.shardOf(known)), shard)) {
            return known;
        }
        if (!topology.shards().contains(shard)) {
            // the slot map is not read yet: the command fails on its own key anyway
            return RedisKeys.liveness(0);
        }
        for (int n = 0; n < ClusterSlots.SLOTS * 64; n++) {
            String key = RedisKeys.liveness(n);
            if (Objects.equals(String.valueOf(topology.shardOf(key)), shard)) {
                livenessKeys.put(shard, key);
                return key;
            }
        }
        throw new IllegalStateException("no liveness key found for shard " + shard);
    }

    private Request reportRequest(AuctionId auction, String nodeId, LocalCount share, long now, String reader) {
        String counts = RedisKeys.counts(auction);
        Request request = REPORT.call(counts)
                .arg(nodeId)
                .arg(share.connections())
                .arg(share.anonymous())
                .arg(now)
                .arg(leaseMillis)
                .arg(RedisKeys.channel(auction))
                .arg(KEY_RETENTION_MILLIS)
                .arg(share.knownPeak())
                // The wall clock, not the injected one: it is compared with Redis's own clock.
                .arg(System.currentTimeMillis())
                .arg(LATE_REPORT_MILLIS)
                .arg(publish)
                .arg(countBy == CountBy.PERSON ? "person" : "connection")
                .arg(reader)
                .arg(share.complete() ? "1" : "0")
                .arg(livenessKey(String.valueOf(topology.shardOf(counts))))
                .arg(historyIntervalMillis)
                .arg(historyRetentionMillis);
        share.persons().forEach((person, here) -> request.arg((here ? "+" : "-") + person));
        return request;
    }

    private static IllegalStateException notAHash(AuctionId auction, Response reply) {
        return new IllegalStateException("the auction's key " + RedisKeys.counts(auction) + " in Redis is not a hash: " + reply.get(3));
    }

    /** report.lua's answer to a report of a node that is not alive. */
    private static final long NOT_ALIVE = -2;

    /** The count of a reply of report.lua, or null (logged, rate-limited) when the auction's key is not a hash. */
    private ViewerCount toCount(AuctionId auction, Response reply) {
        // {-1, 0, 0, error}: see report.lua
        if (reply.get(0).toLong() < 0) {
            wrongType(auction, reply.get(3).toString());
            return null;
        }
        if (reply.get(7).toLong() == 0) {
            untrusted.add(auction);
        } else {
            untrusted.remove(auction);
        }
        return new ViewerCount(auction, reply.get(0).toLong(), reply.get(1).toLong(), reply.get(2).toLong());
    }

    /** One line per {@link #WRONG_TYPE_LOG_MILLIS} at most, whatever the number of auctions or writes. */
    private void wrongType(AuctionId auction, String error) {
        long now = System.nanoTime();
        long last = lastWrongTypeLog.get();
        if (now - last < TimeUnit.MILLISECONDS.toNanos(WRONG_TYPE_LOG_MILLIS) || !lastWrongTypeLog.compareAndSet(last, now)) {
            wrongTypeSinceLog.incrementAndGet();
            return;
        }
        LOG.atWarn().addKeyValue("auction", auction.value()).log("The auction's key {} in Redis is not a hash ({}): "
                        + "its count is not written (the other auctions' are); remove the key ({} more such failures "
                        + "since the last line)", RedisKeys.counts(auction), error, wrongTypeSinceLog.getAndSet(0));
    }
}
