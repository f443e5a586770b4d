package dev.gavel.server;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/**
 * The admin API's bearer token. A presented {@code Authorization} header is checked in constant time: both
 * tokens are hashed first, so neither their content nor their length shows in how long the check takes.
 */
final class AdminToken {

    private static final String BEARER = "bearer ";

    private final byte[] expectedDigest;

    AdminToken(String token) {
        this.expectedDigest = sha256(token);
    }

    /** True when {@code authorization} is {@code Bearer <the token>}; the scheme is case-insensitive. */
    boolean accepts(String authorization) {
        if (authorization == null || authorization.length() <= BEARER.length()
                || !authorization.substring(0, BEARER.length()).toLowerCase(Locale.ROOT).equals(BEARER)) {
            return false;
        }
        return MessageDigest.isEqual(expectedDigest, sha256(authorization.substring(BEARER.length()).trim()));
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
