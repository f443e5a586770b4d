package dev.gavel.core;

import java.util.regex.Pattern;

/**
 * Where an event stands in its auction's log: the log's epoch and the event's sequence number in it. Sequence numbers
 * grow by one per event of an auction and are the same on every replica; the epoch changes when the log is made anew
 * (the store lost it: Redis restarted empty, or failed over to a replica that lacked entries), so an offset from
 * before such a loss is recognisably not one of the log's. On the wire it is {@code <epoch>-<seq>}, opaque to clients.
 *
 * @param epoch 1 to 16 characters of {@code [a-z0-9]}
 * @param seq   1 for an auction's first event; 0 names the place before it
 */
public record EventOffset(String epoch, long seq) {

    private static final Pattern EPOCH = Pattern.compile("[a-z0-9]{1,16}");

    public EventOffset {
        if (epoch == null || !EPOCH.matcher(epoch).matches() || seq < 0) {
            throw new IllegalArgumentException("not an event offset: " + epoch + "-" + seq);
        }
    }

    /**
     * What a viewer that came back with something that is not an offset (garbage, or from another service) is taken to
     * have: an offset of no log, so that it is told its events were not found, as for any unknown offset.
     */
    public static final EventOffset UNKNOWN = new EventOffset("unknown", 0);

    /** The offset a client sent back; {@link #UNKNOWN} when it is not one; null when it sent none. */
    public static EventOffset fromClient(String text) {
        if (text == null) {
            return null;
        }
        EventOffset offset = parse(text);
        return offset == null ? UNKNOWN : offset;
    }

    /** The offset a client sent back, or null when it is not one. */
    public static EventOffset parse(String text) {
        if (text == null || text.length() > 40) {
            return null;
        }
        int dash = text.indexOf('-');
        if (dash <= 0 || dash == text.length() - 1) {
            return null;
        }
        String epoch = text.substring(0, dash);
        String seq = text.substring(dash + 1);
        if (!EPOCH.matcher(epoch).matches() || seq.length() > 18 || !seq.chars().allMatch(c -> c >= '0' && c <= '9')) {
            return null;
        }
        return new EventOffset(epoch, Long.parseLong(seq));
    }

    /** True when this offset is in the same log as {@code other} and after it. */
    public boolean isAfter(EventOffset other) {
        return other != null && epoch.equals(other.epoch) && seq > other.seq;
    }

    @Override
    public String toString() {
        return epoch + "-" + seq;
    }
}
