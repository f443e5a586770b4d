package dev.gavel.core.audience;

import dev.gavel.core.AuctionId;
import dev.gavel.core.Backend;
import dev.gavel.core.Timers;
import dev.gavel.core.ViewerStats;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the audience history and the list of watched auctions of one replica up to date: twice per sampling
 * interval it offers a sample of every auction it has viewers in to the {@link ViewerStats}, which keeps the
 * first sample of each interval cluster-wide. Offering twice makes sure no interval is missed when a timer
 * fires late. Its load is two requests per auction with local viewers per interval, whatever the viewers.
 */
public final class HistorySampler {

    private static final Logger LOG = LoggerFactory.getLogger(HistorySampler.class);

    private final Timers timers;
    private final Audience audience;
    private final Backend backend;
    private final Clock clock;
    private long timer = -1;
    private volatile boolean stopped;
    private volatile boolean inFlight;
    private volatile boolean failing;

    public HistorySampler(Timers timers, Audience audience, Backend backend, Clock clock) {
        this.timers = timers;
        this.audience = audience;
        this.backend = backend;
        this.clock = clock;
    }

    public void start() {
        long period = Math.max(1, backend.stats().intervalMillis() / 2);
        timer = timers.schedule(period, () -> {
            if (!stopped) {
                sampleOnce();
                start();
            }
        });
    }

    public void stop() {
        stopped = true;
        timers.cancel(timer);
    }

    private void sampleOnce() {
        if (inFlight || !backend.isReady()) {
            return;
        }
        inFlight = true;
        long interval = backend.stats().intervalMillis();
        audience.localRooms().compose(rooms -> {
            List<AuctionId> watched = rooms.entrySet().stream()
                    .filter(room -> room.getValue() > 0)
                    .map(Map.Entry::getKey)
                    .toList();
            return backend.stats().sample(watched, clock.millis());
        }).timeout(interval, TimeUnit.MILLISECONDS).onComplete(ar -> {
            inFlight = false;
            if (ar.succeeded() && failing) {
                failing = false;
                LOG.info("Sampling the audience history works again");
            } else if (ar.failed() && !failing) {
                failing = true;
                LOG.warn("Could not sample the audience history: {}", ar.cause().toString());
            }
        });
    }
}
