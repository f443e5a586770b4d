package dev.gavel.core;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The viewers of one replica, grouped into one room per auction.
 *
 * <p>Work per viewer stays here: a join or a leave only changes a local set and marks the room dirty. Every
 * flush interval the replica writes the local counts of its dirty rooms to the {@link PresenceStore} in one
 * batch, and every heartbeat interval all of them, which renews their leases and sweeps entries of dead
 * replicas. So the store's load grows with auctions and replicas, never with viewers.
 *
 * <p>A room is subscribed to its auction on the {@link EventBroker} only while it has viewers. Count changes
 * reach viewers at most once per broadcast interval, always ending on the latest count.
 *
 * <p>All state is confined to one Vert.x context; {@link #join} and {@link #leave} may be called from any
 * thread.
 */
public final class Audience {

    private static final Logger LOG = LoggerFactory.getLogger(Audience.class);

    private final Vertx vertx;
    private final Context context;
    private final Engine engine;
    private final String nodeId;
    private final AudienceSettings settings;
    private final Clock clock;
    private final Map<AuctionId, Room> rooms = new HashMap<>();
    private final AtomicInteger localViewers = new AtomicInteger();
    private final NewViewerIds newViewerIds;

    private long flushTimer = -1;
    private long lastHeartbeatAt;
    private Future<?> inFlight = Future.succeededFuture();
    private boolean flushing;
    private boolean storeFailing;
    private boolean stopping;
    private boolean earlierEntriesCleared;
    private volatile boolean halted;

    public Audience(Vertx vertx, Engine engine, String nodeId, AudienceSettings settings, Clock clock) {
        this.vertx = vertx;
        this.context = vertx.getOrCreateContext();
        this.engine = engine;
        this.nodeId = nodeId;
        this.settings = settings;
        this.clock = clock;
        this.newViewerIds = new NewViewerIds(vertx, engine, clock, settings);
    }

    /**
     * Removes whatever an earlier run under the same node id left in the store, then starts flushing. A
     * store that is away is not fatal: the entries are written once it is back.
     */
    public Future<Void> start() {
        Promise<Void> started = Promise.promise();
        context.runOnContext(v -> {
            engine.onReconnected(() -> context.runOnContext(x -> rewriteAll()));
            clearEarlierEntries().onComplete(x -> {
                        flushTimer = vertx.setPeriodic(settings.flushMillis(), t -> flush());
                        started.complete();
                    });
        });
        return started.future();
    }

    /**
     * Removes what an earlier run under this node id left in the store; until that worked, it is tried again
     * whenever the store comes back.
     */
    private Future<Void> clearEarlierEntries() {
        return engine.presence().removeNode(nodeId)
                .timeout(settings.requestTimeoutMillis(), TimeUnit.MILLISECONDS)
                .onSuccess(v -> earlierEntriesCleared = true)
                .onFailure(e -> LOG.warn("Could not clear earlier entries of node {} yet: {}", nodeId, e.toString()));
    }

    /**
     * Stops all writing to the store at once and for good, leaving the entries there, as a process that is
     * killed does. Tests use it to play a crashed replica.
     */
    public void halt() {
        halted = true;
    }

    /** Adds a viewer to an auction's room and sends it the auction's count; it counts as its own unique viewer. */
    public void join(AuctionId auction, Viewer viewer) {
        join(auction, viewer, ViewerId.random());
    }

    /**
     * Adds a viewer to an auction's room and sends it the auction's count. {@code viewerId} names who is behind
     * the connection: connections with one id count as one unique viewer, on every replica.
     */
    public void join(AuctionId auction, Viewer viewer, String viewerId) {
        context.runOnContext(v -> {
            if (stopping) {
                viewer.close(Viewer.SERVICE_RESTART, "server stopping");
                return;
            }
            Room room = rooms.get(auction);
            boolean opened = room == null;
            if (opened) {
                room = new Room(auction);
                rooms.put(auction, room);
            }
            if (room.viewers.add(viewer)) {
                localViewers.incrementAndGet();
                room.dirty = true;
                newViewerIds.add(auction, viewerId);
                if (room.known != null) {
                    viewer.send(room.estimate().toEvent());
                }
            }
            if (opened) {
                subscribe(room);
            }
        });
    }

    /** Removes a viewer from an auction's room; unknown viewers are ignored. */
    public void leave(AuctionId auction, Viewer viewer) {
        context.runOnContext(v -> {
            Room room = rooms.get(auction);
            if (room != null && room.viewers.remove(viewer)) {
                localViewers.decrementAndGet();
                room.dirty = true;
            }
        });
    }

    /** Viewer connections open on this replica. */
    public int localViewers() {
        return localViewers.get();
    }

    /** Auctions with a room on this replica. Call on any thread; the answer may be a moment old. */
    public Future<Map<AuctionId, Integer>> localRooms() {
        Promise<Map<AuctionId, Integer>> result = Promise.promise();
        context.runOnContext(v -> {
            Map<AuctionId, Integer> sizes = new LinkedHashMap<>();
            rooms.forEach((id, room) -> sizes.put(id, room.viewers.size()));
            result.complete(sizes);
        });
        return result.future();
    }

    /**
     * Stops: removes this replica's entries from the store at once (so the others count without it), then
     * closes every viewer with 1012 (Service Restart).
     */
    public Future<Void> shutdown() {
        Promise<Void> done = Promise.promise();
        context.runOnContext(v -> {
            stopping = true;
            vertx.cancelTimer(flushTimer);
            inFlight.transform(x -> engine.presence().removeNode(nodeId))
                    .timeout(settings.requestTimeoutMillis(), TimeUnit.MILLISECONDS)
                    .onFailure(e -> LOG.warn("Could not remove node {} from the counts: {}", nodeId, e.toString()))
                    .onComplete(x -> {
                        List<Future<Void>> unsubscribed = new ArrayList<>();
                        for (Room room : rooms.values()) {
                            room.viewers.forEach(viewer -> viewer.close(Viewer.SERVICE_RESTART, "server stopping"));
                            if (room.subscription != null) {
                                unsubscribed.add(room.subscription.unsubscribe());
                            }
                        }
                        localViewers.set(0);
                        rooms.clear();
                        Future.join(unsubscribed).onComplete(y -> done.complete());
                    });
        });
        return done.future();
    }

    private void subscribe(Room room) {
        room.subscribing = true;
        engine.broker().subscribe(room.auction, room).onComplete(ar -> {
            room.subscribing = false;
            if (ar.failed()) {
                LOG.warn("Could not subscribe to auction {}: {}", room.auction, ar.cause().toString());
                return;
            }
            if (rooms.get(room.auction) != room) {
                ar.result().unsubscribe();
                return;
            }
            room.subscription = ar.result();
            flush();
        });
    }

    /** After the store was lost: every entry may be gone, and changes may have been missed. */
    private void rewriteAll() {
        LOG.info("Store connection restored; rewriting entries of {} auctions", rooms.size());
        Future<Void> cleared = earlierEntriesCleared ? Future.succeededFuture() : clearEarlierEntries();
        cleared.onComplete(x -> {
            rooms.values().forEach(room -> room.dirty = true);
            lastHeartbeatAt = 0;
            flush();
        });
    }

    /** Writes dirty rooms (all rooms when a heartbeat is due) to the store in one batch. */
    private void flush() {
        if (flushing || stopping || halted || !engine.isReady()) {
            return;
        }
        long now = clock.millis();
        boolean heartbeat = now - lastHeartbeatAt >= settings.heartbeatMillis();
        Map<AuctionId, Long> batch = new HashMap<>();
        for (Room room : rooms.values()) {
            if (room.subscription == null) {
                if (!room.subscribing) {
                    subscribe(room);
                }
            } else if (heartbeat || room.dirty) {
                room.dirty = false;
                batch.put(room.auction, (long) room.viewers.size());
            }
        }
        if (batch.isEmpty()) {
            return;
        }
        flushing = true;
        Future<Map<AuctionId, ViewerCount>> reported = engine.presence().report(nodeId, batch)
                .timeout(settings.requestTimeoutMillis(), TimeUnit.MILLISECONDS);
        inFlight = reported;
        reported.onComplete(ar -> {
            flushing = false;
            if (ar.succeeded()) {
                if (heartbeat) {
                    lastHeartbeatAt = now;
                }
                if (storeFailing) {
                    storeFailing = false;
                    LOG.info("Writing counts to the store works again");
                }
                ar.result().forEach((auction, count) -> reported(auction, batch.get(auction), count));
            } else {
                if (!storeFailing) {
                    storeFailing = true;
                    LOG.warn("Could not write counts to the store, will retry: {}", ar.cause().toString());
                }
                batch.keySet().forEach(auction -> {
                    Room room = rooms.get(auction);
                    if (room != null) {
                        room.dirty = true;
                    }
                });
            }
        });
    }

    private void reported(AuctionId auction, long viewers, ViewerCount count) {
        Room room = rooms.get(auction);
        if (room == null) {
            return;
        }
        room.reported = viewers;
        room.onCount(count);
        if (room.viewers.isEmpty() && viewers == 0 && !room.dirty) {
            rooms.remove(auction);
            room.close();
        }
    }

    /** One auction's viewers on this replica. */
    private final class Room implements EventBroker.AuctionListener {
        final AuctionId auction;
        final Set<Viewer> viewers = new HashSet<>();
        final BroadcastThrottle throttle = new BroadcastThrottle(settings.broadcastMillis());
        EventBroker.Subscription subscription;
        boolean subscribing;
        boolean dirty;
        long reported;
        ViewerCount known;
        ViewerCount shown;
        long broadcastTimer = -1;

        Room(AuctionId auction) {
            this.auction = auction;
        }

        /**
         * The count a joining viewer sees before the store has it: the last known count with this replica's
         * share replaced by its current local count.
         */
        ViewerCount estimate() {
            long current = Math.max(0, known.current() - reported + viewers.size());
            return new ViewerCount(auction, current, Math.max(known.peak(), current), known.version());
        }

        @Override
        public void onEvent(ViewerEvent event) {
            viewers.forEach(viewer -> viewer.send(event));
        }

        @Override
        public void onCount(ViewerCount count) {
            if (!count.isNewerThan(known)) {
                return;
            }
            known = count;
            if (broadcastTimer != -1) {
                return;
            }
            long delay = throttle.delayBeforeNext(clock.millis());
            if (delay == 0) {
                broadcast();
            } else {
                broadcastTimer = vertx.setTimer(delay, t -> {
                    broadcastTimer = -1;
                    broadcast();
                });
            }
        }

        private void broadcast() {
            if (shown != null && shown.current() == known.current() && shown.peak() == known.peak()) {
                return;
            }
            shown = known;
            throttle.sent(clock.millis());
            ViewerEvent event = known.toEvent();
            viewers.forEach(viewer -> viewer.send(event));
        }

        void close() {
            if (broadcastTimer != -1) {
                vertx.cancelTimer(broadcastTimer);
            }
            if (subscription != null) {
                subscription.unsubscribe();
            }
        }
    }
}
