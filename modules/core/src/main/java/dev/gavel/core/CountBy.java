package dev.gavel.core;

/**
 * What an auction's {@code current} and {@code peak} count ({@code COUNT_BY}). Every replica of one deployment counts
 * the same way: the store keeps one peak per auction.
 */
public enum CountBy {
    /** Every open viewer connection. */
    CONNECTION,
    /** One per person: a signed-in user, else a {@code viewerId}, else a connection. Five tabs of one user are one. */
    PERSON;

    /** {@code connection} or {@code person}, as {@code COUNT_BY} spells it; null for anything else. */
    public static CountBy parse(String value) {
        return switch (value) {
            case "connection" -> CONNECTION;
            case "person" -> PERSON;
            default -> null;
        };
    }
}
