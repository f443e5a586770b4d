package dev.gavel.core;

import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The viewer ids that joined a replica's rooms since the last flush, per auction. They reach the
 * {@link ViewerStats} in one batch per flush instead of one request per join, so the store's load grows with
 * auctions, not viewers. A batch that fails is put back and offered again; at most {@link #MAX_PENDING} ids
 * wait, so an outage cannot grow memory without bound (ids over it are not counted as unique viewers).
 *
 * <p>Confined to the audience's context.
 */
final class NewViewerIds {

    static final int MAX_PENDING = 100_000;
    private static final Logger LOG = LoggerFactory.getLogger(NewViewerIds.class);

    private final ViewerStats stats;
    private final Clock clock;
    private Map<AuctionId, Set<String>> pending = new HashMap<>();
    private int size;
    private boolean inFlight;
    private boolean failing;
    private boolean overflowing;

    NewViewerIds(ViewerStats stats, Clock clock) {
        this.stats = stats;
        this.clock = clock;
    }

    void add(AuctionId auction, String viewerId) {
        if (size >= MAX_PENDING) {
            if (!overflowing) {
                overflowing = true;
                LOG.warn("More than {} viewer ids wait to be written; new ones are not counted as unique viewers", MAX_PENDING);
            }
            return;
        }
        if (pending.computeIfAbsent(auction, a -> new HashSet<>()).add(viewerId)) {
            size++;
        }
    }

    /** Writes what waits in one batch, unless a batch is still on its way. */
    void flush(long timeoutMillis) {
        if (inFlight || pending.isEmpty()) {
            return;
        }
        Map<AuctionId, Set<String>> batch = pending;
        pending = new HashMap<>();
        size = 0;
        overflowing = false;
        inFlight = true;
        Future<Void> written = stats.addViewers(batch, clock.millis()).timeout(timeoutMillis, TimeUnit.MILLISECONDS);
        written.onComplete(ar -> {
            inFlight = false;
            if (ar.succeeded()) {
                if (failing) {
                    failing = false;
                    LOG.info("Writing unique viewers works again");
                }
                return;
            }
            if (!failing) {
                failing = true;
                LOG.warn("Could not write unique viewers, will retry: {}", ar.cause().toString());
            }
            batch.forEach((auction, ids) -> ids.forEach(id -> add(auction, id)));
        });
    }
}
