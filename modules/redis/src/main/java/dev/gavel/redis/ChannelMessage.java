package dev.gavel.redis;

import dev.gavel.core.AuctionId;
import dev.gavel.core.ViewerCount;
import dev.gavel.core.ViewerEvent;

/**
 * What travels on an auction's channel. A count change, published by the report script:
 * {@code c <version> <current> <peak>}. An event for viewers: {@code t <published at, epoch ms> <name> <payload JSON>}
 * (the time lets every replica measure the publish-to-delivery lag). Replicas before the time was added published
 * {@code e <name> <payload JSON>}; that is still read, so that events reach every viewer while a cluster is being
 * upgraded (an older replica ignores the {@code t} form: upgrade every replica).
 */
final class ChannelMessage {

    private ChannelMessage() {
    }

    static String encode(ViewerEvent event) {
        return "t " + event.publishedAtMillis() + " " + event.name() + " " + event.dataJson();
    }

    /** Calls the listener with the decoded message; a message of another shape is ignored. */
    static boolean decode(AuctionId auction, String message, dev.gavel.core.EventBroker.AuctionListener listener) {
        if (message.startsWith("c ")) {
            String[] parts = message.split(" ");
            if (parts.length != 4) {
                return false;
            }
            listener.onCount(new ViewerCount(auction, Long.parseLong(parts[2]), Long.parseLong(parts[3]), Long.parseLong(parts[1])));
            return true;
        }
        if (message.startsWith("t ")) {
            int timeEnd = message.indexOf(' ', 2);
            int nameEnd = timeEnd < 0 ? -1 : message.indexOf(' ', timeEnd + 1);
            if (nameEnd < 0) {
                return false;
            }
            long publishedAt;
            try {
                publishedAt = Long.parseLong(message, 2, timeEnd, 10);
            } catch (NumberFormatException e) {
                return false;
            }
            listener.onEvent(ViewerEvent.published(message.substring(timeEnd + 1, nameEnd), message.substring(nameEnd + 1), publishedAt));
            return true;
        }
        if (message.startsWith("e ")) {
            int space = message.indexOf(' ', 2);
            if (space < 0) {
                return false;
            }
            listener.onEvent(ViewerEvent.of(message.substring(2, space), message.substring(space + 1)));
            return true;
        }
        return false;
    }
}
