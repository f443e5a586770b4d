package dev.gavel.core.audience;

import dev.gavel.core.AuctionId;
import dev.gavel.core.EventOffset;
import dev.gavel.core.ViewerCount;
import dev.gavel.core.ViewerEvent;
import io.vertx.core.Context;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The viewers of one event loop, one room per auction, and the fan-out to them: a count or an event reaches the
 * loop once and is written to each of its viewers of the auction from this loop, the one that owns their
 * connections.
 *
 * <p>Joins and leaves are summed per auction and handed to the {@link CountReporter} once per turn of the
 * loop, however many viewers joined in it. Which events a viewer gets is its auction's {@link AuctionFeed}'s to say:
 * a viewer joins at an offset, and gets only what follows it.
 *
 * <p>Every method runs on the loop's context.
 */
final class LocalRooms {

    /**
     * What the loop tells the replica: its change of viewers per auction, the change of each person's tabs per auction
     * (viewers without a person key are in the first only), and the ids of those who joined.
     */
    interface Changes {

        void changed(Map<AuctionId, Integer> deltas, Map<AuctionId, Map<String, Integer>> personDeltas,
                     Map<AuctionId, Set<String>> newViewerIds);
    }

    private final Context context;
    private final Changes changes;
    private final AudienceMetrics metrics;
    private final AuctionFeeds feeds;
    private final Map<AuctionId, Room> rooms = new HashMap<>();
    private Map<AuctionId, Integer> deltas = new HashMap<>();
    private Map<AuctionId, Map<String, Integer>> personDeltas = new HashMap<>();
    private Map<AuctionId, Set<String>> newViewerIds = new HashMap<>();
    private boolean shipScheduled;
    private boolean closed;
    private int viewers;

    LocalRooms(Context context, Changes changes, AudienceMetrics metrics, AuctionFeeds feeds) {
        this.context = context;
        this.changes = changes;
        this.metrics = metrics;
        this.feeds = feeds;
    }

    Context context() {
        return context;
    }

    /** True once {@link #closeAll} ran: no more joins. */
    boolean isClosed() {
        return closed;
    }

    /** Viewers on this loop. */
    int viewers() {
        return viewers;
    }

    /**
     * Adds a viewer, at the offset its auction's feed gives it: a new viewer at the feed's position, one that came back
     * ({@code resumeFrom}) at its own. It is sent the count the auction's other viewers were last shown at once, when
     * one is known: the join changes the count, so the count with it follows after the next flush, to every viewer
     * alike (a count of the joiner's own making could leave it on a number that no later broadcast corrects). Then
     * it is {@link Viewer#started}, with the current bid or what it missed, now or once the feed knows. False when the
     * viewer was here already. {@code personKey} names the person behind the connection (null: the connection is its
     * own person).
     */
    boolean join(AuctionId auction, Viewer viewer, String viewerId, String personKey, EventOffset resumeFrom) {
        Room room = rooms.get(auction);
        if (room != null && room.viewers.contains(viewer)) {
            return false;
        }
        AuctionFeed.Joined joined = feeds.join(auction, this, viewer, resumeFrom);
        if (room == null) {
            room = new Room(auction);
            rooms.put(auction, room);
        }
        room.add(viewer);
        viewers++;
        if (personKey != null) {
            room.personOf().put(viewer, personKey);
            personDeltas.computeIfAbsent(auction, a -> new HashMap<>()).merge(personKey, 1, Integer::sum);
        }
        change(auction, 1);
        newViewerIds.computeIfAbsent(auction, a -> new HashSet<>()).add(viewerId);
        if (joined.shown() != null && joined.shown().isNewerThan(room.lastCount)) {
            room.lastCount = joined.shown();
        }
        if (room.lastCount != null) {
            viewer.send(room.lastCount.toEvent());
            metrics.countsSent(1);
        }
        if (joined.start() == null) {
            // the feed starts it later (started): until then it gets no event
            room.notYet(viewer, null);
        } else {
            start(room, viewer, joined.start(), joined.prelude());
        }
        return true;
    }

    /** A viewer that waited is started by its feed: after every event handed on before, before every one after. */
    void started(AuctionId auction, Viewer viewer, Start start, List<ViewerEvent> prelude) {
        Room room = rooms.get(auction);
        if (room != null && room.viewers.contains(viewer)) {
            room.started(viewer);
            start(room, viewer, start, prelude);
        }
    }

    private void start(Room room, Viewer viewer, Start start, List<ViewerEvent> prelude) {
        viewer.started(start);
        prelude.forEach(viewer::send);
        EventOffset at = start.position();
        if (at != null && !at.equals(room.lastEvent)) {
            // events handed on before it joined may still be on their way through this loop: they are not for it
            room.notYet(viewer, at);
        }
    }

    /** Removes a viewer; unknown viewers are ignored. */
    boolean leave(AuctionId auction, Viewer viewer) {
        Room room = rooms.get(auction);
        if (room == null || !room.remove(viewer)) {
            return false;
        }
        personLeft(auction, room, viewer);
        viewers--;
        change(auction, -1);
        if (room.viewers.isEmpty()) {
            rooms.remove(auction);
            feeds.leave(auction, this);
        }
        return true;
    }

    /** Sends the auction's new count to its viewers here. */
    void count(ViewerCount count) {
        Room room = rooms.get(count.auctionId());
        if (room != null) {
            room.lastCount = count;
            metrics.countsSent(room.forEach(count.toEvent()));
        }
    }

    /**
     * The auction's log went back (Redis lost events it had acknowledged) and its feed goes on from the new head: the
     * offsets viewers here were started at may be past it, and no longer say which events are theirs. Every event
     * queued before this reached them already; from here on, each gets every event.
     */
    void rebased(AuctionId auction) {
        Room room = rooms.get(auction);
        if (room != null && room.notYet != null) {
            room.notYet.values().removeIf(java.util.Objects::nonNull);
        }
    }

    /** Sends an event to the auction's viewers here that are at an offset before it, in the order events arrive. */
    void event(AuctionId auction, ViewerEvent event) {
        Room room = rooms.get(auction);
        if (room != null) {
            metrics.eventDelivered(room.forEachFollowing(event), event.publishedAtMillis());
        }
    }

    /**
     * Closes up to {@code howMany} viewers here with {@code code}, taking them out of their rooms at once, so that
     * the replica's count drops with them (a drain in batches: the others stay, counted, until their turn).
     *
     * @return how many were closed
     */
    int closeSome(int howMany, short code, String reason) {
        List<Viewer> chosen = new ArrayList<>(Math.min(howMany, viewers));
        for (Room room : new ArrayList<>(rooms.values())) {
            for (Viewer viewer : room.snapshotOfViewers()) {
                if (chosen.size() == howMany) {
                    break;
                }
                leave(room.auction, viewer);
                chosen.add(viewer);
            }
        }
        chosen.forEach(viewer -> viewer.close(code, reason));
        return chosen.size();
    }

    /** Removes the auction's viewers here and closes them with {@code code}; returns how many there were. */
    int closeRoom(AuctionId auction, short code, String reason) {
        Room room = rooms.remove(auction);
        if (room == null) {
            return 0;
        }
        feeds.leave(auction, this);
        Viewer[] leaving = room.viewers.toArray(new Viewer[0]);
        viewers -= leaving.length;
        for (Viewer viewer : leaving) {
            personLeft(auction, room, viewer);
        }
        change(auction, -leaving.length);
        for (Viewer viewer : leaving) {
            viewer.close(code, reason);
        }
        return leaving.length;
    }

    /** Closes every viewer here with {@code code}; from now on joins are refused and changes not reported. */
    void closeAll(short code, String reason) {
        closed = true;
        List<Viewer> all = new ArrayList<>();
        rooms.values().forEach(room -> all.addAll(room.viewers));
        rooms.keySet().forEach(auction -> feeds.leave(auction, this));
        rooms.clear();
        viewers = 0;
        all.forEach(viewer -> viewer.close(code, reason));
    }

    private void personLeft(AuctionId auction, Room room, Viewer viewer) {
        String person = room.personOf == null ? null : room.personOf.remove(viewer);
        if (person != null) {
            personDeltas.computeIfAbsent(auction, a -> new HashMap<>()).merge(person, -1, Integer::sum);
        }
    }

    private void change(AuctionId auction, int delta) {
        deltas.merge(auction, delta, Integer::sum);
        if (!shipScheduled) {
            shipScheduled = true;
            // after whatever else this turn of the loop brings: one message for a burst of joins
            context.runOnContext(v -> ship());
        }
    }

    private void ship() {
        shipScheduled = false;
        if (closed) {
            return;
        }
        Map<AuctionId, Integer> shipped = deltas;
        Map<AuctionId, Map<String, Integer>> persons = personDeltas;
        Map<AuctionId, Set<String>> ids = newViewerIds;
        deltas = new HashMap<>();
        personDeltas = new HashMap<>();
        newViewerIds = new HashMap<>();
        changes.changed(shipped, persons, ids);
    }

    private static final class Room {
        final AuctionId auction;
        /** By identity, in one flat table: no node per viewer. */
        final Set<Viewer> viewers = Collections.newSetFromMap(new IdentityHashMap<>());
        /** The viewers as an array for fan-outs, made again after the room changed. */
        Viewer[] snapshot;
        ViewerCount lastCount;
        /** The offset of the last event this room handed on. */
        EventOffset lastEvent;
        /**
         * Viewers that must not get every event yet: waiting for their start (null), or started at an offset that
         * events still on their way through this loop have not passed (they get only the events after it). Usually
         * empty; made only when needed.
         */
        Map<Viewer, EventOffset> notYet;
        /** The person key of each viewer that has one; made only when one has. */
        Map<Viewer, String> personOf;

        Room(AuctionId auction) {
            this.auction = auction;
        }

        Map<Viewer, String> personOf() {
            if (personOf == null) {
                personOf = new IdentityHashMap<>();
            }
            return personOf;
        }

        boolean add(Viewer viewer) {
            snapshot = null;
            return viewers.add(viewer);
        }

        boolean remove(Viewer viewer) {
            snapshot = null;
            if (notYet != null) {
                notYet.remove(viewer);
            }
            return viewers.remove(viewer);
        }

        void notYet(Viewer viewer, EventOffset from) {
            if (notYet == null) {
                notYet = new IdentityHashMap<>();
            }
            notYet.put(viewer, from);
        }

        void started(Viewer viewer) {
            if (notYet != null) {
                notYet.remove(viewer);
            }
        }

        Viewer[] snapshotOfViewers() {
            Viewer[] all = snapshot;
            if (all == null) {
                all = viewers.toArray(new Viewer[0]);
                snapshot = all;
            }
            return all;
        }

        /**
         * Sends to every viewer of the room as it was when the fan-out began. A viewer may leave while it is being
         * sent to (one that fell too far behind is closed and leaves at once); walking the set itself would then
         * skip the viewers after it. Returns how many viewers it was sent to.
         */
        int forEach(ViewerEvent event) {
            Viewer[] all = snapshotOfViewers();
            for (Viewer viewer : all) {
                viewer.send(event);
            }
            return all.length;
        }

        /** {@link #forEach} for an event of the auction's feed: only to the viewers at an offset before it. */
        int forEachFollowing(ViewerEvent event) {
            EventOffset offset = event.offset();
            if (offset != null) {
                lastEvent = offset;
            }
            if (notYet == null || notYet.isEmpty()) {
                return forEach(event);
            }
            int sent = 0;
            for (Viewer viewer : snapshotOfViewers()) {
                if (notYet.containsKey(viewer)) {
                    EventOffset from = notYet.get(viewer);
                    if (from == null) {
                        continue;
                    }
                    boolean before = offset != null && offset.epoch().equals(from.epoch()) && offset.seq() <= from.seq();
                    if (!before || offset.equals(from)) {
                        // from the next event on, everything is after its offset
                        notYet.remove(viewer);
                    }
                    if (before) {
                        continue;
                    }
                }
                viewer.send(event);
                sent++;
            }
            return sent;
        }
    }
}
