package dev.gavel.core;

import java.util.List;

/**
 * What an auction's event log holds after an offset (see {@link EventBroker#read}).
 *
 * @param head       the offset of the auction's newest event, or null when it has none (no event, or the log was
 *                   dropped after its window)
 * @param events     the events after the offset asked for, oldest first, with their offsets; without an offset, the
 *                   newest ones
 * @param lastBid    the auction's last {@code playerBiddingUpdate}, or null
 * @param continuous true when {@code events} follow the offset asked for with nothing missing between; false when the
 *                   offset is not in this log (another epoch, or newer than its head) or older than its oldest event
 */
public record LogRead(EventOffset head, List<ViewerEvent> events, ViewerEvent lastBid, boolean continuous) {

    public LogRead {
        events = List.copyOf(events);
    }
}
