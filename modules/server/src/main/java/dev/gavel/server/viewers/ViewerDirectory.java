package dev.gavel.server.viewers;

import dev.gavel.core.AuctionId;
import dev.gavel.server.ops.GavelMetrics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicLong;

/**
 * This replica's viewers by auction, with who and where each is: what it answers when an admin asks who is watching
 * (its part of the viewer list and of the countries). Per-viewer state stays here, on the replica that holds the
 * viewer; nothing of it goes to the backend until someone asks.
 *
 * <p>A viewer is added when it is attached and removed when it detaches (any event loop, concurrently; the changes of
 * one auction are made under its map entry's lock). Each auction keeps its viewers in connection order (a skip list: a
 * page past a cursor costs the page, not the auction) and its
 * count per country (an answer about countries costs the countries, not the viewers). Reads are weakly consistent: a
 * viewer joining or leaving during a read may or may not be in it.
 */
public final class ViewerDirectory {

    /** One viewer as the list shows it; ordered on its replica by connection time, then serial. */
    public record Card(long connectedAtMillis, long serial, String viewerId, String userId, String name, String country,
                       String transport) {
    }

    /** Where a viewer is in a replica's order, and the order across replicas: connection time, replica, then serial. */
    public record Position(long connectedAtMillis, String node, long serial) implements Comparable<Position> {
        @Override
        public int compareTo(Position other) {
            int c = Long.compare(connectedAtMillis, other.connectedAtMillis);
            if (c == 0) {
                c = node.compareTo(other.node);
            }
            return c != 0 ? c : Long.compare(serial, other.serial);
        }
    }

    /** This replica's part of an auction's list: its viewers past the cursor (at most the limit) and its totals. */
    public record Part(long connections, List<Card> viewers) {
    }

    /** This replica's viewers of an auction by country, and those whose country is unknown. */
    public record Countries(Map<String, Long> byCountry, long unknown) {
    }

    private static final String UNKNOWN = "";
    private static final Comparator<Card> IN_ORDER = Comparator.comparingLong(Card::connectedAtMillis).thenComparingLong(Card::serial);

    private final String nodeId;
    private final AtomicLong serials = new AtomicLong();
    private final ConcurrentHashMap<AuctionId, Viewers> auctions = new ConcurrentHashMap<>();

    public ViewerDirectory(String nodeId) {
        this.nodeId = nodeId;
    }

    public String nodeId() {
        return nodeId;
    }

    /** Adds a viewer of {@code auction}; the card to {@link #remove} it with. */
    public Card add(AuctionId auction, long connectedAtMillis, String viewerId, String userId, String name, String country,
             String transport) {
        Card card = new Card(connectedAtMillis, serials.incrementAndGet(), viewerId, userId, name, country, transport);
        auctions.compute(auction, (a, viewers) -> {
            Viewers updated = viewers == null ? new Viewers() : viewers;
            updated.cards.add(card);
            updated.countries.merge(card.country() == null ? UNKNOWN : card.country(), 1L, Long::sum);
            return updated;
        });
        return card;
    }

    /** The name the viewer list gives a transport. */
    static String transportName(GavelMetrics.Transport transport) {
        return switch (transport) {
            case WS -> "websocket";
            case SOCKETIO -> "socket.io";
            case SOCKJS -> "sockjs";
        };
    }

    /** Removes a viewer added with {@link #add}; once an auction has none, nothing of it is kept. */
    public void remove(AuctionId auction, Card card) {
        auctions.computeIfPresent(auction, (a, viewers) -> {
            if (viewers.cards.remove(card)) {
                viewers.countries.computeIfPresent(card.country() == null ? UNKNOWN : card.country(),
                        (c, n) -> n <= 1 ? null : n - 1);
            }
            return viewers.cards.isEmpty() ? null : viewers;
        });
    }

    /** This replica's viewers of {@code auction} after {@code after} (null: from the first), at most {@code limit}. */
    public Part part(AuctionId auction, Position after, int limit) {
        Viewers viewers = auctions.get(auction);
        if (viewers == null) {
            return new Part(0, List.of());
        }
        NavigableSet<Card> past = after == null ? viewers.cards : viewers.cards.tailSet(local(after), false);
        List<Card> page = new ArrayList<>(Math.min(limit, 64));
        for (Card card : past) {
            if (page.size() >= limit) {
                break;
            }
            page.add(card);
        }
        return new Part(viewers.cards.size(), page);
    }

    /** This replica's viewers of {@code auction} by country. */
    public Countries countries(AuctionId auction) {
        Viewers viewers = auctions.get(auction);
        if (viewers == null) {
            return new Countries(Map.of(), 0);
        }
        Map<String, Long> byCountry = new HashMap<>(viewers.countries);
        Long unknown = byCountry.remove(UNKNOWN);
        return new Countries(byCountry, unknown == null ? 0 : unknown);
    }

    /**
     * Where {@code after} falls among this replica's viewers, as a card to list past: a cursor of another replica falls
     * between two of this one's viewers by the order's rules (time, then replica name).
     */
    private Card local(Position after) {
        int byNode = nodeId.compareTo(after.node());
        // this replica's viewers at the cursor's time come after it when its name sorts after the cursor's replica
        long serial = byNode == 0 ? after.serial() : byNode > 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        return new Card(after.connectedAtMillis(), serial, null, null, null, null, null);
    }

    private static final class Viewers {
        final ConcurrentSkipListSet<Card> cards = new ConcurrentSkipListSet<>(IN_ORDER);
        final ConcurrentHashMap<String, Long> countries = new ConcurrentHashMap<>();
    }
}
