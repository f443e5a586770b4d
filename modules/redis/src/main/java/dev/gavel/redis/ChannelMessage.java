package dev.gavel.redis;

import dev.gavel.core.AuctionId;
import dev.gavel.core.EventBroker;
import dev.gavel.core.EventOffset;
import dev.gavel.core.ViewerCount;
import dev.gavel.core.ViewerEvent;

/**
 * What travels on an auction's channel, and what its log holds. A count change, published by the report script:
 * {@code c <version> <current> <peak>}. An event for viewers, published by the publish script:
 * {@code o <epoch> <entry>}, where an entry of the log is {@code <seq> <published at, epoch ms> <name> <payload JSON>}
 * (the time lets every replica measure the publish-to-delivery lag). Replicas before the log published
 * {@code t <published at> <name> <payload JSON>} (and before that {@code e <name> <payload JSON>}); those are still
 * read, without an offset, so that events reach every viewer while a cluster is being upgraded.
 */
final class ChannelMessage {

    private ChannelMessage() {
    }

    /** Calls the listener with the decoded message; a message of another shape is ignored (false). */
    static boolean decode(AuctionId auction, String message, EventBroker.AuctionListener listener) {
        if (message.startsWith("c ")) {
            String[] parts = message.split(" ");
            if (parts.length != 4) {
                return false;
            }
            listener.onCount(new ViewerCount(auction, Long.parseLong(parts[2]), Long.parseLong(parts[3]), Long.parseLong(parts[1])));
            return true;
        }
        ViewerEvent event = null;
        if (message.startsWith("o ")) {
            int epochEnd = message.indexOf(' ', 2);
            event = epochEnd < 0 ? null : entry(message.substring(2, epochEnd), message.substring(epochEnd + 1));
        } else if (message.startsWith("t ")) {
            event = timed(message.substring(2));
        } else if (message.startsWith("e ")) {
            int space = message.indexOf(' ', 2);
            event = space < 0 ? null : ViewerEvent.of(message.substring(2, space), message.substring(space + 1));
        }
        if (event == null) {
            return false;
        }
        listener.onEvent(event);
        return true;
    }

    /** An entry of an auction's log ({@code <seq> <published at> <name> <payload>}) of {@code epoch}, or null. */
    static ViewerEvent entry(String epoch, String entry) {
        int seqEnd = entry.indexOf(' ');
        if (seqEnd <= 0) {
            return null;
        }
        ViewerEvent event = timed(entry.substring(seqEnd + 1));
        try {
            return event == null ? null : event.at(new EventOffset(epoch, Long.parseLong(entry, 0, seqEnd, 10)));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** {@code <published at> <name> <payload>}, or null. */
    private static ViewerEvent timed(String text) {
        int timeEnd = text.indexOf(' ');
        int nameEnd = timeEnd < 0 ? -1 : text.indexOf(' ', timeEnd + 1);
        if (nameEnd < 0) {
            return null;
        }
        try {
            long publishedAt = Long.parseLong(text, 0, timeEnd, 10);
            return ViewerEvent.published(text.substring(timeEnd + 1, nameEnd), text.substring(nameEnd + 1), publishedAt);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
