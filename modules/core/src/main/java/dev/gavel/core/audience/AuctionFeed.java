package dev.gavel.core.audience;

import dev.gavel.core.AuctionId;
import dev.gavel.core.EventBroker;
import dev.gavel.core.EventOffset;
import dev.gavel.core.LogRead;
import dev.gavel.core.ViewerCount;
import dev.gavel.core.ViewerEvent;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One auction's events and counts on this replica, from the moment a viewer of it joins here until the last one
 * leaves: the one place that decides what each viewer gets.
 *
 * <p>It holds the event loops that have viewers of the auction, its subscription (subscribing, then live), the
 * offset of the last event it handed to the loops ({@code position}), the last bid, the few newest events, and the
 * last count shown with its throttle. Events reach the loops exactly once and in offset order, whatever the broker
 * did: a duplicate (a sequence number already passed) is dropped; a jump, a new epoch, or a subscription that was
 * lost and restored ({@link #onResubscribed}) makes the feed read what it missed from the auction's log and hand it
 * on, in order, before anything newer, holding back what arrives meanwhile.
 *
 * <p>A viewer joins at an offset ({@link #join}): a new viewer at the feed's position, with the current bid; one
 * that comes back at the offset it last got, with what it missed after it (from the newest events kept here, else
 * from the log). While the feed is not live (subscribing, or catching up) or what a viewer missed must be read, the
 * viewer waits: it is started later by a task on its loop, queued under this feed's lock, so that it lands after
 * every event the feed handed on before and before every one after.
 *
 * <p>Thread-safe: every method takes the feed's lock; the loops, the broker's callbacks and timers call in from
 * their own threads. Work per viewer stays on the loops; here, a join costs a few field reads under the lock.
 */
final class AuctionFeed implements EventBroker.AuctionListener {

    /** Events kept here for viewers that come back: most come back within a few events, and need no read. */
    static final int RECENT_EVENTS = 64;
    /** A read of the log that failed is tried again this much later. */
    static final long RETRY_MILLIS = 1000;
    /** Read "everything after": the log holds at most its size. */
    private static final int ALL = 100_000;

    private static final Logger LOG = LoggerFactory.getLogger(AuctionFeed.class);

    private enum State { SUBSCRIBING, LIVE, CATCHING_UP }

    /** A viewer that joined and waits for its start. */
    private record Waiting(LocalRooms loop, Viewer viewer, EventOffset resumeFrom) {
    }

    /** What a join gets: the count to show at once, and its start with what follows it, or null: it waits. */
    record Joined(ViewerCount shown, Start start, List<ViewerEvent> prelude) {
    }

    private final AuctionId auction;
    private final AuctionFeeds feeds;
    private final BroadcastThrottle throttle;
    private final Set<LocalRooms> loops = new HashSet<>();
    private final ArrayDeque<ViewerEvent> recent = new ArrayDeque<>();
    private State state = State.SUBSCRIBING;
    private EventOffset position;
    private ViewerEvent lastBid;
    /** The last bid at {@link #position}, as joiners get it; made again when either changes. */
    private ViewerEvent bidForJoiners;
    private List<ViewerEvent> held = new ArrayList<>();
    private List<Waiting> waiting = new ArrayList<>();
    private boolean catchUpAgain;
    private boolean readingForWaiting;
    private EventBroker.Subscription subscription;
    private boolean closed;
    private ViewerCount known;
    /** Counts taken from announcements so far: a count read from the store is taken only if none was meanwhile. */
    private long countsHeard;
    private ViewerCount shown;
    private long broadcastTimer = -1;

    AuctionFeed(AuctionId auction, AuctionFeeds feeds) {
        this.auction = auction;
        this.feeds = feeds;
        this.throttle = new BroadcastThrottle(feeds.settings().broadcastMillis());
    }

    /** Subscribes; the feed is live once subscribed and its log's head is read. On the feeds' context. */
    void subscribe() {
        feeds.broker().subscribe(auction, this).onComplete(ar -> {
            synchronized (this) {
                if (ar.failed()) {
                    LOG.atWarn().addKeyValue("auction", auction.value())
                            .log("Could not subscribe to the auction's events, will retry: {}", ar.cause().toString());
                    if (!closed) {
                        feeds.timers().schedule(RETRY_MILLIS, this::subscribe);
                    }
                    return;
                }
                if (closed) {
                    ar.result().unsubscribe();
                    return;
                }
                subscription = ar.result();
                catchUp();
            }
        });
    }

    /**
     * A viewer on {@code loop} joins, new ({@code resumeFrom} null) or coming back from an offset. The loop holds a room
     * of the auction from now on, until {@link #removeLoop}.
     */
    synchronized Joined join(LocalRooms loop, Viewer viewer, EventOffset resumeFrom) {
        loops.add(loop);
        if (state == State.LIVE) {
            Joined now = startNow(resumeFrom);
            if (now != null) {
                return now;
            }
        }
        waiting.add(new Waiting(loop, viewer, resumeFrom));
        if (state == State.LIVE) {
            startWaiting();
        }
        return new Joined(shown, null, List.of());
    }

    /** The loop holds no room of the auction any more; true when no loop does: the feed is done. */
    synchronized boolean removeLoop(LocalRooms loop) {
        loops.remove(loop);
        return loops.isEmpty();
    }

    /** Ends the subscription; nothing more reaches the loops. */
    synchronized void close() {
        closed = true;
        cancelBroadcast();
        if (subscription != null) {
            subscription.unsubscribe();
            subscription = null;
        }
    }

    /** The count last shown to this auction's viewers, or null. */
    synchronized ViewerCount shown() {
        return shown;
    }

    /** The newest count this replica knows of the auction, or null. */
    synchronized ViewerCount known() {
        return known;
    }

    @Override
    public synchronized void onEvent(ViewerEvent event) {
        if (closed) {
            return;
        }
        accept(event);
    }

    @Override
    public synchronized void onResubscribed() {
        if (!closed && state != State.SUBSCRIBING) {
            catchUp();
            readStoredCount();
        }
    }

    /** Counts announced while the subscription was down were lost with it: the store's count, read until it answers. */
    private void readStoredCount() {
        long heardBefore = countsHeard();
        feeds.storedCount(auction).onComplete(read -> {
            if (read.succeeded()) {
                if (read.result() != null) {
                    rebaseCount(read.result(), heardBefore);
                }
            } else if (!isClosed()) {
                feeds.timers().schedule(RETRY_MILLIS, this::readStoredCount);
            }
        });
    }

    private synchronized boolean isClosed() {
        return closed;
    }

    private synchronized long countsHeard() {
        return countsHeard;
    }

    private void accept(ViewerEvent event) {
        EventOffset offset = event.offset();
        if (state != State.LIVE) {
            held.add(event);
        } else if (offset == null || position == null) {
            deliver(event);
        } else if (!offset.epoch().equals(position.epoch())) {
            // the log was made anew: what it holds now is read, from its first event
            held.add(event);
            catchUp();
        } else if (offset.seq() <= position.seq()) {
            // handed on already (read from the log, and now arriving over pub/sub)
        } else if (offset.seq() == position.seq() + 1) {
            deliver(event);
        } else {
            feeds.metrics().gapRepaired();
            held.add(event);
            catchUp();
        }
    }

    /** Hands an event to every loop with viewers of the auction, in order. */
    private void deliver(ViewerEvent event) {
        EventOffset offset = event.offset();
        if (offset != null) {
            if (position == null || !offset.epoch().equals(position.epoch()) || offset.seq() != position.seq() + 1) {
                recent.clear();
            }
            position = offset;
            recent.addLast(event);
            if (recent.size() > RECENT_EVENTS) {
                recent.removeFirst();
            }
            bidForJoiners = null;
        }
        if (event.isBid()) {
            lastBid = event;
        }
        for (LocalRooms loop : loops) {
            loop.context().runOnContext(v -> loop.event(auction, event));
        }
    }

    /**
     * Reads the log from the position on (or its head, when the position is not known yet) and hands on what this
     * replica missed; what arrives meanwhile waits. One read at a time; asked again meanwhile, it reads again after.
     */
    private void catchUp() {
        if (state == State.CATCHING_UP) {
            catchUpAgain = true;
            return;
        }
        state = State.CATCHING_UP;
        EventOffset from = position;
        read(from, from == null ? RECENT_EVENTS : ALL).onComplete(ar -> {
            synchronized (this) {
                if (closed) {
                    return;
                }
                if (ar.failed()) {
                    LOG.atWarn().addKeyValue("auction", auction.value())
                            .log("Could not read the auction's event log, will retry: {}", ar.cause().toString());
                    feeds.timers().schedule(RETRY_MILLIS, () -> {
                        synchronized (this) {
                            if (closed) {
                                return;
                            }
                            if (from != null || state == State.LIVE) {
                                state = State.LIVE;
                                catchUp();
                            } else {
                                catchUpAgain = true;
                            }
                        }
                    });
                    if (from != null) {
                        return;
                    }
                    // the head is not known: the viewers waiting for it are not kept waiting on the store (the
                    // feed is live without a position; the retry finds it)
                    state = State.LIVE;
                    List<ViewerEvent> arrived = held;
                    held = new ArrayList<>();
                    arrived.forEach(this::accept);
                    startWaiting();
                    return;
                }
                caughtUp(from, ar.result());
                state = State.LIVE;
                List<ViewerEvent> arrived = held;
                held = new ArrayList<>();
                arrived.forEach(this::accept);
                if (catchUpAgain && state == State.LIVE) {
                    catchUpAgain = false;
                    catchUp();
                }
                if (state == State.LIVE) {
                    startWaiting();
                }
            }
        });
    }

    private void caughtUp(EventOffset from, LogRead read) {
        EventOffset head = read.head();
        if (head == null) {
            // no log: no event yet, or none for longer than the log's head is kept
            return;
        }
        if (from == null || position == null) {
            // the first read: the feed starts at the head; nobody here has seen anything before it
            position = head;
            lastBid = read.lastBid();
            bidForJoiners = null;
            recent.clear();
            recent.addAll(read.events());
            return;
        }
        if (!head.epoch().equals(position.epoch())) {
            LOG.atWarn().addKeyValue("auction", auction.value())
                    .log("The auction's event log was made anew (epoch {} after {}); its events are handed on from its first", head.epoch(), position.epoch());
            feeds.metrics().gapUnrecoverable();
            read.events().forEach(this::deliver);
            if (!head.equals(position)) {
                position = head;
                lastBid = read.lastBid();
                bidForJoiners = null;
            }
            return;
        }
        if (head.seq() < position.seq()) {
            LOG.atWarn().addKeyValue("auction", auction.value())
                    .log("The auction's event log lost events that were handed on (head {} behind {}): Redis lost acknowledged writes", head, position);
            feeds.metrics().gapUnrecoverable();
            position = head;
            lastBid = read.lastBid();
            bidForJoiners = null;
            recent.clear();
            // viewers started at an offset the log no longer reaches would skip the events that now take its numbers
            for (LocalRooms loop : loops) {
                loop.context().runOnContext(v -> loop.rebased(auction));
            }
            return;
        }
        if (!read.continuous()) {
            LOG.atWarn().addKeyValue("auction", auction.value())
                    .log("Events after {} are no longer in the auction's log; viewers here missed some", position);
            feeds.metrics().gapUnrecoverable();
        }
        for (ViewerEvent event : read.events()) {
            if (event.offset().isAfter(position) || !read.continuous()) {
                deliver(event);
            }
        }
    }

    /** A new viewer's start, or a returning one's from what is kept here; null when the log must be read for it. */
    private Joined startNow(EventOffset resumeFrom) {
        if (resumeFrom == null) {
            return new Joined(shown, new Start(position, null, 0), currentBid());
        }
        if (position == null || !resumeFrom.epoch().equals(position.epoch())) {
            // an offset of no log this auction has: unknown, or from before the log was made anew
            return new Joined(shown, new Start(position, false, 0), currentBid());
        }
        if (resumeFrom.seq() == position.seq()) {
            return new Joined(shown, new Start(position, true, 0), List.of());
        }
        if (resumeFrom.seq() > position.seq() || recent.isEmpty() || resumeFrom.seq() < recent.getFirst().offset().seq() - 1) {
            // ahead of this replica (an event on its way here), or older than what is kept here: the log says
            return null;
        }
        List<ViewerEvent> missed = new ArrayList<>();
        for (ViewerEvent event : recent) {
            if (event.offset().seq() > resumeFrom.seq()) {
                missed.add(event);
            }
        }
        return new Joined(shown, new Start(position, true, missed.size()), missed);
    }

    /** The bid a joiner is shown: the last one, at the position it joins at, so that its offset says where it is. */
    private List<ViewerEvent> currentBid() {
        if (lastBid == null) {
            return List.of();
        }
        if (bidForJoiners == null) {
            bidForJoiners = position == null || position.equals(lastBid.offset()) ? lastBid : lastBid.at(position);
        }
        return List.of(bidForJoiners);
    }

    /** Starts the waiting viewers that can be started from what is here; reads the log for the others. */
    private void startWaiting() {
        if (waiting.isEmpty()) {
            return;
        }
        List<Waiting> still = new ArrayList<>();
        for (Waiting viewer : waiting) {
            Joined start = startNow(viewer.resumeFrom());
            if (start != null) {
                release(viewer, start);
            } else {
                still.add(viewer);
            }
        }
        waiting = still;
        if (!still.isEmpty() && !readingForWaiting) {
            readForWaiting();
        }
    }

    /** One read of the log for every waiting viewer that came back from an offset older than what is kept here. */
    private void readForWaiting() {
        EventOffset oldest = null;
        for (Waiting viewer : waiting) {
            // every one left came back from an offset of this log's epoch (see startNow)
            if (oldest == null || viewer.resumeFrom().seq() < oldest.seq()) {
                oldest = viewer.resumeFrom();
            }
        }
        readingForWaiting = true;
        EventOffset from = oldest;
        read(from, ALL).onComplete(ar -> {
            synchronized (this) {
                readingForWaiting = false;
                if (closed) {
                    return;
                }
                List<Waiting> still = new ArrayList<>();
                for (Waiting viewer : waiting) {
                    if (viewer.resumeFrom() == null || !viewer.resumeFrom().epoch().equals(from.epoch())) {
                        // joined while the feed was catching up: started once it is live (startWaiting)
                        still.add(viewer);
                        continue;
                    }
                    Joined start = ar.succeeded() ? startFromLog(viewer.resumeFrom(), ar.result())
                            : new Joined(shown, new Start(position, false, 0), currentBid());
                    if (start != null) {
                        release(viewer, start);
                    } else {
                        still.add(viewer);
                    }
                }
                waiting = still;
                if (state == State.LIVE) {
                    startWaiting();
                }
            }
        });
    }

    /**
     * A returning viewer's start from a read of the log and the events kept here, which together must cover what it
     * missed up to the feed's position; null when they do not (the feed moved on past both): read again.
     */
    private Joined startFromLog(EventOffset resumeFrom, LogRead read) {
        EventOffset head = read.head();
        if (head == null || position == null || !head.epoch().equals(resumeFrom.epoch()) || resumeFrom.seq() > head.seq()) {
            return new Joined(shown, new Start(position, false, 0), currentBid());
        }
        if (resumeFrom.seq() >= position.seq()) {
            // ahead of this replica: it starts where it is, and the events on their way here that it has are skipped
            return new Joined(shown, new Start(resumeFrom, true, 0), List.of());
        }
        List<ViewerEvent> missed = new ArrayList<>();
        long next = resumeFrom.seq() + 1;
        for (ViewerEvent event : read.events()) {
            if (event.offset().seq() == next && next <= position.seq() && read.continuous()) {
                missed.add(event);
                next++;
            }
        }
        for (ViewerEvent event : recent) {
            if (event.offset().seq() == next && next <= position.seq()) {
                missed.add(event);
                next++;
            }
        }
        if (!read.continuous()) {
            return new Joined(shown, new Start(position, false, 0), currentBid());
        }
        if (next <= position.seq()) {
            return null;
        }
        return new Joined(shown, new Start(position, true, missed.size()), missed);
    }

    private Future<LogRead> read(EventOffset after, int limit) {
        return feeds.broker().read(auction, after, limit)
                .timeout(feeds.settings().requestTimeoutMillis(), TimeUnit.MILLISECONDS);
    }

    /** Starts a waiting viewer on its loop, after every event handed on before. */
    private void release(Waiting viewer, Joined start) {
        viewer.loop().context().runOnContext(v -> viewer.loop().started(auction, viewer.viewer(), start.start(), start.prelude()));
    }

    @Override
    public synchronized void onCount(ViewerCount count) {
        if (closed || !count.isNewerThan(known)) {
            return;
        }
        countsHeard++;
        known = count;
        if (broadcastTimer == -1) {
            scheduleBroadcast();
        }
    }

    /**
     * The store's count read after the subscription was restored: taken whatever its version, since a Redis that
     * failed over may have lost the last writes and counts versions from an older one; announcements newer than it
     * follow as usual.
     */
    private synchronized void rebaseCount(ViewerCount count, long heardBefore) {
        if (closed || countsHeard != heardBefore) {
            // a newer announcement was taken meanwhile: it came over the restored subscription, from the store as it is
            return;
        }
        known = count;
        if (broadcastTimer == -1) {
            scheduleBroadcast();
        }
    }

    /**
     * Shows the latest count as soon as the throttle allows (later for a big audience here), and not while counts are
     * held back.
     */
    private void scheduleBroadcast() {
        long now = feeds.clock().millis();
        long delay = Math.max(throttle.delayBeforeNext(now, feeds.viewersHere(auction)), feeds.countsHeldFor(now));
        if (delay <= 0) {
            broadcast();
        } else {
            broadcastTimer = feeds.timers().schedule(delay, () -> {
                synchronized (this) {
                    broadcastTimer = -1;
                    if (!closed) {
                        scheduleBroadcast();
                    }
                }
            });
        }
    }

    private void broadcast() {
        // never fewer than the viewers here (a sum read before every replica wrote its entry back)
        ViewerCount count = feeds.atLeastLocal(known);
        if (shown != null && shown.current() == count.current() && shown.peak() == count.peak()) {
            return;
        }
        shown = count;
        throttle.sent(feeds.clock().millis());
        feeds.metrics().broadcast();
        for (LocalRooms loop : loops) {
            loop.context().runOnContext(v -> loop.count(count));
        }
    }

    private void cancelBroadcast() {
        if (broadcastTimer != -1) {
            feeds.timers().cancel(broadcastTimer);
            broadcastTimer = -1;
        }
    }
}
