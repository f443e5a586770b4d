package dev.gavel.core.audience;

import dev.gavel.core.AuctionId;
import dev.gavel.core.Backend;
import dev.gavel.core.Timers;
import dev.gavel.core.ViewerStats;
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
 * The viewer ids that joined a replica's rooms and are not yet in the {@link ViewerStats}, per auction. The
 * first id to wait starts a timer of one flush interval; when it fires, everything that waits goes in one batch,
 * so the store sees at most one request per flush interval, however many viewers join. A batch that fails is
 * put back and offered again a flush interval later; at most {@link #MAX_PENDING} ids wait, so an outage cannot
 * grow memory without bound (ids over it are not counted as unique viewers).
 *
 * <p>Confined to the reporter's context.
 */
final class NewViewerIds {

    static final int MAX_PENDING = 100_000;
    private static final Logger LOG = LoggerFactory.getLogger(NewViewerIds.class);

    private final Timers timers;
    private final Backend backend;
    private final Clock clock;
    private final AudienceSettings settings;
    private Map<AuctionId, Set<String>> pending = new HashMap<>();
    private int size;
    private boolean scheduled;
    private boolean inFlight;
    private boolean failing;
    private boolean overflowing;

    NewViewerIds(Timers timers, Backend backend, Clock clock, AudienceSettings settings) {
        this.timers = timers;
        this.backend = backend;
        this.clock = clock;
        this.settings = settings;
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
        schedule();
    }

    private void schedule() {
        if (!scheduled) {
            scheduled = true;
            timers.schedule(settings.flushMillis(), () -> {
                scheduled = false;
                flush();
            });
        }
    }

    /** Writes what waits in one batch; while a batch is on its way or the store is away, tries again later. */
    private void flush() {
        if (pending.isEmpty()) {
            return;
        }
        if (inFlight || !backend.isReady()) {
            schedule();
            return;
        }
        Map<AuctionId, Set<String>> batch = pending;
        pending = new HashMap<>();
        size = 0;
        overflowing = false;
        inFlight = true;
        Future<Void> written = backend.stats().addViewers(batch, clock.millis())
                .timeout(settings.requestTimeoutMillis(), TimeUnit.MILLISECONDS);
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
