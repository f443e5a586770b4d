package dev.gavel.redis;

import dev.gavel.core.AuctionId;
import dev.gavel.core.ViewerCount;
import dev.gavel.core.ViewerEvent;

/**
 * What travels on an auction's channel. A count change, published by the report script:
 * {@code c <version> <current> <peak>}. An event for viewers: {@code e <name> <payload JSON>}.
 */
final class ChannelMessage {

    private ChannelMessage() {
    }

    static String encode(ViewerEvent event) {
        return "e " + event.name() + " " + event.dataJson();
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
