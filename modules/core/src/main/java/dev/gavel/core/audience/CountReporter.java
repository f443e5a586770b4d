package dev.gavel.core.audience;

import dev.gavel.core.AuctionId;
import dev.gavel.core.Backend;
import dev.gavel.core.CountBy;
import dev.gavel.core.PresenceStore;
import dev.gavel.core.Timers;
import dev.gavel.core.ViewerCount;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * Keeps one replica's share of the counts in the {@link PresenceStore}: tallies, flush, heartbeat, and what to do
 * when writes fail. The counts it gets back go to the auctions' {@link AuctionFeed}s, which show them.
 *
 * <p>The event loops tell it how their rooms changed ({@link #changed}); it sums them per auction, so the store
 * sees one entry per auction and replica however many loops there are. Every flush interval it writes the
 * auctions whose local count changed (for persons: who arrived here or left), in one batch; every heartbeat interval
 * it proves this replica alive with one heartbeat, whatever the number of auctions, which keeps all its entries counted
 * and removes those of dead replicas. An auction is forgotten once its zero was written.
 *
 * <p>A write that fails never becomes a count: the store announces nothing it did not write, and viewers keep
 * the last good count. While this replica's writes fail, counts announced by others are taken in but not shown
 * (they may be sums that lack entries that expired because no replica could renew them): see {@link #countsHeldFor}.
 * Once writes work again, or the store came back after it was lost, every replica writes its entries again within
 * a flush interval; for a heartbeat interval more counts are still only taken in, so that viewers never see a count
 * made only of the entries written again so far.
 *
 * <p>Confined to one thread (a Vert.x context in a node), but for the methods that say "any thread"; time comes from
 * the injected clock and timers.
 */
final class CountReporter {

    private static final Logger LOG = LoggerFactory.getLogger(CountReporter.class);

    private final Backend backend;
    private final String nodeId;
    private final AudienceSettings settings;
    private final Clock clock;
    private final Timers timers;
    private final AuctionFeeds feeds;
    private final NewViewerIds newViewerIds;
    private final Map<AuctionId, Tally> tallies = new HashMap<>();

    private long flushTimer = -1;
    private long lastHeartbeatAt;
    private Future<?> inFlight = Future.succeededFuture();
    private boolean flushing;
    /** Why the last write to the store failed, or null when it succeeded. Read from any thread by metrics and health. */
    private volatile String storeFailure;
    private volatile long lastGoodHeartbeatAt;
    private volatile int auctionsWithViewers;
    /** Counts are not shown before this time (ms): the store is back, and the replicas are writing again. */
    private volatile long quietUntil;
    private boolean stopping;
    private boolean earlierEntriesCleared;
    /**
     * The store came back ({@link #rewriteAll}) and this replica's entries are not written back yet: counts are held
     * until they are (and then for a heartbeat more), however long that takes.
     */
    private volatile boolean rewriting;
    /**
     * A rewrite was asked for and no flush has taken it yet. The flush that takes it heartbeats first and writes every
     * entry complete; when it succeeds and no newer rewrite was asked for meanwhile, {@link #rewriting} ends. (A flush
     * that was on its way when the rewrite was asked for does not count, whatever it wrote.)
     */
    private boolean rewriteAsked;
    /** What this replica holds per auction, for readers on any thread ({@link #localViewers}). */
    private final Map<AuctionId, Here> localShares = new ConcurrentHashMap<>();
    private final CountBy countBy;
    private volatile boolean halted;
    /** A heartbeat succeeded since the start: a later one that finds this replica not alive means it was found dead. */
    private boolean alive;

    CountReporter(Backend backend, String nodeId, AudienceSettings settings, Clock clock, Timers timers, AuctionFeeds feeds) {
        this.backend = backend;
        this.nodeId = nodeId;
        this.settings = settings;
        this.clock = clock;
        this.timers = timers;
        this.feeds = feeds;
        this.lastGoodHeartbeatAt = clock.millis();
        this.newViewerIds = new NewViewerIds(timers, backend, clock, settings);
        this.countBy = backend.presence().countBy();
    }

    /**
     * Removes whatever an earlier run under the same node id left in the store, then starts flushing. A store
     * that is away is not fatal: the entries are written once it is back ({@link #rewriteAll}).
     */
    Future<Void> start() {
        lastGoodHeartbeatAt = clock.millis();
        return clearEarlierEntries().otherwiseEmpty().onComplete(x -> scheduleFlush()).mapEmpty();
    }

    private void scheduleFlush() {
        flushTimer = timers.schedule(settings.flushMillis(), () -> {
            flush();
            if (!stopping) {
                scheduleFlush();
            }
        });
    }

    private Future<Void> clearEarlierEntries() {
        return backend.presence().removeNode(nodeId)
                .timeout(settings.requestTimeoutMillis(), TimeUnit.MILLISECONDS)
                .onSuccess(v -> earlierEntriesCleared = true)
                .onFailure(e -> LOG.warn("Could not clear earlier entries of node {} yet: {}", nodeId, e.toString()));
    }

    /** Stops all writing to the store at once and for good, leaving the entries there, as a killed process does. */
    void halt() {
        halted = true;
    }

    /**
     * A loop's rooms changed: {@code deltas} is the change of its viewers per auction, {@code personDeltas} the change
     * of each person's tabs among them, {@code newViewerIds} the ids of the viewers that joined.
     */
    void changed(Map<AuctionId, Integer> deltas, Map<AuctionId, Map<String, Integer>> personDeltas,
                 Map<AuctionId, Set<String>> newViewerIds) {
        if (stopping) {
            return;
        }
        deltas.forEach((auction, delta) -> {
            Map<String, Integer> persons = personDeltas.get(auction);
            if (delta != 0 || persons != null) {
                tallies.computeIfAbsent(auction, Tally::new).add(delta, persons);
            }
        });
        newViewerIds.forEach((auction, ids) -> ids.forEach(id -> this.newViewerIds.add(auction, id)));
    }

    /** This replica's viewers per auction, as the loops last reported them. */
    Map<AuctionId, Integer> localRooms() {
        Map<AuctionId, Integer> sizes = new LinkedHashMap<>();
        tallies.forEach((id, tally) -> {
            if (tally.connections > 0) {
                sizes.put(id, (int) tally.connections);
            }
        });
        return sizes;
    }

    /** Auctions with viewers on this replica. Any thread. */
    int auctionsWithViewers() {
        return auctionsWithViewers;
    }

    /**
     * How long from {@code now} counts must not be shown yet: a flush interval at a time while writes fail, and until
     * the replicas have written their entries again after the store came back. Any thread.
     */
    long countsHeldFor(long now) {
        return storeFailure != null || rewriting ? settings.flushMillis() : quietUntil - now;
    }

    /**
     * This replica's viewers of an auction as the store counts them ({@link CountBy}: connections, or persons), as the
     * loops last reported them. Any thread.
     */
    long localViewers(AuctionId auction) {
        Here here = localShares.get(auction);
        return here == null ? 0 : countBy == CountBy.PERSON ? here.people() : here.connections();
    }

    /** This replica's share of an auction as a read replaces the store's entry with it. Any thread. */
    PresenceStore.LocalCount localShare(AuctionId auction) {
        Here here = localShares.get(auction);
        return here == null ? new PresenceStore.LocalCount(0, 0)
                : new PresenceStore.LocalCount(here.connections(), here.anonymous(), Map.of(), false, 0);
    }

    /**
     * Stops reporting and removes this replica's entries from the store at once, so the other replicas count
     * without it. Completes when the entries are gone or the store did not answer in time.
     */
    Future<Void> stop() {
        stopping = true;
        timers.cancel(flushTimer);
        return inFlight.transform(x -> backend.presence().removeNode(nodeId))
                .timeout(settings.requestTimeoutMillis(), TimeUnit.MILLISECONDS)
                .onFailure(e -> LOG.warn("Could not remove node {} from the counts: {}", nodeId, e.toString()))
                .otherwiseEmpty()
                .mapEmpty();
    }

    /** Why writing counts to the store fails, or null while it works. Any thread. */
    String storeFailure() {
        return storeFailure;
    }

    /**
     * When (ms, by the clock) the last heartbeat proved this replica alive in the store; it stays put while writes
     * fail. Any thread.
     */
    long lastGoodHeartbeatMillis() {
        return lastGoodHeartbeatAt;
    }

    /** After the store was lost: every entry may be gone, and changes may have been missed. */
    void rewriteAll() {
        LOG.info("Store connection restored; rewriting entries of {} auctions", tallies.size());
        quietUntil = clock.millis() + settings.heartbeatMillis();
        rewriting = true;
        Future<Void> cleared = earlierEntriesCleared ? Future.succeededFuture() : clearEarlierEntries();
        cleared.onComplete(x -> {
            rewriteAsked = true;
            flush();
        });
    }

    /**
     * Writes changed auctions to the store in one batch (and those unchanged for {@link PresenceStore#RENEW_MILLIS});
     * when a heartbeat is due, proves this replica alive first, once for all its auctions.
     */
    void flush() {
        if (!backend.isReady() && !stopping && !halted) {
            // The store is away: it may come back empty (a restart). Counts are held from now until this replica's
            // entries are written back after the reconnect (rewriteAll), not only from the reconnect on: a count
            // read in between would be made of what the store holds so far.
            rewriting = true;
        }
        if (flushing || stopping || halted || !backend.isReady()) {
            return;
        }
        long now = clock.millis();
        // this flush writes this replica's entries back: heartbeat first, then every entry complete
        boolean rewrite = rewriteAsked;
        rewriteAsked = false;
        if (rewrite) {
            tallies.values().forEach(Tally::rewrite);
        }
        boolean heartbeat = rewrite || now - lastHeartbeatAt >= settings.heartbeatMillis();
        Map<AuctionId, PresenceStore.LocalCount> batch = new HashMap<>();
        for (Tally tally : tallies.values()) {
            if (tally.dirty || now - tally.writtenAt >= PresenceStore.RENEW_MILLIS) {
                ViewerCount known = feeds.known(tally.auction);
                batch.put(tally.auction, tally.share(known == null ? 0 : known.peak()));
            }
        }
        if (batch.isEmpty() && !heartbeat) {
            return;
        }
        flushing = true;
        PresenceStore store = backend.presence();
        Supplier<Future<Boolean>> heartbeatCall = () -> store.heartbeat(nodeId)
                .timeout(settings.requestTimeoutMillis(), TimeUnit.MILLISECONDS);
        Supplier<Future<Map<AuctionId, ViewerCount>>> reportCall = () -> batch.isEmpty()
                ? Future.succeededFuture(Map.of())
                : store.report(nodeId, batch).timeout(settings.requestTimeoutMillis(), TimeUnit.MILLISECONDS);
        Future<Boolean> beat;
        Future<Map<AuctionId, ViewerCount>> reported;
        if (!heartbeat) {
            beat = Future.succeededFuture(false);
            reported = reportCall.get();
        } else if (rewrite || !alive || lastHeartbeatAt == 0) {
            // not alive in the store yet (or no longer), or writing everything back after the store came back
            // (it may have lost this replica's liveness too): heartbeat first, or the report would be refused
            beat = heartbeatCall.get();
            reported = beat.compose(lapsed -> reportCall.get());
        } else {
            // The changes first, then the heartbeat: a heartbeat that Redis applies in time says that this replica's
            // entries are what it held when it sent it (report.lua trusts them for the peak on that ground).
            Future<Map<AuctionId, ViewerCount>> changes = reportCall.get();
            beat = changes.compose(counts -> heartbeatCall.get());
            reported = beat.transform(ar -> changes.failed() ? changes : ar.succeeded() ? changes : Future.failedFuture(ar.cause()));
        }
        inFlight = reported;
        reported.onComplete(ar -> {
            flushing = false;
            if (heartbeat && beat.succeeded()) {
                lastHeartbeatAt = now;
                lastGoodHeartbeatAt = now;
                if (beat.result() && alive && !rewrite) {
                    // found dead meanwhile (a stall longer than the lease): its entries may be gone
                    LOG.warn("This replica was found dead in the store; writing its entries again");
                    tallies.values().forEach(Tally::rewrite);
                }
                alive = true;
            }
            if (ar.succeeded()) {
                if (storeFailure != null) {
                    storeFailure = null;
                    quietUntil = clock.millis() + settings.heartbeatMillis();
                    LOG.info("Writing counts to the store works again");
                }
                if (rewrite && !rewriteAsked) {
                    // Written back and read back: others' entries follow within their flush, shown after a heartbeat.
                    // (An auction left out, its key broken or its shard away, is retried on its own: it holds nobody.)
                    rewriting = false;
                    quietUntil = Math.max(quietUntil, clock.millis() + settings.heartbeatMillis());
                }
                ar.result().forEach((auction, count) -> {
                    Tally tally = tallies.get(auction);
                    if (tally != null) {
                        tally.written(now);
                    }
                    reported(auction, batch.get(auction).connections(), count);
                });
                for (AuctionId auction : List.copyOf(batch.keySet())) {
                    Tally tally = tallies.get(auction);
                    if (tally != null && !ar.result().containsKey(auction)) {
                        // its shard of the store failed, or its key is broken: written again on the next flush, the
                        // others unaffected (the store logs why)
                        tally.failed(batch.get(auction).complete());
                        feeds.metrics().auctionReportFailed();
                    }
                }
            } else if (ar.cause() instanceof PresenceStore.NotAliveException) {
                // its heartbeat lapsed: the next flush heartbeats first, then writes everything again
                rewriteAsked |= rewrite;
                lastHeartbeatAt = 0;
                tallies.values().forEach(Tally::rewrite);
            } else {
                if (storeFailure == null) {
                    LOG.warn("Could not write counts to the store, will retry: {}", ar.cause().toString());
                }
                storeFailure = String.valueOf(ar.cause().getMessage());
                // a rewrite that failed is still owed
                rewriteAsked |= rewrite;
                batch.forEach((auction, share) -> {
                    Tally tally = tallies.get(auction);
                    if (tally != null) {
                        tally.failed(share.complete());
                    }
                });
            }
        });
    }

    private void reported(AuctionId auction, long viewers, ViewerCount count) {
        feeds.count(count);
        Tally tally = tallies.get(auction);
        if (tally != null && tally.connections == 0 && viewers == 0 && !tally.dirty) {
            // its zero is written: nothing more to renew
            tallies.remove(auction);
        }
    }

    /** One auction's viewers on this replica. */
    private final class Tally {
        final AuctionId auction;
        long connections;
        /** Tabs per person key here; a person with none is not kept. */
        final Map<String, Integer> tabs = new HashMap<>();
        long personTabs;
        /** Persons whose presence here changed since the last report sent. */
        Set<String> changed = new HashSet<>();
        /** Persons of the report in flight. */
        Set<String> sending = Set.of();
        /** The next report lists every person here (the first, and after the store may have lost them). */
        boolean complete = true;
        boolean dirty;
        long writtenAt;

        Tally(AuctionId auction) {
            this.auction = auction;
        }

        void add(int delta, Map<String, Integer> personDeltas) {
            long before = connections;
            connections += delta;
            if (personDeltas != null) {
                personDeltas.forEach((person, change) -> {
                    int now = tabs.getOrDefault(person, 0) + change;
                    personTabs += change;
                    if (now > 0) {
                        if (tabs.put(person, now) == null) {
                            changed.add(person);
                        }
                    } else if (tabs.remove(person) != null) {
                        changed.add(person);
                    }
                });
            }
            if (connections > 0) {
                localShares.put(auction, new Here(connections, connections - personTabs, tabs.size()));
            } else {
                localShares.remove(auction);
            }
            dirty = true;
            if (before <= 0 && connections > 0) {
                auctionsWithViewers++;
            } else if (before > 0 && connections <= 0) {
                auctionsWithViewers--;
            }
        }

        /** The share to report now; what it carries counts as sent until {@link #written} or {@link #failed}. */
        PresenceStore.LocalCount share(long knownPeak) {
            dirty = false;
            boolean full = complete || tabs.isEmpty();
            Map<String, Boolean> persons = new HashMap<>();
            if (full) {
                tabs.keySet().forEach(person -> persons.put(person, true));
            } else {
                changed.forEach(person -> persons.put(person, tabs.containsKey(person)));
            }
            complete = false;
            sending = changed;
            changed = new HashSet<>();
            return new PresenceStore.LocalCount(connections, connections - personTabs, persons, full, knownPeak);
        }

        void written(long at) {
            sending = Set.of();
            writtenAt = at;
        }

        void failed(boolean wasComplete) {
            dirty = true;
            changed.addAll(sending);
            sending = Set.of();
            complete |= wasComplete;
        }

        /** The store may have lost this replica's share: the next report is complete. */
        void rewrite() {
            dirty = true;
            complete = true;
        }
    }

    /** What this replica holds of one auction, for readers on any thread. */
    record Here(long connections, long anonymous, long persons) {

        long people() {
            return anonymous + persons;
        }
    }
}
