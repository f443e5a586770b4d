package dev.gavel.server.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Locale;

/**
 * The admin API's bearer tokens: {@code ADMIN_TOKEN} and, while a rotation overlaps, the {@code ADMIN_TOKENS}.
 * A presented {@code Authorization} header is checked in constant time: every token is hashed first, so neither
 * its content nor its length shows in how long the check takes, and it is compared with every accepted token,
 * so neither does which one it matched.
 */
final class AdminToken {

    private static final String BEARER = "bearer ";

    private final List<byte[]> expectedDigests;

    AdminToken(List<String> tokens) {
        if (tokens.isEmpty()) {
            throw new IllegalArgumentException("no admin token");
        }
        this.expectedDigests = tokens.stream().map(AdminToken::sha256).toList();
    }

    /** True when {@code authorization} is {@code Bearer <an accepted token>}; the scheme is case-insensitive. */
    boolean accepts(String authorization) {
        if (authorization == null || authorization.length() <= BEARER.length()
                || !authorization.substring(0, BEARER.length()).toLowerCase(Locale.ROOT).equals(BEARER)) {
            return false;
        }
        byte[] presented = sha256(authorization.substring(BEARER.length()).trim());
        boolean accepted = false;
        for (byte[] expected : expectedDigests) {
            accepted |= MessageDigest.isEqual(expected, presented);
        }
        return accepted;
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
