package dev.gavel.core;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** The event broker of a single node: subscribers are the node's own rooms. */
public final class InMemoryEventBroker implements EventBroker {

    private final Vertx vertx;
    private final Map<AuctionId, List<Listening>> listeners = new ConcurrentHashMap<>();

    public InMemoryEventBroker(Vertx vertx) {
        this.vertx = vertx;
    }

    @Override
    public Future<Void> publish(AuctionId auction, ViewerEvent event) {
        deliver(auction, listener -> listener.onEvent(event));
        return Future.succeededFuture();
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
        listeners.computeIfAbsent(auction, id -> new CopyOnWriteArrayList<>()).add(listening);
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
}
