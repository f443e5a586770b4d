package dev.gavel.core.audience;

import dev.gavel.core.AuctionId;
import dev.gavel.core.AuctionRegistry;
import dev.gavel.core.Backend;
import dev.gavel.core.EventLoops;
import dev.gavel.core.EventOffset;
import dev.gavel.core.PresenceStore;
import dev.gavel.core.Timers;
import dev.gavel.core.ViewerCount;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The viewers of one replica: one {@link LocalRooms} per event loop that holds viewers, one {@link AuctionFeed} per
 * auction with viewers here, which brings its counts and events to the loops, and one {@link CountReporter} that
 * reports the viewers' sum per auction to the store.
 *
 * <p>Work per viewer stays on the loop that owns its connection: a join or a leave changes that loop's room,
 * and the loop tells the reporter once per turn, however many viewers joined. Nothing goes to the store per
 * viewer: the reporter writes one batch per flush interval, so the store's load grows with auctions and replicas,
 * never with viewers or loops. A count or an event reaches each loop with viewers of the auction once, and that
 * loop writes it to its viewers.
 *
 * <p>When an auction is closed ({@link AuctionRegistry#close}, on any replica), its viewers here are sent away with
 * 1000 (Normal Closure). With {@code registeredOnly}, a viewer joining an auction that is not open is sent away
 * the same way: the transports refuse such viewers before they connect, and this catches one that passed that check
 * just before the auction closed.
 *
 * <p>{@link #join} and {@link #leave} are called on the viewer's own context (its connection's event loop); its
 * {@link Viewer} is only ever called on that context.
 */
public final class Audience {

    /** A drain closes a batch of viewers this often. */
    static final long DRAIN_STEP_MILLIS = 100;

    private static final String AUCTION_CLOSED = "auction closed";

    private final Context reporterContext;
    private final CountReporter reporter;
    private final AuctionFeeds feeds;
    private final Backend backend;
    private final AudienceMetrics metrics;
    private final boolean registeredOnly;
    private final Map<Context, LocalRooms> loopsByContext = new ConcurrentHashMap<>();
    private final List<LocalRooms> loops = new CopyOnWriteArrayList<>();
    private final AtomicInteger localViewers = new AtomicInteger();
    private final Timers timers;
    private final Clock clock;
    private final String nodeId;
    private volatile boolean stopping;

    /** @param registeredOnly viewers are taken only for auctions open in the backend's {@link AuctionRegistry} */
    public Audience(Vertx vertx, Backend backend, String nodeId, AudienceSettings settings, Clock clock, Timers timers,
                    AudienceMetrics metrics, boolean registeredOnly) {
        this.reporterContext = vertx.getOrCreateContext();
        this.backend = backend;
        this.registeredOnly = registeredOnly;
        this.timers = timers;
        this.clock = clock;
        this.nodeId = nodeId;
        this.metrics = metrics;
        CountReporter[] counts = new CountReporter[1];
        this.feeds = new AuctionFeeds(reporterContext, backend.broker(), settings, clock, timers, metrics,
                now -> counts[0].countsHeldFor(now), auction -> counts[0].localViewers(auction),
                auction -> backend.presence().read(auction));
        this.reporter = new CountReporter(backend, nodeId, settings, clock, timers, feeds);
        counts[0] = reporter;
    }

    /**
     * An auction's count as this replica tells it (the API): read from the store with this replica's own entry
     * replaced by the viewers it holds ({@link PresenceStore#read(AuctionId, String, long)}), then
     * {@link #countToTell}. Any thread.
     */
    public Future<ViewerCount> count(AuctionId auction) {
        return presence(auction).map(PresenceStore.Reading::count);
    }

    /**
     * {@link #count}, with the auction's connections and people on every replica (this replica's own connections and
     * anonymous viewers as it holds them). Any thread.
     */
    public Future<PresenceStore.Reading> presence(AuctionId auction) {
        return backend.presence().read(auction, nodeId, reporter.localShare(auction))
                .map(read -> new PresenceStore.Reading(countToTell(read.count()), read.connections(), read.people()));
    }

    /**
     * A count read from the store, as this replica tells it (the API): while its counts are held back (the store
     * came back empty or failed, and the replicas are writing their entries again) the count its viewers of the
     * auction were last shown, and never fewer viewers than this replica holds, nor a peak below them. Any thread.
     */
    public ViewerCount countToTell(ViewerCount read) {
        AuctionId auction = read.auctionId();
        ViewerCount count = read;
        // held, or the subscriber connection is away (Redis may be restarting empty; the hold follows once it is back)
        if (reporter.countsHeldFor(clock.millis()) > 0 || !backend.isReady()) {
            ViewerCount shown = feeds.shown(auction);
            if (shown != null) {
                count = shown;
            }
        }
        // a peak never falls while viewers are here (their auction's hash cannot expire): a lower one is a hash rewritten
        ViewerCount known = feeds.known(auction);
        if (known != null && known.peak() > count.peak()) {
            count = new ViewerCount(auction, count.current(), known.peak(), count.version());
        }
        return feeds.atLeastLocal(count);
    }

    /**
     * Removes whatever an earlier run under the same node id left in the store, then starts flushing. A store
     * that is away is not fatal: the entries are written once it is back.
     */
    public Future<Void> start() {
        return onReporter(() -> {
            backend.onReconnected(() -> reporterContext.runOnContext(x -> reporter.rewriteAll()));
            backend.auctions().onClosed(this::closeAuction);
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
     * Adds a viewer to an auction's room and sends it the auction's count, then starts it in the auction's events
     * ({@link Viewer#started}): a new viewer with the current bid, one that comes back ({@code resumeFrom}, the offset
     * of the last event it got) with what it missed. {@code viewerId} names who is behind the connection: connections
     * with one id count as one unique viewer, on every replica. {@code personKey} is the person the connection counts
     * as ({@code "u:<user id>"} for a signed-in user, {@code "v:<viewerId>"}, or null: the connection is a person of its
     * own); connections of one person count once in {@code people}, on every replica. Call on the viewer's context, before its client is
     * told it is connected: from then on it misses no event. A replica that is stopping closes the viewer with 1012
     * instead.
     */
    public void join(AuctionId auction, Viewer viewer, String viewerId, String personKey, EventOffset resumeFrom) {
        LocalRooms rooms = roomsHere();
        onLoop(rooms, () -> {
            if (stopping || rooms.isClosed()) {
                viewer.close(Viewer.SERVICE_RESTART, "server stopping");
            } else if (registeredOnly && !backend.auctions().isOpen(auction)) {
                // after the loop closed the auction's room, if the close came before this join
                viewer.close(Viewer.NORMAL_CLOSURE, AUCTION_CLOSED);
            } else if (rooms.join(auction, viewer, viewerId, personKey, resumeFrom)) {
                localViewers.incrementAndGet();
                metrics.joined();
            }
        });
    }

    /** Removes a viewer from an auction's room; unknown viewers are ignored. Call on the viewer's context. */
    public void leave(AuctionId auction, Viewer viewer) {
        LocalRooms rooms = roomsHere();
        onLoop(rooms, () -> {
            if (rooms.leave(auction, viewer)) {
                localViewers.decrementAndGet();
                metrics.left(1);
            }
        });
    }

    /** Sends every viewer of the auction on this replica away with 1000 (Normal Closure). Any thread. */
    public void closeAuction(AuctionId auction) {
        for (LocalRooms rooms : loops) {
            rooms.context().runOnContext(v -> {
                int closed = rooms.closeRoom(auction, Viewer.NORMAL_CLOSURE, AUCTION_CLOSED);
                localViewers.addAndGet(-closed);
                metrics.left(closed);
            });
        }
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

    /** Auctions with viewers on this replica, as the loops last reported them. Any thread; may be a moment old. */
    public int localAuctions() {
        return reporter.auctionsWithViewers();
    }

    /** Viewers per auction on this replica, as the loops last reported them. Any thread; may be a moment old. */
    public Future<Map<AuctionId, Integer>> localRooms() {
        return onReporter(() -> Future.succeededFuture(reporter.localRooms()));
    }

    /**
     * Stops, closing every viewer with 1012 (Service Restart) in batches spread over {@code drainMillis}, so that
     * they do not all reconnect to the other replicas in the same second. From the first moment no viewer joins;
     * while the drain runs the replica keeps reporting, so its share of the counts is the viewers it still holds.
     * Then its entries are removed from the store and its subscriptions end. A drain of 0 closes every viewer at
     * once.
     */
    public Future<Void> shutdown(long drainMillis) {
        stopping = true;
        long steps = Math.max(1, drainMillis / DRAIN_STEP_MILLIS);
        List<Future<Void>> drained = new ArrayList<>();
        for (LocalRooms rooms : loops) {
            Promise<Void> done = Promise.promise();
            rooms.context().runOnContext(x -> drainStep(rooms, rooms.viewers(), 0, 1, steps, drainMillis / steps, done));
            drained.add(done.future());
        }
        return Future.join(drained)
                .compose(v -> onReporter(reporter::stop))
                .compose(v -> {
                    List<Future<Void>> closed = new ArrayList<>();
                    for (LocalRooms rooms : loops) {
                        Promise<Void> done = Promise.promise();
                        rooms.context().runOnContext(x -> {
                            // viewers that joined while the drain began, if any
                            localViewers.addAndGet(-rooms.viewers());
                            metrics.left(rooms.viewers());
                            rooms.closeAll(Viewer.SERVICE_RESTART, "server stopping");
                            done.complete();
                        });
                        closed.add(done.future());
                    }
                    return Future.join(closed);
                })
                .compose(v -> onReporter(() -> {
                    feeds.closeAll();
                    return Future.<Void>succeededFuture();
                }));
    }

    /**
     * Step {@code step} of {@code steps} of one loop's drain: closes as many of the loop's {@code total} viewers as
     * bring the closed ones to the step's share of them, then waits {@code stepMillis} for the next step.
     */
    private void drainStep(LocalRooms rooms, int total, int closedSoFar, long step, long steps, long stepMillis,
                           Promise<Void> done) {
        int due = (int) Math.ceil((double) total * step / steps);
        int closed = rooms.closeSome(due - closedSoFar, Viewer.SERVICE_RESTART, "server stopping");
        localViewers.addAndGet(-closed);
        metrics.left(closed);
        if (step >= steps || rooms.viewers() == 0) {
            done.complete();
        } else {
            timers.schedule(stepMillis, () -> drainStep(rooms, total, closedSoFar + closed, step + 1, steps, stepMillis, done));
        }
    }

    /**
     * The rooms of the calling context's event loop; a caller on no Vert.x context uses the reporter's. Vert.x runs
     * each connection on a context of its own that duplicates its server's: the rooms go by the one underneath, so
     * that every connection a server verticle accepted shares its loop's rooms.
     */
    private LocalRooms roomsHere() {
        Context context = EventLoops.current();
        if (context == null) {
            context = reporterContext;
        }
        LocalRooms rooms = loopsByContext.get(context);
        return rooms != null ? rooms : register(context);
    }

    private synchronized LocalRooms register(Context context) {
        return loopsByContext.computeIfAbsent(context, c -> {
            LocalRooms rooms = new LocalRooms(c,
                    (deltas, persons, ids) -> reporterContext.runOnContext(v -> reporter.changed(deltas, persons, ids)), metrics, feeds);
            loops.add(rooms);
            return rooms;
        });
    }

    private static void onLoop(LocalRooms rooms, Runnable action) {
        EventLoops.onLoop(rooms.context(), action);
    }

    private <T> Future<T> onReporter(Supplier<Future<T>> action) {
        Promise<T> result = Promise.promise();
        reporterContext.runOnContext(v -> action.get().onComplete(result));
        return result.future();
    }
}
