package dev.gavel.core.audience;

import dev.gavel.core.EventOffset;

/**
 * Where a viewer starts in its auction's events, told to it once ({@link Viewer#started}) before the events that
 * follow that place.
 *
 * @param position  the offset the viewer is at: every event it gets from now on comes after it; null while the
 *                  auction has no event
 * @param recovered null for a new viewer; for one that came back with an offset, whether what it missed was found
 *                  (then it follows, {@code missed} events, before anything newer)
 * @param missed    how many events the viewer missed and gets now (0 unless recovered)
 */
public record Start(EventOffset position, Boolean recovered, int missed) {

    /** True for a viewer that came back with an offset and gets what it missed. */
    public boolean isRecovered() {
        return Boolean.TRUE.equals(recovered);
    }
}
