package dev.gavel.server.api;

import dev.gavel.core.AuctionId;
import dev.gavel.core.Backend;
import dev.gavel.core.EventOffset;
import dev.gavel.core.HistorySample;
import dev.gavel.core.Json;
import dev.gavel.core.PresenceStore;
import dev.gavel.core.ViewerCount;
import dev.gavel.core.ViewerEvent;
import dev.gavel.core.audience.Audience;
import dev.gavel.server.http.Refusal;
import dev.gavel.server.ops.GavelMetrics;
import dev.gavel.server.viewers.ViewerDirectory;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.openapi.router.RouterBuilder;
import io.vertx.openapi.validation.ValidatedRequest;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The handlers of the API's operations; requests reach them already authorised and validated against the
 * OpenAPI document (see {@link ApiRoutes}).
 *
 * <p>Publishing answers 202 only once the backend's broker said the event was handed on (Redis: the PUBLISH
 * was acknowledged), and 503 when the backend is not connected or the broker did not say so within
 * {@value #BACKEND_TIMEOUT_MILLIS} ms. A publish that timed out may still reach viewers later; one that was
 * answered 202 was never dropped by this node. With {@code AUCTIONS=registered}, publishing to an auction that is
 * not open (by this replica's copy of the registry) is refused with 404: it has no viewers to reach.
 *
 * <p>Opening and closing an auction answer once the backend's registry stored the change (and this replica's copy
 * shows it), and 503 when the backend did not answer within {@value #BACKEND_TIMEOUT_MILLIS} ms. Unlike publishing,
 * they do not need this replica's subscriber: a stored change reaches every replica, at the latest when it reconnects.
 */
public final class AuctionApi {

    /** How long a call waits for the backend (Redis) before answering 503. */
    static final long BACKEND_TIMEOUT_MILLIS = 2000;

    /** Events answered by {@code GET .../events} when the caller sets no limit. */
    static final int DEFAULT_EVENTS = 100;

    private static final Logger LOG = LoggerFactory.getLogger(AuctionApi.class);

    /** Viewers per page when the caller gives no {@code limit}. */
    static final int DEFAULT_VIEWERS_LIMIT = 100;

    private final Backend backend;
    /** Counts read from the store are told as this replica knows them (see {@link Audience#countToTell}). */
    private final Audience audience;
    private final Clock clock;
    private final GavelMetrics metrics;
    private final boolean registeredOnly;
    private final WhoIsWatching watching;

    /**
     * @param registeredOnly {@code AUCTIONS=registered}: events only for auctions that are open
     * @param watching       who is watching and where, gathered from the replicas
     */
    public AuctionApi(Backend backend, Audience audience, Clock clock, GavelMetrics metrics, boolean registeredOnly,
                      WhoIsWatching watching) {
        this.watching = watching;
        this.backend = backend;
        this.audience = audience;
        this.clock = clock;
        this.metrics = metrics;
        this.registeredOnly = registeredOnly;
    }

    void publishBidding(RoutingContext ctx) {
        JsonObject player = validated(ctx).getBody().getJsonObject();
        publish(ctx, ViewerEvent.PLAYER_BIDDING_UPDATE, player.encode());
    }

    void publishSold(RoutingContext ctx) {
        String message = validated(ctx).getBody().getJsonObject().getString("message");
        publish(ctx, ViewerEvent.PLAYER_SOLD_UPDATE, Json.quote(message));
    }

    private void publish(RoutingContext ctx, String event, String dataJson) {
        AuctionId auction = auction(ctx);
        if (registeredOnly && !backend.auctions().isOpen(auction)) {
            Refusal.sendError(ctx.response(), 404, "auction is not open, nothing was published: " + auction.value());
            return;
        }
        if (!backend.isReady()) {
            unavailable(ctx, "the event broker is not connected; nothing was published");
            return;
        }
        backend.broker().publish(auction, ViewerEvent.published(event, dataJson, clock.millis()))
                .timeout(BACKEND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                .onSuccess(v -> {
                    LOG.atDebug().addKeyValue("auction", auction.value()).log("Published {}", event);
                    metrics.eventPublished();
                    ctx.response().setStatusCode(202);
                    ctx.json(new JsonObject().put("auctionId", auction.value()).put("event", event));
                })
                .onFailure(e -> {
                    LOG.atDebug().addKeyValue("auction", auction.value()).log("Could not publish {}: {}", event, e.toString());
                    unavailable(ctx, "could not hand the event on: " + e.getMessage());
                });
    }

    void openAuction(RoutingContext ctx) {
        AuctionId auction = auction(ctx);
        backend.auctions().open(auction)
                .timeout(BACKEND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                .onSuccess(wasOpen -> {
                    LOG.info("Auction {} opened{}", auction, wasOpen ? " (was open)" : "");
                    ctx.response().setStatusCode(wasOpen ? 200 : 201);
                    ctx.json(auctionState(auction, true));
                })
                .onFailure(e -> unavailable(ctx, "could not open the auction: " + e.getMessage()));
    }

    void closeAuction(RoutingContext ctx) {
        AuctionId auction = auction(ctx);
        backend.auctions().close(auction)
                .timeout(BACKEND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                .onSuccess(wasOpen -> {
                    LOG.info("Auction {} closed{}", auction, wasOpen ? "" : " (was not open)");
                    ctx.json(auctionState(auction, false));
                })
                .onFailure(e -> unavailable(ctx, "could not close the auction: " + e.getMessage()));
    }

    private static JsonObject auctionState(AuctionId auction, boolean open) {
        return new JsonObject().put("auctionId", auction.value()).put("open", open);
    }

    void viewerCount(RoutingContext ctx) {
        AuctionId auction = auction(ctx);
        audience.count(auction)
                .timeout(BACKEND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                .onSuccess(count -> ctx.json(countJson(count)))
                .onFailure(e -> unavailable(ctx, "could not read the count: " + e.getMessage()));
    }

    /** The auction's events after {@code after}, or its newest; 410 when those are no longer in its log. */
    void events(RoutingContext ctx) {
        AuctionId auction = auction(ctx);
        String afterText = ctx.request().getParam("after");
        EventOffset after = EventOffset.parse(afterText);
        if (afterText != null && after == null) {
            Refusal.sendError(ctx.response(), 400, "after is not an event offset: " + afterText);
            return;
        }
        String limitText = ctx.request().getParam("limit");
        int limit = limitText == null ? DEFAULT_EVENTS : Integer.parseInt(limitText);
        backend.broker().read(auction, after, limit)
                .timeout(BACKEND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                .onSuccess(read -> {
                    if (after != null && !read.continuous()) {
                        Refusal.sendError(ctx.response(), 410, "the events after " + afterText
                                + " are no longer in the auction's log (too old, or from before Redis lost its data)");
                        return;
                    }
                    JsonArray events = new JsonArray();
                    for (ViewerEvent event : read.events()) {
                        events.add(new JsonObject().put("event", event.name())
                                .put("data", io.vertx.core.json.Json.decodeValue(event.dataJson()))
                                .put("offset", event.offset().toString())
                                .put("publishedAt", Instant.ofEpochMilli(event.publishedAtMillis()).toString()));
                    }
                    ctx.json(events);
                })
                .onFailure(e -> unavailable(ctx, "could not read the auction's events: " + e.getMessage()));
    }

    void viewerStats(RoutingContext ctx) {
        AuctionId auction = auction(ctx);
        long from;
        long to;
        try {
            from = instant(ctx, "from", Long.MIN_VALUE);
            to = instant(ctx, "to", Long.MAX_VALUE);
        } catch (IllegalArgumentException e) {
            Refusal.sendError(ctx.response(), 400, e.getMessage());
            return;
        }
        Future<PresenceStore.Reading> count = audience.presence(auction);
        Future<Long> unique = backend.stats().uniqueViewers(auction);
        // after the count: reading it drops the entries of replicas that died, and the history records that change
        Future<List<HistorySample>> history = count.compose(read -> backend.stats().history(auction, from, to, clock.millis()));
        Future.all(count, unique, history)
                .timeout(BACKEND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                .onSuccess(all -> {
                    JsonArray samples = new JsonArray();
                    history.result().forEach(sample -> samples.add(new JsonObject()
                            .put("timestamp", Instant.ofEpochMilli(sample.timestampMillis()).toString())
                            .put("count", sample.count())));
                    PresenceStore.Reading read = count.result();
                    ctx.json(countJson(read.count())
                            .put("connections", read.connections())
                            .put("people", read.people())
                            .put("uniqueViewers", unique.result())
                            .put("history", samples));
                })
                .onFailure(e -> unavailable(ctx, "could not read the stats: " + e.getMessage()));
    }

    void watchedAuctions(RoutingContext ctx) {
        backend.stats().activeAuctions(clock.millis())
                .compose(auctions -> {
                    List<Future<ViewerCount>> reads = new ArrayList<>();
                    auctions.forEach(auction -> reads.add(audience.count(auction)));
                    // One auction that cannot be read (its key is broken) is left out, not the whole list; when none
                    // can be (Redis is away or full) the list fails.
                    return Future.join(reads).otherwiseEmpty().compose(all -> reads.isEmpty() || reads.stream().anyMatch(Future::succeeded)
                            ? Future.succeededFuture() : reads.get(0).<Void>mapEmpty()).map(all -> reads.stream()
                            .filter(Future::succeeded)
                            .map(Future::result)
                            .filter(count -> count.current() > 0)
                            .sorted(Comparator.comparingLong(ViewerCount::current).reversed()
                                    .thenComparing(count -> count.auctionId().value()))
                            .toList());
                })
                .timeout(BACKEND_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)
                .onSuccess(counts -> {
                    JsonArray list = new JsonArray();
                    counts.forEach(count -> list.add(countJson(count)));
                    ctx.json(list);
                })
                .onFailure(e -> unavailable(ctx, "could not list the auctions: " + e.getMessage()));
    }

    private static JsonObject countJson(ViewerCount count) {
        return new JsonObject()
                .put("auctionId", count.auctionId().value())
                .put("current", count.current())
                .put("peak", count.peak());
    }

    void listViewers(RoutingContext ctx) {
        AuctionId auction = auction(ctx);
        int limit;
        ViewerDirectory.Position after;
        try {
            String rawLimit = ctx.queryParams().get("limit");
            limit = rawLimit == null || rawLimit.isEmpty() ? DEFAULT_VIEWERS_LIMIT : Integer.parseInt(rawLimit);
            if (limit < 1 || limit > WhoIsWatching.MAX_LIMIT) {
                throw new IllegalArgumentException("limit must be 1 to " + WhoIsWatching.MAX_LIMIT + ", got " + limit);
            }
            String cursor = ctx.queryParams().get("cursor");
            after = cursor == null || cursor.isEmpty() ? null : WhoIsWatching.position(cursor);
        } catch (IllegalArgumentException e) {
            Refusal.sendError(ctx.response(), 400, e.getMessage());
            return;
        }
        watching.viewers(auction, after, limit)
                .onSuccess(ctx::json)
                .onFailure(e -> unavailable(ctx, "could not gather the viewers: " + e.getMessage()));
    }

    void listCountries(RoutingContext ctx) {
        watching.countries(auction(ctx))
                .onSuccess(ctx::json)
                .onFailure(e -> unavailable(ctx, "could not gather the countries: " + e.getMessage()));
    }

    private static AuctionId auction(RoutingContext ctx) {
        return AuctionId.of(ctx.pathParam("id"));
    }

    private static ValidatedRequest validated(RoutingContext ctx) {
        return ctx.get(RouterBuilder.KEY_META_DATA_VALIDATED_REQUEST);
    }

    /** An ISO-8601 instant query parameter in ms, or {@code absent} when it is not given. */
    private static long instant(RoutingContext ctx, String name, long absent) {
        String raw = ctx.queryParams().get(name);
        if (raw == null || raw.isEmpty()) {
            return absent;
        }
        try {
            return OffsetDateTime.parse(raw).toInstant().toEpochMilli();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(name + " is not an ISO-8601 date-time with offset (e.g. 2026-01-01T10:00:00Z): '" + raw + "'");
        }
    }

    private static void unavailable(RoutingContext ctx, String message) {
        if (!ctx.response().ended()) {
            Refusal.sendError(ctx.response(), 503, message);
        }
    }
}
