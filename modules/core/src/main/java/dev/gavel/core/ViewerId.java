package dev.gavel.core;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Who is behind a viewer connection, for counting unique viewers: 1 to 64 characters of {@code [A-Za-z0-9_-]},
 * given by the page as {@code viewerId=<id>} (one per browser), or made up for a connection that gives none,
 * so that such a connection counts as its own viewer.
 */
public final class ViewerId {

    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private ViewerId() {
    }

    /**
     * The id a connection gave, or a random one when it gave none ({@code null}).
     *
     * @throws IllegalArgumentException with a message fit for a client when the given id is not valid
     */
    public static String orRandom(String given) {
        if (given == null) {
            return random();
        }
        if (!VALID.matcher(given).matches()) {
            throw new IllegalArgumentException("viewerId must be 1 to 64 characters of [A-Za-z0-9_-]");
        }
        return given;
    }

    /** A random id that no page gives: 128 random bits, prefixed so it never equals a short given id by chance. */
    public static String random() {
        byte[] bytes = new byte[16];
        RANDOM.nextBytes(bytes);
        return "anon-" + HexFormat.of().formatHex(bytes);
    }
}
