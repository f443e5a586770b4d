package dev.gavel.redis;

import dev.gavel.core.AuctionId;
import dev.gavel.core.BackendMetrics;
import dev.gavel.core.EventBroker;
import dev.gavel.core.EventLogSettings;
import dev.gavel.core.EventOffset;
import dev.gavel.core.LogRead;
import dev.gavel.core.Timers;
import dev.gavel.core.ViewerEvent;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.ResponseType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Auction events over Redis pub/sub, one channel per auction, and each auction's event log beside it. Publishing is
 * one script (publish.lua) that appends the event to the log and publishes it, through one client, which keeps the
 * publish order of each auction; reading the log is another (read.lua). Subscriptions live on {@link SubscriberLink}s,
 * which reconnect and subscribe again by themselves: one link per shard of the {@link RedisTopology}, holding the
 * channels that shard serves, with the topology's pub/sub (on one Redis, one link with {@code PUBLISH} and
 * {@code SUBSCRIBE}; on a Redis Cluster, one link per master with sharded pub/sub, {@code SPUBLISH} and
 * {@code SSUBSCRIBE}, so that a message goes to the one shard that serves its channel's slot). When the topology
 * changes (slots moved, or Redis sent {@code sunsubscribe} for a channel), each channel is unsubscribed where it was and
 * subscribed where it lives now.
 *
 * <p>Ready ({@link #isConnected}) while some link is connected: on a cluster, the auctions of the other shards go on
 * while one shard fails over.
 */
final class RedisEventBroker implements EventBroker, SubscriberLink.Owner {

    private static final Logger LOG = LoggerFactory.getLogger(RedisEventBroker.class);
    private static final RedisScript PUBLISH = RedisScript.load("publish.lua");
    private static final RedisScript READ = RedisScript.load("read.lua");

    private final Vertx vertx;
    private final Context context;
    private final Redis publisher;
    private final Redis reader;
    private final EventLogSettings log;
    private final BackendMetrics metrics;
    private final Timers timers;
    private final LongSupplier nanoTime;
    /** Which shard serves each channel, and how to reach it. */
    private final RedisTopology topology;
    /** One link per shard. */
    private final Map<String, SubscriberLink> shards = new ConcurrentHashMap<>();
    private final Map<String, List<Listening>> listeners = new ConcurrentHashMap<>();
    private final List<Runnable> reconnectedActions = new CopyOnWriteArrayList<>();
    private final Map<String, Consumer<String>> backendChannels = new ConcurrentHashMap<>();
    /**
     * Channels that left the link they were on (their slot moved, or Redis sent {@code sunsubscribe}) and are not
     * subscribed where they live now yet: once they are, their listeners hear {@code onResubscribed}, since what was
     * published meanwhile went where nobody listened. On the broker's context.
     */
    private final Set<String> moving = new HashSet<>();
    private boolean closed;
    /** How many links are connected now (asked on every viewer admission, so kept, not counted). */
    private volatile int connectedShards;

    /**
     * @param publisher a client that routes by key over {@code topology} (a {@link ShardedRedis}) and reports its
     *                  commands as {@link BackendMetrics.Operation#PUBLISH}
     * @param reader    the same connections, reporting their commands as {@link BackendMetrics.Operation#LOG}
     * @param topology  the shards, whose subscriber links the broker holds; closed with the broker
     * @param timers    the links' timers
     * @param nanoTime  a monotonic clock ({@link System#nanoTime}) for the links
     */
    RedisEventBroker(Vertx vertx, Redis publisher, Redis reader, EventLogSettings log, RedisTopology topology,
                     BackendMetrics metrics, Timers timers, LongSupplier nanoTime) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.publisher = publisher;
        this.reader = reader;
        this.log = log;
        this.metrics = metrics;
        this.timers = timers;
        this.nanoTime = nanoTime;
        this.topology = topology;
        topology.onChange(() -> context.runOnContext(v -> reconcile()));
    }

    /** Connects the subscriber links; completes when first connected, or fails, while they keep trying. */
    Future<Void> start() {
        return topology.refresh().compose(v -> Future.<Void>future(promise -> context.runOnContext(x -> {
            reconcile();
            if (shards.isEmpty()) {
                promise.fail("no Redis Cluster master serves a slot");
                return;
            }
            Future.any(shards.values().stream().map(SubscriberLink::firstTry).toList()).<Void>mapEmpty().onComplete(promise);
        })));
    }

    /** Some link is connected and subscribed (on one Redis: the one link). */
    boolean isConnected() {
        return connectedShards > 0;
    }

    /** Why Redis refuses a link's subscriptions now (the first such link's reason), or null. Any thread. */
    String subscriptionsRefused() {
        for (SubscriberLink link : shards.values()) {
            String why = link.refusal();
            if (why != null) {
                // the link's node, where there are several
                return link.name().isEmpty() ? why : "Redis" + link.name() + ": " + why;
            }
        }
        return null;
    }

    void onReconnected(Runnable action) {
        reconnectedActions.add(action);
    }

    /**
     * Hands every message of a channel of the backend's own (not an auction's) to {@code handler}, on the subscriber
     * connection's thread, for as long as the broker runs. Call before {@link #start}.
     */
    void listen(String channel, Consumer<String> handler) {
        backendChannels.put(channel, handler);
    }

    /**
     * {@link #listen}, once the broker runs: subscribes to the channel now (or with the link's next connection, which
     * subscribes every channel it should hold). Completes once subscribed, or at once while the link is away.
     */
    Future<Void> listenNow(String channel, Consumer<String> handler) {
        backendChannels.put(channel, handler);
        return sync(channel);
    }

    @Override
    public Future<ViewerEvent> publish(AuctionId auction, ViewerEvent event) {
        SubscriberLink link = linkOf(RedisKeys.channel(auction));
        String refused = link == null ? null : link.refusal();
        if (refused != null) {
            // This replica's viewers of the auction would not get the event, nor (with the same ACL) anyone's.
            return Future.failedFuture(new SubscriptionsRefused("Redis refuses this replica's subscription to the "
                    + "auction's channel (" + refused + "); nothing was published"));
        }
        // EVAL, not EVALSHA: publishes of an auction must run in the order they were sent (see RedisScript.eval)
        Request call = PUBLISH.eval(RedisKeys.logHead(auction), RedisKeys.log(auction))
                .arg(RedisKeys.channel(auction))
                .arg(topology.pubSub().publish())
                .arg(event.name())
                .arg(event.dataJson())
                .arg(event.publishedAtMillis())
                .arg(log.size())
                .arg(log.windowMillis())
                .arg(log.headMillis())
                .arg(newEpoch());
        return publisher.send(call).map(reply -> event.at(new EventOffset(reply.get(0).toString(), reply.get(1).toLong())));
    }

    @Override
    public Future<LogRead> read(AuctionId auction, EventOffset after, int limit) {
        Request call = READ.call(RedisKeys.logHead(auction), RedisKeys.log(auction))
                .arg(after == null ? "" : after.epoch())
                .arg(after == null ? 0 : after.seq())
                .arg(limit);
        return READ.batch(reader, List.of(call)).map(replies -> {
            Response reply = replies.get(0);
            if (reply == null || reply.size() == 0) {
                return new LogRead(null, List.of(), null, after == null);
            }
            String epoch = reply.get(0).toString();
            String bid = reply.get(2).toString();
            List<ViewerEvent> events = new ArrayList<>();
            for (Response entry : reply.get(4)) {
                ViewerEvent event = ChannelMessage.entry(epoch, entry.toString());
                if (event != null) {
                    events.add(event);
                }
            }
            return new LogRead(new EventOffset(epoch, reply.get(1).toLong()), events,
                    bid.isEmpty() ? null : ChannelMessage.entry(epoch, bid), reply.get(3).toInteger() == 1);
        });
    }

    /** The epoch of an auction's log made anew: random, so that it differs from any earlier one. */
    private static String newEpoch() {
        return Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50), 36);
    }

    @Override
    public Future<Subscription> subscribe(AuctionId auction, AuctionListener listener) {
        String channel = RedisKeys.channel(auction);
        Listening listening = new Listening(vertx.getOrCreateContext(), listener);
        boolean[] first = {false};
        listeners.compute(channel, (c, list) -> {
            List<Listening> updated = list == null ? new CopyOnWriteArrayList<>() : list;
            first[0] = updated.isEmpty();
            updated.add(listening);
            return updated;
        });
        Subscription subscription = () -> unsubscribe(channel, listening);
        // Already subscribed: nothing to do. Else the subscription follows, or the link's (re)connect makes it.
        return first[0] ? sync(channel).map(subscription) : Future.succeededFuture(subscription);
    }

    private Future<Void> unsubscribe(String channel, Listening listening) {
        boolean[] last = {false};
        listeners.computeIfPresent(channel, (c, list) -> {
            list.remove(listening);
            last[0] = list.isEmpty();
            return last[0] ? null : list;
        });
        return last[0] ? sync(channel) : Future.succeededFuture();
    }

    /**
     * Subscribes to or unsubscribes from {@code channel} on its link, as its listeners now say. On the broker's
     * context, one at a time, from the state at that moment: a last listener leaving and a first one arriving at once
     * on two threads end subscribed.
     */
    private Future<Void> sync(String channel) {
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> syncHere(channel).onComplete(done));
        return done.future();
    }

    /** {@link #sync}, on the broker's context. */
    private Future<Void> syncHere(String channel) {
        SubscriberLink link = linkOf(channel);
        if (link == null || !link.isConnected()) {
            return Future.succeededFuture();
        }
        boolean wanted = listeners.containsKey(channel) || backendChannels.containsKey(channel);
        if (wanted && !link.isSubscribed(channel)) {
            Future<Void> subscribed = link.subscribe(channel);
            if (moving.remove(channel)) {
                subscribed.onSuccess(v -> resubscribed(channel));
            }
            return subscribed;
        }
        if (!wanted && link.isSubscribed(channel)) {
            return link.unsubscribe(channel);
        }
        return Future.succeededFuture();
    }

    private void countConnected() {
        connectedShards = (int) shards.values().stream().filter(SubscriberLink::isUp).count();
    }

    /** The link that should hold {@code channel} now, or null while its master is unknown. */
    private SubscriberLink linkOf(String channel) {
        String shard = topology.shardOf(channel);
        return shard == null ? null : shards.get(shard);
    }

    @Override
    public Collection<String> channelsOf(SubscriberLink link) {
        List<String> channels = new ArrayList<>();
        listeners.keySet().forEach(channel -> {
            if (linkOf(channel) == link) {
                channels.add(channel);
            }
        });
        backendChannels.keySet().forEach(channel -> {
            if (linkOf(channel) == link) {
                channels.add(channel);
            }
        });
        return channels;
    }

    /**
     * At the start, and after the topology changed: a link for each shard (and none for a node that no longer serves
     * any), and each channel subscribed on the link of the shard that serves it now, and nowhere else.
     */
    private void reconcile() {
        if (closed) {
            return;
        }
        var masters = topology.shards();
        shards.entrySet().removeIf(shard -> {
            if (masters.contains(shard.getKey())) {
                return false;
            }
            LOG.info("Redis{} serves no slot any more; its channels move", shard.getValue().name());
            shard.getValue().close();
            return true;
        });
        countConnected();
        List<SubscriberLink> added = new ArrayList<>();
        for (String master : masters) {
            shards.computeIfAbsent(master, endpoint -> {
                SubscriberLink link = new SubscriberLink(context, topology.describe(endpoint),
                        topology.client(endpoint, "redis-subscribe"), topology.pubSub(), metrics, this, timers, nanoTime);
                added.add(link);
                return link;
            });
        }
        for (SubscriberLink link : shards.values()) {
            for (String channel : link.subscribed()) {
                if (linkOf(channel) != link) {
                    moving.add(channel);
                    link.unsubscribe(channel);
                }
            }
        }
        listeners.keySet().forEach(this::syncHere);
        backendChannels.keySet().forEach(this::syncHere);
        // started once the map is complete: a link's first connection asks which channels are its own
        added.forEach(SubscriberLink::start);
    }

    @Override
    public void connected(SubscriberLink link, boolean again) {
        countConnected();
        // Also after a first connection that came late: whatever was meant for Redis meanwhile is written now.
        reconnectedActions.forEach(Runnable::run);
        // and whatever was published while the link's channels were not subscribed is in the logs: the listeners read it
        channelsOf(link).forEach(this::resubscribed);
    }

    private void resubscribed(String channel) {
        for (Listening listening : listeners.getOrDefault(channel, List.of())) {
            listening.context.runOnContext(v -> listening.listener.onResubscribed());
        }
    }

    @Override
    public void lost(SubscriberLink link, String why) {
        countConnected();
        // a master that died may have been replaced by its replica
        topology.refresh();
    }

    Future<Void> close() {
        return Future.<Void>future(promise -> context.runOnContext(v -> {
            closed = true;
            topology.close();
            List<Future<Void>> closing = new ArrayList<>();
            shards.values().forEach(link -> closing.add(link.close()));
            shards.clear();
            connectedShards = 0;
            Future.join(closing).<Void>mapEmpty().onComplete(promise);
        }));
    }

    @Override
    public void pushed(SubscriberLink link, Response push) {
        if (push == null || (push.type() != ResponseType.PUSH && push.type() != ResponseType.MULTI) || push.size() < 3) {
            // A reply whose command's promise was dropped (see SubscriberLink), e.g. a PONG.
            return;
        }
        String kind = push.get(0).toString();
        String channel = push.get(1).toString();
        if ("sunsubscribe".equals(kind)) {
            // Ours, or Redis's when the channel's slot moved away: then it is subscribed again where the slot lives.
            context.runOnContext(v -> {
                link.dropped(channel);
                moving.add(channel);
                if (listeners.containsKey(channel) || backendChannels.containsKey(channel)) {
                    topology.refresh().onComplete(ar -> context.runOnContext(x -> reconcile()));
                }
            });
            return;
        }
        if (!"message".equals(kind) && !"smessage".equals(kind)) {
            return;
        }
        String message = push.get(2).toString();
        Consumer<String> engineChannel = backendChannels.get(channel);
        if (engineChannel != null) {
            engineChannel.accept(message);
            return;
        }
        AuctionId auction = RedisKeys.auctionOfChannel(channel);
        if (auction == null) {
            return;
        }
        for (Listening listening : listeners.getOrDefault(channel, List.of())) {
            listening.context.runOnContext(v -> {
                if (!ChannelMessage.decode(auction, message, listening.listener)) {
                    LOG.warn("Ignored a message of unknown shape on {}", channel);
                }
            });
        }
    }

    /** A publish refused because Redis refuses the subscription its channel needs here. */
    static final class SubscriptionsRefused extends RuntimeException {
        SubscriptionsRefused(String message) {
            super(message, null, false, false);
        }
    }

    private record Listening(Context context, AuctionListener listener) {
    }
}
