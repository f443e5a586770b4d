package dev.gavel.core.memory;

import dev.gavel.core.AuctionId;
import dev.gavel.core.EventBroker;
import dev.gavel.core.EventLogSettings;
import dev.gavel.core.EventOffset;
import dev.gavel.core.LogRead;
import dev.gavel.core.ViewerCount;
import dev.gavel.core.ViewerEvent;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/** The event broker of a single node: subscribers are the node's own rooms, the logs live in this process. */
final class InMemoryEventBroker implements EventBroker {

    private final Vertx vertx;
    private final Clock clock;
    private final EventLogSettings settings;
    private final Map<AuctionId, List<Listening>> listeners = new ConcurrentHashMap<>();
    private final Map<AuctionId, Log> logs = new ConcurrentHashMap<>();

    public InMemoryEventBroker(Vertx vertx, Clock clock, EventLogSettings settings) {
        this.vertx = vertx;
        this.clock = clock;
        this.settings = settings;
    }

    @Override
    public Future<ViewerEvent> publish(AuctionId auction, ViewerEvent event) {
        long now = clock.millis();
        ViewerEvent[] logged = new ViewerEvent[1];
        // appended and handed on under the log's lock: subscribers get the events of an auction in offset order
        logs.compute(auction, (id, log) -> {
            Log current = log == null || log.headExpired(now, settings) ? new Log(log) : log;
            logged[0] = current.append(event, now, settings);
            deliver(auction, listener -> listener.onEvent(logged[0]));
            return current;
        });
        return Future.succeededFuture(logged[0]);
    }

    @Override
    public Future<LogRead> read(AuctionId auction, EventOffset after, int limit) {
        long now = clock.millis();
        LogRead[] read = new LogRead[1];
        logs.compute(auction, (id, log) -> {
            Log current = log == null || log.headExpired(now, settings) ? null : log;
            read[0] = current == null ? new LogRead(null, List.of(), null, after == null)
                    : current.read(after, limit, now, settings);
            return current;
        });
        return Future.succeededFuture(read[0]);
    }

    /** Announces a count change to the auction's subscribers; the store calls it. */
    void announce(ViewerCount count) {
        deliver(count.auctionId(), listener -> listener.onCount(count));
    }

    private void deliver(AuctionId auction, Consumer<AuctionListener> call) {
        for (Listening listening : listeners.getOrDefault(auction, List.of())) {
            // runOnContext keeps the order of deliveries to one context, so events stay in publish order.
            listening.context.runOnContext(v -> call.accept(listening.listener));
        }
    }

    @Override
    public Future<Subscription> subscribe(AuctionId auction, AuctionListener listener) {
        Listening listening = new Listening(vertx.getOrCreateContext(), listener);
        // under the log's lock: an event is either published before (in the log) or delivered to this listener
        logs.compute(auction, (id, log) -> {
            listeners.computeIfAbsent(auction, a -> new CopyOnWriteArrayList<>()).add(listening);
            return log;
        });
        return Future.succeededFuture(() -> {
            listeners.computeIfPresent(auction, (id, list) -> {
                list.remove(listening);
                return list.isEmpty() ? null : list;
            });
            return Future.succeededFuture();
        });
    }

    private record Listening(Context context, AuctionListener listener) {
    }

    /** One auction's log: its epoch, its newest events and its last bid. Guarded by the map's lock on its key. */
    private static final class Log {
        final String epoch;
        long seq;
        long lastEventAt;
        ViewerEvent lastBid;
        final ArrayDeque<ViewerEvent> events = new ArrayDeque<>();

        /** A log made anew after {@code before} (null or expired) was dropped: a new epoch. */
        Log(Log before) {
            String made;
            do {
                made = Long.toString(ThreadLocalRandom.current().nextLong(1L << 40, 1L << 50), 36);
            } while (before != null && made.equals(before.epoch));
            this.epoch = made;
        }

        ViewerEvent append(ViewerEvent event, long now, EventLogSettings settings) {
            if (now - lastEventAt > settings.windowMillis()) {
                // a quiet spell longer than the window: the entries go, the head stays
                events.clear();
            }
            ViewerEvent logged = event.at(new EventOffset(epoch, ++seq));
            events.addLast(logged);
            while (events.size() > settings.size()) {
                events.removeFirst();
            }
            if (logged.isBid()) {
                lastBid = logged;
            }
            lastEventAt = now;
            return logged;
        }

        boolean headExpired(long now, EventLogSettings settings) {
            return seq > 0 && now - lastEventAt > settings.headMillis();
        }

        LogRead read(EventOffset after, int limit, long now, EventLogSettings settings) {
            List<ViewerEvent> kept = now - lastEventAt > settings.windowMillis() ? List.of() : new ArrayList<>(events);
            EventOffset head = seq == 0 ? null : new EventOffset(epoch, seq);
            if (after == null) {
                return new LogRead(head, kept.subList(Math.max(0, kept.size() - limit), kept.size()), lastBid, true);
            }
            long first = kept.isEmpty() ? seq + 1 : kept.get(0).offset().seq();
            boolean continuous = after.epoch().equals(epoch) && after.seq() <= seq && after.seq() >= first - 1;
            List<ViewerEvent> following = new ArrayList<>();
            for (ViewerEvent event : kept) {
                if (following.size() == limit) {
                    break;
                }
                if (!continuous || event.offset().seq() > after.seq()) {
                    following.add(event);
                }
            }
            return new LogRead(head, following, lastBid, continuous);
        }
    }
}
