package dev.gavel.core.audience;

import dev.gavel.core.AuctionId;
import dev.gavel.core.EventBroker;
import dev.gavel.core.EventOffset;
import dev.gavel.core.LogRead;
import dev.gavel.core.ViewerEvent;
import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

/**
 * An event broker for one auction whose test says what happens: events are appended to its log ({@link #append}) and
 * handed to the subscribers only when the test says so ({@link #deliver}), as often as it likes; subscriptions and
 * reads complete at once, or wait for the test ({@link #holdSubscribes}, {@link #holdReads}). A read answers what the
 * log held when it was made ({@link Read#answer}), as a Redis script does, or what it holds when the test answers
 * ({@link Read#answerNow}).
 *
 * <p>Thread-safe; listeners are called on the caller's thread, outside the broker's lock.
 */
final class ScriptedBroker implements EventBroker {

    /** A subscription: active from the call to {@link #subscribe} until unsubscribed. */
    final class Sub implements Subscription {
        final AuctionListener listener;
        final Promise<Subscription> made = Promise.promise();
        volatile boolean active = true;

        Sub(AuctionListener listener) {
            this.listener = listener;
        }

        @Override
        public Future<Void> unsubscribe() {
            if (active) {
                active = false;
                unsubscribes.incrementAndGet();
            }
            return Future.succeededFuture();
        }

        /** Completes a held subscription. */
        void complete() {
            made.complete(this);
        }
    }

    /** A read of the log. */
    final class Read {
        final EventOffset after;
        final int limit;
        final LogRead snapshot;
        final Promise<LogRead> answer = Promise.promise();

        Read(EventOffset after, int limit, LogRead snapshot) {
            this.after = after;
            this.limit = limit;
            this.snapshot = snapshot;
        }

        /** What the log held when the read was made. */
        void answer() {
            answer.complete(snapshot);
        }

        /** What the log holds now. */
        void answerNow() {
            answer.complete(readNow(after, limit));
        }

        void fail(String why) {
            answer.fail(why);
        }

        boolean answered() {
            return answer.future().isComplete();
        }
    }

    final List<Sub> subscriptions = new CopyOnWriteArrayList<>();
    final List<Read> reads = new CopyOnWriteArrayList<>();
    final AtomicInteger unsubscribes = new AtomicInteger();
    volatile boolean holdSubscribes;
    volatile boolean holdReads;

    private String epoch = "e1";
    private long seq;
    private final List<ViewerEvent> log = new ArrayList<>();
    private long publishedAt = 1;

    /** Appends an event to the log, and returns it at its offset; nobody is told. */
    synchronized ViewerEvent append(String name, String data) {
        ViewerEvent event = ViewerEvent.published(name, "\"" + data + "\"", publishedAt++).at(new EventOffset(epoch, ++seq));
        log.add(event);
        return event;
    }

    /** A bid, appended. */
    ViewerEvent appendBid(String data) {
        return append(ViewerEvent.PLAYER_BIDDING_UPDATE, data);
    }

    /** Another event, appended. */
    ViewerEvent appendEvent(String data) {
        return append(ViewerEvent.PLAYER_SOLD_UPDATE, data);
    }

    /** Appends events named x{seq} up to {@code seq}. */
    List<ViewerEvent> appendUpTo(long last) {
        List<ViewerEvent> made = new ArrayList<>();
        while (head() == null || head().seq() < last) {
            made.add(appendEvent("x" + (head() == null ? 1 : head().seq() + 1)));
        }
        return made;
    }

    /** Appends an event and hands it to the subscribers. */
    ViewerEvent publish(String data) {
        ViewerEvent event = appendEvent(data);
        deliver(event);
        return event;
    }

    /** Hands an event to every active subscriber (again, or out of order, as the test likes). */
    void deliver(ViewerEvent event) {
        for (Sub sub : subscriptions) {
            if (sub.active) {
                sub.listener.onEvent(event);
            }
        }
    }

    /** The log is made anew: a new epoch, from sequence number 1, no events and no last bid. */
    synchronized void newEpoch(String epoch) {
        this.epoch = epoch;
        seq = 0;
        log.clear();
    }

    /** The log loses its newest {@code howMany} events, as a Redis that failed over to a replica that lacked them. */
    synchronized void loseWrites(int howMany) {
        for (int i = 0; i < howMany; i++) {
            log.remove(log.size() - 1);
            seq--;
        }
    }

    synchronized EventOffset head() {
        return seq == 0 ? null : new EventOffset(epoch, seq);
    }

    /** The newest event, or null. */
    synchronized ViewerEvent last() {
        return log.isEmpty() ? null : log.get(log.size() - 1);
    }

    /** The only active subscription's listener. */
    AuctionListener listener() {
        List<Sub> active = subscriptions.stream().filter(sub -> sub.active).toList();
        if (active.size() != 1) {
            throw new AssertionError(active.size() + " active subscriptions");
        }
        return active.get(0).listener;
    }

    long activeSubscriptions() {
        return subscriptions.stream().filter(sub -> sub.active).count();
    }

    /** The reads not answered yet. */
    List<Read> pendingReads() {
        return reads.stream().filter(read -> !read.answered()).collect(Collectors.toList());
    }

    /** The only read not answered yet. */
    Read pendingRead() {
        List<Read> pending = pendingReads();
        if (pending.size() != 1) {
            throw new AssertionError(pending.size() + " reads pending");
        }
        return pending.get(0);
    }

    @Override
    public Future<ViewerEvent> publish(AuctionId auction, ViewerEvent event) {
        throw new UnsupportedOperationException("the feed does not publish");
    }

    @Override
    public Future<LogRead> read(AuctionId auction, EventOffset after, int limit) {
        Read read = new Read(after, limit, readNow(after, limit));
        reads.add(read);
        if (!holdReads) {
            read.answer();
        }
        return read.answer.future();
    }

    /** As the in-memory log reads: after an offset of another epoch or past the head, everything, not continuous. */
    private synchronized LogRead readNow(EventOffset after, int limit) {
        ViewerEvent lastBid = null;
        for (ViewerEvent event : log) {
            if (event.isBid()) {
                lastBid = event;
            }
        }
        EventOffset head = head();
        if (after == null) {
            return new LogRead(head, log.subList(Math.max(0, log.size() - limit), log.size()), lastBid, true);
        }
        boolean continuous = after.epoch().equals(epoch) && after.seq() <= seq;
        List<ViewerEvent> following = new ArrayList<>();
        for (ViewerEvent event : log) {
            if (following.size() == limit) {
                break;
            }
            if (!continuous || event.offset().seq() > after.seq()) {
                following.add(event);
            }
        }
        return new LogRead(head, following, lastBid, continuous);
    }

    @Override
    public Future<Subscription> subscribe(AuctionId auction, AuctionListener listener) {
        Sub sub = new Sub(listener);
        subscriptions.add(sub);
        if (!holdSubscribes) {
            sub.complete();
        }
        return sub.made.future();
    }

    /** The subscriptions not completed yet. */
    List<Sub> pendingSubscriptions() {
        return subscriptions.stream().filter(sub -> !sub.made.future().isComplete()).toList();
    }
}
