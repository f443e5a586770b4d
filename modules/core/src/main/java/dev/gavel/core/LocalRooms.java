package dev.gavel.core;

import io.vertx.core.Context;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The viewers of one event loop, one room per auction, and the fan-out to them: a count or an event reaches the
 * loop once and is written to each of its viewers of the auction from this loop, the one that owns their
 * connections.
 *
 * <p>Joins and leaves are summed per auction and handed to the {@link PresenceReporter} once per turn of the
 * loop, however many viewers joined in it.
 *
 * <p>Every method runs on the loop's context.
 */
final class LocalRooms {

    /** What the loop tells the replica: its change of viewers per auction, and the ids of those who joined. */
    interface Changes {

        void changed(Map<AuctionId, Integer> deltas, Map<AuctionId, Set<String>> newViewerIds);
    }

    private final int loop;
    private final Context context;
    private final Changes changes;
    private final AudienceMetrics metrics;
    private final RoomIndex index;
    private final Map<AuctionId, Room> rooms = new HashMap<>();
    private Map<AuctionId, Integer> deltas = new HashMap<>();
    private Map<AuctionId, Set<String>> newViewerIds = new HashMap<>();
    private boolean shipScheduled;
    private boolean closed;
    private int viewers;

    /**
     * @param loop  this loop's index among the replica's loops
     * @param index where the replica's loops mark the auctions they hold rooms of
     */
    LocalRooms(int loop, Context context, Changes changes, AudienceMetrics metrics, RoomIndex index) {
        this.loop = loop;
        this.context = context;
        this.changes = changes;
        this.metrics = metrics;
        this.index = index;
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
     * Adds a viewer and sends it the auction's newest count at once when one is known (the one the replica last
     * showed, {@code known}, or the last one shown here if that is newer). It is the count before this viewer joined: the
     * join changes the count, so the count with it follows after the next flush, to every viewer alike. Showing
     * the joiner a count of its own making instead could leave it on a number that no later broadcast corrects.
     * False when the viewer was here already.
     */
    boolean join(AuctionId auction, Viewer viewer, String viewerId, ViewerCount known) {
        Room room = rooms.get(auction);
        if (room == null) {
            room = new Room(auction);
            rooms.put(auction, room);
            index.opened(auction, loop);
        }
        if (!room.add(viewer)) {
            return false;
        }
        viewers++;
        change(auction, 1);
        newViewerIds.computeIfAbsent(auction, a -> new HashSet<>()).add(viewerId);
        if (known != null && known.isNewerThan(room.lastCount)) {
            room.lastCount = known;
        }
        if (room.lastCount != null) {
            viewer.send(room.lastCount.toEvent());
            metrics.countsSent(1);
        }
        return true;
    }

    /** Removes a viewer; unknown viewers are ignored. */
    boolean leave(AuctionId auction, Viewer viewer) {
        Room room = rooms.get(auction);
        if (room == null || !room.remove(viewer)) {
            return false;
        }
        viewers--;
        change(auction, -1);
        if (room.viewers.isEmpty()) {
            rooms.remove(auction);
            index.closed(auction, loop);
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

    /** Sends an event to the auction's viewers here, in the order events arrive. */
    void event(AuctionId auction, ViewerEvent event) {
        Room room = rooms.get(auction);
        if (room != null) {
            metrics.eventDelivered(room.forEach(event), event.publishedAtMillis());
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
        index.closed(auction, loop);
        Viewer[] leaving = room.viewers.toArray(new Viewer[0]);
        viewers -= leaving.length;
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
        rooms.keySet().forEach(auction -> index.closed(auction, loop));
        rooms.clear();
        viewers = 0;
        all.forEach(viewer -> viewer.close(code, reason));
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
        Map<AuctionId, Set<String>> ids = newViewerIds;
        deltas = new HashMap<>();
        newViewerIds = new HashMap<>();
        changes.changed(shipped, ids);
    }

    private static final class Room {
        final AuctionId auction;
        /** By identity, in one flat table: no node per viewer. */
        final Set<Viewer> viewers = Collections.newSetFromMap(new IdentityHashMap<>());
        /** The viewers as an array for fan-outs, made again after the room changed. */
        Viewer[] snapshot;
        ViewerCount lastCount;

        Room(AuctionId auction) {
            this.auction = auction;
        }

        boolean add(Viewer viewer) {
            snapshot = null;
            return viewers.add(viewer);
        }

        boolean remove(Viewer viewer) {
            snapshot = null;
            return viewers.remove(viewer);
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
    }
}
