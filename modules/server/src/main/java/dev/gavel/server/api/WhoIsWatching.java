package dev.gavel.server.api;

import dev.gavel.core.AuctionId;
import dev.gavel.core.Backend;
import dev.gavel.core.PresenceStore;
import dev.gavel.server.viewers.ViewerDirectory;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Who is watching an auction, and from where, gathered when an admin asks: this replica answers for its own viewers
 * ({@link ViewerDirectory}) and asks the other replicas that hold entries in the auction's counts over the backend
 * ({@code ReplicaQueries}), each within {@link #ANSWER_MILLIS}; one that does not answer is named in {@code missing}.
 * {@code connections} and {@code people} are the auction's counts, as {@code viewer-stats} has them. It is also what
 * this replica answers when others ask.
 */
public final class WhoIsWatching {

    /** How long a replica has to answer. */
    static final long ANSWER_MILLIS = 2000;
    static final int MAX_LIMIT = 1000;

    private final ViewerDirectory directory;
    private final Backend backend;
    private final Function<AuctionId, Future<PresenceStore.Reading>> presence;

    /** @param presence the auction's counts as the store has them, with this replica's latest (Audience.presence) */
    public WhoIsWatching(ViewerDirectory directory, Backend backend,
                         Function<AuctionId, Future<PresenceStore.Reading>> presence) {
        this.directory = directory;
        this.backend = backend;
        this.presence = presence;
    }

    /** Starts answering the other replicas' questions about this replica's viewers. */
    public Future<Void> answerOthers() {
        return backend.queries().answer(directory.nodeId(), this::answer);
    }

    /** The replicas to ask: those with an entry in the auction's counts, and their entries (viewers). */
    private Future<Map<String, Long>> others(AuctionId auction) {
        return backend.presence().replicas(auction).map(entries -> {
            Map<String, Long> others = new HashMap<>(entries);
            others.remove(directory.nodeId());
            return others;
        });
    }

    /** A page of the auction's viewers past {@code after} (null: the first), at most {@code limit}. */
    Future<JsonObject> viewers(AuctionId auction, ViewerDirectory.Position after, int limit) {
        JsonObject question = new JsonObject().put("q", "viewers").put("auction", auction.value()).put("limit", limit + 1);
        if (after != null) {
            question.put("after", new JsonObject().put("t", after.connectedAtMillis()).put("n", after.node()).put("s", after.serial()));
        }
        Future<PresenceStore.Reading> totals = presence.apply(auction);
        Future<JsonObject> gathered = others(auction).compose(others -> backend.queries()
                .ask(others.keySet(), question.encode(), ANSWER_MILLIS)
                .map(answers -> {
                    List<JsonObject> parts = new ArrayList<>();
                    parts.add(part(auction, after, limit + 1));
                    TreeSet<String> missing = gather(others.keySet(), answers, parts);
                    List<JsonObject> viewers = new ArrayList<>();
                    for (JsonObject part : parts) {
                        part.getJsonArray("viewers").forEach(v -> viewers.add((JsonObject) v));
                    }
                    viewers.sort(Comparator.comparing(WhoIsWatching::position));
                    JsonArray page = new JsonArray();
                    viewers.stream().limit(limit).forEach(v -> page.add(entry(v)));
                    String next = viewers.size() > limit ? cursor(position(viewers.get(limit - 1))) : null;
                    return new JsonObject().put("auctionId", auction.value()).put("viewers", page).put("next", next)
                            .put("missing", new JsonArray(List.copyOf(missing)));
                }));
        // the totals are the counts', which hold every replica's share (one that did not answer too) and count a
        // person once across replicas, as COUNT_BY=person does: right whatever the page
        return Future.all(totals, gathered).map(all -> gathered.result()
                .put("connections", totals.result().connections())
                .put("people", totals.result().people()));
    }

    /** The auction's viewers by country, largest first. */
    Future<JsonObject> countries(AuctionId auction) {
        String question = new JsonObject().put("q", "countries").put("auction", auction.value()).encode();
        return others(auction).compose(others -> backend.queries().ask(others.keySet(), question, ANSWER_MILLIS)
                .map(answers -> {
                    Map<String, Long> byCountry = new HashMap<>();
                    long unknown = 0;
                    List<JsonObject> parts = new ArrayList<>();
                    parts.add(countriesPart(auction));
                    TreeSet<String> missing = gather(others.keySet(), answers, parts);
                    for (JsonObject part : parts) {
                        part.getJsonObject("countries").forEach(c -> byCountry.merge(c.getKey(), ((Number) c.getValue()).longValue(), Long::sum));
                        unknown += part.getLong("unknown");
                    }
                    JsonArray countries = new JsonArray();
                    byCountry.entrySet().stream()
                            .sorted(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()))
                            .forEach(c -> countries.add(new JsonObject().put("country", c.getKey()).put("current", c.getValue())));
                    long current = unknown + byCountry.values().stream().mapToLong(Long::longValue).sum();
                    return new JsonObject().put("auctionId", auction.value()).put("current", current)
                            .put("countries", countries).put("unknown", unknown)
                            .put("missing", new JsonArray(List.copyOf(missing)));
                }));
    }

    /** This replica's answer to another's question; a question it does not understand fails (the asker sees it missing). */
    private Future<String> answer(String question) {
        try {
            JsonObject q = new JsonObject(question);
            AuctionId auction = AuctionId.of(q.getString("auction"));
            return switch (q.getString("q", "")) {
                case "viewers" -> {
                    JsonObject after = q.getJsonObject("after");
                    ViewerDirectory.Position position = after == null ? null
                            : new ViewerDirectory.Position(after.getLong("t"), after.getString("n"), after.getLong("s"));
                    int limit = Math.min(MAX_LIMIT + 1, Math.max(1, q.getInteger("limit", 1)));
                    yield Future.succeededFuture(part(auction, position, limit).encode());
                }
                case "countries" -> Future.succeededFuture(countriesPart(auction).encode());
                default -> Future.failedFuture("unknown question " + q.getString("q"));
            };
        } catch (RuntimeException e) {
            return Future.failedFuture(e);
        }
    }

    private JsonObject part(AuctionId auction, ViewerDirectory.Position after, int limit) {
        ViewerDirectory.Part part = directory.part(auction, after, limit);
        JsonArray viewers = new JsonArray();
        for (ViewerDirectory.Card card : part.viewers()) {
            viewers.add(new JsonObject().put("t", card.connectedAtMillis()).put("s", card.serial())
                    .put("node", directory.nodeId()).put("viewerId", card.viewerId()).put("userId", card.userId())
                    .put("name", card.name()).put("country", card.country()).put("transport", card.transport()));
        }
        return new JsonObject().put("viewers", viewers);
    }

    private JsonObject countriesPart(AuctionId auction) {
        ViewerDirectory.Countries countries = directory.countries(auction);
        JsonObject byCountry = new JsonObject();
        countries.byCountry().forEach(byCountry::put);
        return new JsonObject().put("countries", byCountry).put("unknown", countries.unknown());
    }

    /** Adds each replica's readable answer to {@code parts}; returns the replicas that gave none. */
    private static TreeSet<String> gather(Collection<String> replicas, Map<String, String> answers, List<JsonObject> parts) {
        TreeSet<String> missing = new TreeSet<>();
        for (String replica : replicas) {
            JsonObject part = answers.containsKey(replica) ? parsed(answers.get(replica)) : null;
            if (part == null) {
                missing.add(replica);
            } else {
                parts.add(part);
            }
        }
        return missing;
    }

    private static JsonObject parsed(String answer) {
        try {
            return new JsonObject(answer);
        } catch (DecodeException e) {
            return null;
        }
    }

    private static ViewerDirectory.Position position(JsonObject viewer) {
        return new ViewerDirectory.Position(viewer.getLong("t"), viewer.getString("node"), viewer.getLong("s"));
    }

    private static JsonObject entry(JsonObject viewer) {
        return new JsonObject().put("viewerId", viewer.getString("viewerId")).put("userId", viewer.getString("userId"))
                .put("name", viewer.getString("name")).put("country", viewer.getString("country"))
                .put("transport", viewer.getString("transport")).put("node", viewer.getString("node"))
                .put("connectedAt", Instant.ofEpochMilli(viewer.getLong("t")).toString());
    }

    /** The opaque cursor of a position: {@code <time>~<serial>~<node>}, base64url. */
    static String cursor(ViewerDirectory.Position position) {
        String raw = position.connectedAtMillis() + "~" + position.serial() + "~" + position.node();
        return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The position a cursor names.
     *
     * @throws IllegalArgumentException for anything that is not a cursor of this API
     */
    static ViewerDirectory.Position position(String cursor) {
        try {
            String[] parts = new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8).split("~", 3);
            if (parts.length != 3 || parts[2].isEmpty()) {
                throw new IllegalArgumentException();
            }
            return new ViewerDirectory.Position(Long.parseLong(parts[0]), parts[2], Long.parseLong(parts[1]));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("cursor: not a cursor of this API (give the 'next' of the previous page)");
        }
    }
}
