package dev.gavel.bench;

/**
 * Reads the two numbers the bench needs out of an event's JSON text without building a tree: the publish
 * timestamp {@code "t"} of a bid and the {@code "current"} of a count update. A viewer receives tens of
 * thousands of frames a second, so the generator must stay far cheaper than the server it measures.
 */
final class Frames {

    static final String COUNT_EVENT = "viewerCountUpdate";
    static final String BID_EVENT = "playerBiddingUpdate";

    private Frames() {
    }

    /** The event name of a {@code {"event":NAME,...}} text, or null. */
    static String wsEventName(String text) {
        int key = text.indexOf("\"event\"");
        if (key < 0) {
            return null;
        }
        int open = text.indexOf('"', text.indexOf(':', key + 7) + 1);
        int close = open < 0 ? -1 : text.indexOf('"', open + 1);
        return close < 0 ? null : text.substring(open + 1, close);
    }

    /** The event name of a Socket.IO EVENT payload {@code ["NAME",...]} starting at {@code from}, or null. */
    static String socketIoEventName(String text, int from) {
        int open = text.indexOf('"', from);
        int close = open < 0 ? -1 : text.indexOf('"', open + 1);
        return close < 0 ? null : text.substring(open + 1, close);
    }

    /** The integer value of {@code "key":} in {@code text}, or {@code missing}. */
    static long longField(String text, String key, long missing) {
        int at = text.indexOf("\"" + key + "\"");
        if (at < 0) {
            return missing;
        }
        int i = text.indexOf(':', at + key.length() + 2);
        if (i < 0) {
            return missing;
        }
        i++;
        while (i < text.length() && text.charAt(i) == ' ') {
            i++;
        }
        boolean negative = i < text.length() && text.charAt(i) == '-';
        if (negative) {
            i++;
        }
        long value = 0;
        int digits = 0;
        while (i < text.length() && Character.isDigit(text.charAt(i))) {
            value = value * 10 + (text.charAt(i) - '0');
            i++;
            digits++;
        }
        if (digits == 0) {
            return missing;
        }
        return negative ? -value : value;
    }

    /** The string value of {@code "key":"..."}, or null. */
    static String stringField(String text, String key) {
        int at = text.indexOf("\"" + key + "\"");
        if (at < 0) {
            return null;
        }
        int open = text.indexOf('"', text.indexOf(':', at + key.length() + 2) + 1);
        int close = open < 0 ? -1 : text.indexOf('"', open + 1);
        return close < 0 ? null : text.substring(open + 1, close);
    }
}
