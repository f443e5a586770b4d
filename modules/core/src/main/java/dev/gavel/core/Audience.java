package dev.gavel.core;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.ContextInternal;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The viewers of one replica: one {@link LocalRooms} per event loop that holds viewers, and one
 * {@link PresenceReporter} that reports their sum per auction to the store and brings counts and events back.
 *
 * <p>Work per viewer stays on the loop that owns its connection: a join or a leave changes that loop's room,
 * and the loop tells the reporter once per turn, however many viewers joined. Nothing goes to the store per
 * viewer: the reporter writes one batch per flush interval, so the store's load grows with auctions and replicas,
 * never with viewers or loops. A count or an event reaches each loop with viewers of the auction once, and that
 * loop writes it to its viewers.
 *
 * <p>{@link #join} and {@link #leave} are called on the viewer's own context (its connection's event loop); its
 * {@link Viewer} is only ever called on that context.
 */
public final class Audience {

    private final Context reporterContext;
    private final PresenceReporter reporter;
    private final Engine engine;
    private final Map<Context, LocalRooms> loopsByContext = new ConcurrentHashMap<>();
    private final List<LocalRooms> loops = new CopyOnWriteArrayList<>();
    private final AtomicInteger localViewers = new AtomicInteger();
    private volatile boolean stopping;

    public Audience(Vertx vertx, Engine engine, String nodeId, AudienceSettings settings, Clock clock) {
        this.reporterContext = vertx.getOrCreateContext();
        this.engine = engine;
        this.reporter = new PresenceReporter(engine, nodeId, settings, clock, Timers.of(vertx), new PresenceReporter.Loops() {
            @Override
            public void count(int loop, ViewerCount count) {
                LocalRooms rooms = loops.get(loop);
                rooms.context().runOnContext(v -> rooms.count(count));
            }

            @Override
            public void event(int loop, AuctionId auction, ViewerEvent event) {
                LocalRooms rooms = loops.get(loop);
                rooms.context().runOnContext(v -> rooms.event(auction, event));
            }
        });
    }

    /**
     * Removes whatever an earlier run under the same node id left in the store, then starts flushing. A store
     * that is away is not fatal: the entries are written once it is back.
     */
    public Future<Void> start() {
        return onReporter(() -> {
            engine.onReconnected(() -> reporterContext.runOnContext(x -> reporter.rewriteAll()));
            return reporter.start();
        });
    }

    /**
     * Stops all writing to the store at once and for good, leaving the entries there, as a process that is
     * killed does. Tests use it to play a crashed replica.
     */
    public void halt() {
        reporter.halt();
    }

    /**
     * Adds a viewer to an auction's room and sends it the auction's count. {@code viewerId} names who is behind
     * the connection: connections with one id count as one unique viewer, on every replica. Call on the viewer's
     * context; a replica that is stopping closes the viewer with 1012 instead.
     */
    public void join(AuctionId auction, Viewer viewer, String viewerId) {
        LocalRooms rooms = roomsHere();
        onLoop(rooms, () -> {
            if (stopping || rooms.isClosed()) {
                viewer.close(Viewer.SERVICE_RESTART, "server stopping");
            } else if (rooms.join(auction, viewer, viewerId, reporter.known(auction))) {
                localViewers.incrementAndGet();
            }
        });
    }

    /** Removes a viewer from an auction's room; unknown viewers are ignored. Call on the viewer's context. */
    public void leave(AuctionId auction, Viewer viewer) {
        LocalRooms rooms = roomsHere();
        onLoop(rooms, () -> {
            if (rooms.leave(auction, viewer)) {
                localViewers.decrementAndGet();
            }
        });
    }

    /**
     * True while this replica's count writes to the store fail (e.g. Redis refuses writes because its memory is
     * full, or does not answer in time): its viewers keep their last good count, and it is not ready for more.
     * Any thread.
     */
    public boolean storeFailing() {
        return reporter.storeFailure() != null;
    }

    /** Why this replica's count writes fail, or null while they work. Any thread. */
    public String storeFailure() {
        return reporter.storeFailure();
    }

    /**
     * When (ms since the epoch) this replica last renewed all its entries in the store, or last found none to
     * renew; it stays put while writes fail. Any thread.
     */
    public long lastGoodHeartbeatMillis() {
        return reporter.lastGoodHeartbeatMillis();
    }

    /** Viewer connections open on this replica. */
    public int localViewers() {
        return localViewers.get();
    }

    /** Viewers per auction on this replica, as the loops last reported them. Any thread; may be a moment old. */
    public Future<Map<AuctionId, Integer>> localRooms() {
        return onReporter(() -> Future.succeededFuture(reporter.localRooms()));
    }

    /**
     * Stops: removes this replica's entries from the store at once (so the others count without it), then
     * closes every viewer with 1012 (Service Restart).
     */
    public Future<Void> shutdown() {
        stopping = true;
        return onReporter(reporter::stop)
                .compose(v -> {
                    List<Future<Void>> closed = new ArrayList<>();
                    for (LocalRooms rooms : loops) {
                        Promise<Void> done = Promise.promise();
                        rooms.context().runOnContext(x -> {
                            localViewers.addAndGet(-rooms.viewers());
                            rooms.closeAll(Viewer.SERVICE_RESTART, "server stopping");
                            done.complete();
                        });
                        closed.add(done.future());
                    }
                    return Future.join(closed);
                })
                .compose(v -> onReporter(reporter::unsubscribeAll));
    }

    /**
     * The rooms of the calling context's event loop; a caller on no Vert.x context uses the reporter's. Vert.x runs
     * each connection on a context of its own that duplicates its server's: the rooms go by the one underneath, so
     * that every connection a server verticle accepted shares its loop's rooms.
     */
    private LocalRooms roomsHere() {
        Context context = Vertx.currentContext();
        if (context == null) {
            context = reporterContext;
        } else if (context instanceof ContextInternal internal) {
            context = internal.unwrap();
        }
        LocalRooms rooms = loopsByContext.get(context);
        return rooms != null ? rooms : register(context);
    }

    private synchronized LocalRooms register(Context context) {
        return loopsByContext.computeIfAbsent(context, c -> {
            LocalRooms rooms = new LocalRooms(loops.size(), c,
                    (loop, deltas, ids) -> reporterContext.runOnContext(v -> reporter.changed(loop, deltas, ids)));
            loops.add(rooms);
            return rooms;
        });
    }

    private static void onLoop(LocalRooms rooms, Runnable action) {
        Context current = Vertx.currentContext();
        if (current instanceof ContextInternal internal && internal.unwrap() == rooms.context()) {
            action.run();
        } else {
            rooms.context().runOnContext(v -> action.run());
        }
    }

    private <T> Future<T> onReporter(Supplier<Future<T>> action) {
        Promise<T> result = Promise.promise();
        reporterContext.runOnContext(v -> action.get().onComplete(result));
        return result.future();
    }
}
