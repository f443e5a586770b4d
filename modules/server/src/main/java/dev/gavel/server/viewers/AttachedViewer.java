package dev.gavel.server.viewers;

import dev.gavel.core.ViewerEvent;
import dev.gavel.core.audience.Audience;
import dev.gavel.core.audience.Start;
import dev.gavel.core.audience.Viewer;
import dev.gavel.server.ops.GavelMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayDeque;

/**
 * A connection attached to the audience as a viewer, whatever its transport: the one place that joins and leaves,
 * takes the viewer's frames (with the frame limit and its close code), and bounds what waits to be sent to it.
 *
 * <p>A viewer that does not read is never allowed to hold memory without bound or to delay the others: while its
 * transport is congested, count updates collapse to the newest, and events wait in order; once more than
 * {@link #MAX_BEHIND_CHARS} of events wait, or the oldest has waited {@link #MAX_BEHIND_MILLIS}, it is closed with
 * 1013 (Try Again Later) and its client reconnects. Events are never dropped or reordered for a viewer that stays.
 *
 * <p>A viewer's own frames are answered at a bounded rate: it may send {@link #FRAME_BURST} at once and
 * {@link #FRAMES_PER_SECOND} a second after that (a client sends one heartbeat every few seconds); a viewer that
 * sends faster is closed with 1008 (Policy Violation) before its frame is read, so a flood costs no more than
 * reading it off the socket.
 *
 * <p>Confined to the connection's context.
 */
public final class AttachedViewer implements Viewer {

    static final int MAX_BEHIND_CHARS = 256 * 1024;
    static final long MAX_BEHIND_MILLIS = 5_000;
    static final int FRAME_BURST = 100;
    static final int FRAMES_PER_SECOND = 10;
    static final short POLICY_VIOLATION = 1008;
    private static final Logger LOG = LoggerFactory.getLogger(AttachedViewer.class);

    private final Audience audience;
    private final ViewerDirectory directory;
    private final GavelMetrics metrics;
    private final ViewerAdmission.Admitted admitted;
    private final ViewerWire wire;
    private final Clock clock;
    /** Events held back while the transport is congested, and when each arrived; made only when needed. */
    private ArrayDeque<ViewerEvent> waiting;
    private ArrayDeque<Long> waitingSince;
    private ViewerEvent waitingCount;
    private long waitingChars;
    private boolean attached;
    private boolean closed;
    /** The viewer's frame budget: a token bucket, refilled by {@link #FRAMES_PER_SECOND}. */
    private double frameTokens = FRAME_BURST;
    private long frameTokensAt;

    /** Its entry in the replica's directory of viewers, while attached. */
    private ViewerDirectory.Card listed;

    private AttachedViewer(Audience audience, ViewerDirectory directory, GavelMetrics metrics, ViewerAdmission.Admitted admitted,
                           ViewerWire wire, Clock clock) {
        this.audience = audience;
        this.directory = directory;
        this.metrics = metrics;
        this.admitted = admitted;
        this.wire = wire;
        this.clock = clock;
    }

    /**
     * Makes the connection a viewer of its auction: it is counted, and listed in {@code directory} for who is watching,
     * from now on, until {@link #detach}.
     */
    public static AttachedViewer attach(Audience audience, ViewerDirectory directory, GavelMetrics metrics,
                                        ViewerAdmission.Admitted admitted, ViewerWire wire, Clock clock) {
        AttachedViewer viewer = new AttachedViewer(audience, directory, metrics, admitted, wire, clock);
        viewer.frameTokensAt = clock.millis();
        wire.onDrained(viewer::drain);
        viewer.attached = true;
        metrics.attached(wire.transport());
        ViewerIdentity identity = admitted.identity();
        viewer.listed = directory.add(admitted.auction(), viewer.frameTokensAt, admitted.viewerId(),
                identity == null ? null : identity.userId(), identity == null ? null : identity.name(), admitted.country(),
                ViewerDirectory.transportName(wire.transport()));
        audience.join(admitted.auction(), viewer, admitted.viewerId(), admitted.personKey(), admitted.resumeFrom());
        return viewer;
    }

    /** The connection ended, or left the auction: it is no longer counted. Idempotent. */
    public void detach() {
        closed = true;
        waiting = null;
        waitingSince = null;
        waitingCount = null;
        waitingChars = 0;
        if (attached) {
            attached = false;
            metrics.detached(wire.transport());
            directory.remove(admitted.auction(), listed);
            audience.leave(admitted.auction(), this);
        }
    }

    /** A text frame from the viewer (plain WebSocket and SockJS). */
    public void receiveText(String text) {
        if (withinFrameRate()) {
            ViewerFrames.handle(text, this);
        }
    }

    /** A binary frame from the viewer: refused like text, closed with 1009 when over the frame limit. */
    public void receiveBinary(int length) {
        if (!withinFrameRate()) {
            return;
        }
        if (length > ViewerFrames.MAX_FRAME_BYTES) {
            close(ViewerFrames.TOO_BIG, "frame over " + ViewerFrames.MAX_FRAME_BYTES + " bytes");
        } else {
            send(ViewerEvent.badFrame("binary frames are not taken"));
        }
    }

    /** A named event from the viewer (Socket.IO). */
    public void receiveEvent(String name) {
        if (withinFrameRate()) {
            ViewerFrames.handleEvent(name, this);
        }
    }

    /** Takes one frame from the budget; closes the viewer with 1008 and answers false when there is none left. */
    private boolean withinFrameRate() {
        if (closed) {
            return false;
        }
        long now = clock.millis();
        frameTokens = Math.min(FRAME_BURST, frameTokens + (now - frameTokensAt) * FRAMES_PER_SECOND / 1000.0);
        frameTokensAt = now;
        if (frameTokens < 1) {
            LOG.atDebug().addKeyValue("auction", admitted.auction().value())
                    .log("Viewer sent frames faster than {} a second; closing it", FRAMES_PER_SECOND);
            metrics.refused("frame_rate");
            close(POLICY_VIOLATION, "too many frames");
            return false;
        }
        frameTokens--;
        return true;
    }

    @Override
    public void send(ViewerEvent event) {
        if (closed) {
            return;
        }
        if (waitingCount == null && (waiting == null || waiting.isEmpty()) && !wire.congested()) {
            wire.write(event);
            return;
        }
        if (event.isCount()) {
            waitingCount = event;
            return;
        }
        if (waiting == null) {
            waiting = new ArrayDeque<>();
            waitingSince = new ArrayDeque<>();
        }
        long now = clock.millis();
        waiting.add(event);
        waitingSince.add(now);
        waitingChars += event.weight();
        if (waitingChars > MAX_BEHIND_CHARS || now - waitingSince.peek() > MAX_BEHIND_MILLIS) {
            LOG.atDebug().addKeyValue("auction", admitted.auction().value())
                    .log("Viewer fell behind by {} chars; closing it", waitingChars);
            metrics.slowViewerClosed();
            close(TRY_AGAIN_LATER, "too far behind");
        }
    }

    /** The viewer's place in its auction's events is known: its wire says so first, then what follows comes. */
    @Override
    public void started(Start start) {
        if (closed) {
            return;
        }
        ViewerEvent first = wire.started(start);
        if (first != null) {
            send(first);
        }
        drain();
    }

    /**
     * Closes the connection; it stops counting at once, not only once the client has answered the close. A close with
     * 1009 is where every transport's "frame too big" ends ({@link ViewerFrames}, binary frames, SockJS), so it is
     * counted here.
     */
    @Override
    public void close(short code, String reason) {
        if (closed) {
            return;
        }
        if (code == ViewerFrames.TOO_BIG) {
            metrics.refused("frame_too_big");
        }
        detach();
        wire.close(code, reason);
    }

    /** Writes what waits, in order, while the transport takes it. */
    private void drain() {
        while (!closed && !wire.congested()) {
            ViewerEvent next = waiting == null ? null : waiting.poll();
            if (next != null) {
                waitingSince.poll();
                waitingChars -= next.weight();
                wire.write(next);
            } else if (waitingCount != null) {
                ViewerEvent count = waitingCount;
                waitingCount = null;
                wire.write(count);
            } else {
                return;
            }
        }
    }
}
