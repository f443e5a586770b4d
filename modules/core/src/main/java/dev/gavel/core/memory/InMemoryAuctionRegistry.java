package dev.gavel.core.memory;

import dev.gavel.core.AuctionId;
import dev.gavel.core.AuctionRegistry;
import io.vertx.core.Future;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/** The auction registry of a single node: changes show at once, and there is no other replica to tell. */
final class InMemoryAuctionRegistry implements AuctionRegistry {

    private final Set<AuctionId> open = ConcurrentHashMap.newKeySet();
    private final List<Consumer<AuctionId>> closedListeners = new CopyOnWriteArrayList<>();

    @Override
    public boolean isOpen(AuctionId auction) {
        return open.contains(auction);
    }

    @Override
    public Future<Boolean> open(AuctionId auction) {
        return Future.succeededFuture(!open.add(auction));
    }

    @Override
    public Future<Boolean> close(AuctionId auction) {
        boolean wasOpen = open.remove(auction);
        closedListeners.forEach(listener -> listener.accept(auction));
        return Future.succeededFuture(wasOpen);
    }

    @Override
    public void onClosed(Consumer<AuctionId> listener) {
        closedListeners.add(listener);
    }
}
