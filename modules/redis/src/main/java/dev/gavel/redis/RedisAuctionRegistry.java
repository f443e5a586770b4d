package dev.gavel.redis;

import dev.gavel.core.AuctionId;
import dev.gavel.core.AuctionRegistry;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The registry of open auctions in Redis: a set, and the version of its last change, kept by
 * {@code auctions-change.lua}, which publishes each change on one channel of its own. Each replica holds a copy,
 * changed only by what it hears on that channel, in version order, and replaced by a reload of the whole set
 * ({@code auctions-load.lua}) each time the subscriber (re)connects. Changes heard while a reload is under way are
 * replayed over its answer, so a change is never lost between the two.
 *
 * <p>State is confined to one context; {@link #isOpen} reads a concurrent set from any thread.
 */
final class RedisAuctionRegistry implements AuctionRegistry {

    /** How long {@link #open}/{@link #close} wait for their change to come back on the channel. */
    private static final long ECHO_TIMEOUT_MILLIS = 1000;
    private static final long RELOAD_RETRY_MILLIS = 1000;
    private static final Logger LOG = LoggerFactory.getLogger(RedisAuctionRegistry.class);
    private static final RedisScript CHANGE = RedisScript.load("auctions-change.lua");
    private static final RedisScript LOAD = RedisScript.load("auctions-load.lua");

    private final Vertx vertx;
    private final Context context;
    private final Redis commands;
    private final BooleanSupplier connected;
    private final String publish;
    private final Set<AuctionId> open = ConcurrentHashMap.newKeySet();
    private final List<Consumer<AuctionId>> closedListeners = new CopyOnWriteArrayList<>();
    private final List<Waiter> waiters = new ArrayList<>();
    private final Promise<Void> firstLoad = Promise.promise();
    private long version;
    /** Changes heard since the reload under way was sent; null when none is. */
    private List<Change> heardDuringReload;
    private boolean reloadAgain;

    /**
     * @param connected whether the subscriber is connected now (a failed reload is tried again only then)
     * @param pubSub    how changes are announced: the topology's
     */
    RedisAuctionRegistry(Vertx vertx, Redis commands, BooleanSupplier connected, PubSub pubSub) {
        this.vertx = vertx;
        this.publish = pubSub.publish();
        this.context = vertx.getOrCreateContext();
        this.commands = commands;
        this.connected = connected;
    }

    @Override
    public boolean isOpen(AuctionId auction) {
        return open.contains(auction);
    }

    @Override
    public Future<Boolean> open(AuctionId auction) {
        return change("o", auction);
    }

    @Override
    public Future<Boolean> close(AuctionId auction) {
        return change("c", auction);
    }

    @Override
    public void onClosed(Consumer<AuctionId> listener) {
        closedListeners.add(listener);
    }

    /** Completes after the first reload answered. */
    Future<Void> firstLoad() {
        return firstLoad.future();
    }

    /** A message on the channel of changes; any thread. */
    void heard(String message) {
        Change change = Change.parse(message);
        if (change == null) {
            LOG.warn("Ignored a message of unknown shape on {}", RedisKeys.auctionChanges());
            return;
        }
        context.runOnContext(v -> {
            if (heardDuringReload != null) {
                heardDuringReload.add(change);
            }
            apply(change);
        });
    }

    /** Reads the whole registry again; the subscriber (re)connected, so every change from now on is heard. */
    void reload() {
        context.runOnContext(v -> startReload());
    }

    private Future<Boolean> change(String operation, AuctionId auction) {
        Request call = CHANGE.call(RedisKeys.openAuctions(), RedisKeys.auctionsVersion())
                .arg(operation).arg(auction.value()).arg(RedisKeys.auctionChanges()).arg(publish);
        return CHANGE.batch(commands, List.of(call)).compose(replies -> {
            Response reply = replies.get(0);
            return applied(reply.get(1).toLong()).map(reply.get(0).toInteger() == 1);
        });
    }

    /** Completes once this replica's copy is at {@code changeVersion} or newer, or after a while anyway. */
    private Future<Void> applied(long changeVersion) {
        Promise<Void> promise = Promise.promise();
        context.runOnContext(v -> {
            if (version >= changeVersion) {
                promise.tryComplete();
            } else {
                waiters.add(new Waiter(changeVersion, promise));
            }
        });
        // the change is stored: if the channel is slow or cut, the copy follows on delivery or on the reconnect
        return promise.future().timeout(ECHO_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS).otherwiseEmpty();
    }

    private void apply(Change change) {
        if (change.version <= version) {
            return;
        }
        version = change.version;
        setOpen(change);
        if (!change.open) {
            announceClosed(change.auction);
        }
        releaseWaiters();
    }

    private void startReload() {
        if (heardDuringReload != null) {
            reloadAgain = true;
            return;
        }
        heardDuringReload = new ArrayList<>();
        Request call = LOAD.call(RedisKeys.openAuctions(), RedisKeys.auctionsVersion());
        open.forEach(auction -> call.arg(auction.value()));
        LOAD.batch(commands, List.of(call)).onComplete(ar -> context.runOnContext(v -> loaded(ar)));
    }

    private void loaded(AsyncResult<List<Response>> answer) {
        List<Change> heard = heardDuringReload;
        heardDuringReload = null;
        if (answer.succeeded()) {
            replaceCopy(answer.result().get(0), heard);
        } else if (!reloadAgain) {
            LOG.warn("Could not read the auction registry ({}); keeping the copy of {} open auctions", answer.cause().toString(),
                    open.size());
            vertx.setTimer(RELOAD_RETRY_MILLIS, t -> {
                if (connected.getAsBoolean()) {
                    startReload();
                }
            });
        }
        if (reloadAgain) {
            reloadAgain = false;
            startReload();
        }
    }

    private void replaceCopy(Response reply, List<Change> heard) {
        long loadedVersion = reply.get(0).toLong();
        Set<AuctionId> loaded = new HashSet<>();
        for (int i = 1; i < reply.size(); i++) {
            loaded.add(AuctionId.of(reply.get(i).toString()));
        }
        Set<AuctionId> before = Set.copyOf(open);
        // added before removed: an auction open throughout is never missing from the copy
        open.addAll(loaded);
        open.retainAll(loaded);
        version = Math.max(version, loadedVersion);
        for (Change change : heard) {
            if (change.version > loadedVersion) {
                setOpen(change);
            }
        }
        for (AuctionId auction : before) {
            if (!open.contains(auction)) {
                // closed while this replica was not listening
                announceClosed(auction);
            }
        }
        releaseWaiters();
        LOG.debug("Auction registry loaded: {} open auctions, version {}", open.size(), version);
        firstLoad.tryComplete();
    }

    private void setOpen(Change change) {
        if (change.open) {
            open.add(change.auction);
        } else {
            open.remove(change.auction);
        }
    }

    private void announceClosed(AuctionId auction) {
        closedListeners.forEach(listener -> listener.accept(auction));
    }

    private void releaseWaiters() {
        waiters.removeIf(waiter -> {
            if (waiter.version <= version) {
                waiter.promise.tryComplete();
                return true;
            }
            return false;
        });
    }

    private record Waiter(long version, Promise<Void> promise) {
    }

    /** One change as published: {@code <version> <o|c> <auction id>}. */
    private record Change(long version, boolean open, AuctionId auction) {

        static Change parse(String message) {
            String[] parts = message.split(" ", 3);
            if (parts.length != 3 || !(parts[1].equals("o") || parts[1].equals("c"))) {
                return null;
            }
            try {
                return new Change(Long.parseLong(parts[0]), parts[1].equals("o"), AuctionId.of(parts[2]));
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
    }
}
