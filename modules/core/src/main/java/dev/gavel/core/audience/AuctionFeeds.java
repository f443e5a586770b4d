package dev.gavel.core.audience;

import dev.gavel.core.AuctionId;
import dev.gavel.core.EventBroker;
import dev.gavel.core.EventOffset;
import dev.gavel.core.Timers;
import dev.gavel.core.ViewerCount;
import io.vertx.core.Context;
import io.vertx.core.Future;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.LongUnaryOperator;
import java.util.function.ToLongFunction;

/**
 * The {@link AuctionFeed}s of one replica, one per auction with viewers here. A feed is made by the first join of
 * its auction on any loop and ended when the last loop holding a room of it lets it go: both decided in one
 * {@code compute} on the auction's entry, so a join racing with the last leave either finds the feed or makes a new
 * one, never a feed that is ending. Thread-safe.
 */
final class AuctionFeeds {

    private final Map<AuctionId, AuctionFeed> feeds = new ConcurrentHashMap<>();
    private final Context home;
    private final EventBroker broker;
    private final AudienceSettings settings;
    private final Clock clock;
    private final Timers timers;
    private final AudienceMetrics metrics;
    private final LongUnaryOperator countsHeld;
    private final ToLongFunction<AuctionId> localViewers;
    private final Function<AuctionId, Future<ViewerCount>> storedCount;

    /**
     * @param home         where subscriptions are made, and so where the broker calls the feeds back
     * @param countsHeld   how long (ms) from a given time counts must not be shown yet (see {@link CountReporter})
     * @param localViewers this replica's viewers of an auction: no count shown here is below them
     * @param storedCount  the auction's count as the store has it, read when a feed's subscription was restored
     *                     (counts announced while it was down were lost with it)
     */
    AuctionFeeds(Context home, EventBroker broker, AudienceSettings settings, Clock clock, Timers timers,
                 AudienceMetrics metrics, LongUnaryOperator countsHeld, ToLongFunction<AuctionId> localViewers,
                 Function<AuctionId, Future<ViewerCount>> storedCount) {
        this.localViewers = localViewers;
        this.storedCount = storedCount;
        this.home = home;
        this.broker = broker;
        this.settings = settings;
        this.clock = clock;
        this.timers = timers;
        this.metrics = metrics;
        this.countsHeld = countsHeld;
    }

    /** A viewer on {@code loop} joins the auction (see {@link AuctionFeed#join}); makes its feed if there is none. */
    AuctionFeed.Joined join(AuctionId auction, LocalRooms loop, Viewer viewer, EventOffset resumeFrom) {
        AuctionFeed.Joined[] joined = new AuctionFeed.Joined[1];
        AuctionFeed[] made = new AuctionFeed[1];
        feeds.compute(auction, (id, feed) -> {
            if (feed == null) {
                feed = new AuctionFeed(auction, this);
                made[0] = feed;
            }
            joined[0] = feed.join(loop, viewer, resumeFrom);
            return feed;
        });
        if (made[0] != null) {
            home.runOnContext(v -> made[0].subscribe());
        }
        return joined[0];
    }

    /** {@code loop} holds no room of the auction any more; the last loop to let go ends the feed. */
    void leave(AuctionId auction, LocalRooms loop) {
        feeds.computeIfPresent(auction, (id, feed) -> {
            if (!feed.removeLoop(loop)) {
                return feed;
            }
            feed.close();
            return null;
        });
    }

    /** A count written or read by this replica's reporter: shown to the auction's viewers here, if it has any. */
    void count(ViewerCount count) {
        AuctionFeed feed = feeds.get(count.auctionId());
        if (feed != null) {
            feed.onCount(count);
        }
    }

    /** The count last shown to an auction's viewers here, or null. */
    ViewerCount shown(AuctionId auction) {
        AuctionFeed feed = feeds.get(auction);
        return feed == null ? null : feed.shown();
    }

    /** The newest count known of an auction with viewers here, or null. */
    ViewerCount known(AuctionId auction) {
        AuctionFeed feed = feeds.get(auction);
        return feed == null ? null : feed.known();
    }

    /** Ends every feed (the replica stops). */
    void closeAll() {
        List<AuctionId> auctions = new ArrayList<>(feeds.keySet());
        auctions.forEach(auction -> feeds.computeIfPresent(auction, (id, feed) -> {
            feed.close();
            return null;
        }));
    }

    EventBroker broker() {
        return broker;
    }

    AudienceSettings settings() {
        return settings;
    }

    Future<ViewerCount> storedCount(AuctionId auction) {
        return storedCount.apply(auction);
    }

    Clock clock() {
        return clock;
    }

    Timers timers() {
        return timers;
    }

    AudienceMetrics metrics() {
        return metrics;
    }

    /** This replica's viewers of {@code auction}. */
    long viewersHere(AuctionId auction) {
        return localViewers.applyAsLong(auction);
    }

    /** {@code count}, or this replica's own viewers of its auction (and a peak at least that) when they are more. */
    ViewerCount atLeastLocal(ViewerCount count) {
        long here = viewersHere(count.auctionId());
        return count.current() >= here ? count
                : new ViewerCount(count.auctionId(), here, Math.max(count.peak(), here), count.version());
    }

    long countsHeldFor(long now) {
        return countsHeld.applyAsLong(now);
    }
}
