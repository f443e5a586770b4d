package dev.gavel.core;

import java.util.regex.Pattern;

/**
 * The id of an auction: 1 to 64 characters of {@code [A-Za-z0-9_-]}. Viewers name it in their slug as
 * {@code auction-<id>}. Because the alphabet needs no escaping, an id may be put into JSON, Redis keys
 * and channel names as it is.
 */
public record AuctionId(String value) {

    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final String SLUG_PREFIX = "auction-";

    public AuctionId {
        if (value == null || !VALID.matcher(value).matches()) {
            throw new IllegalArgumentException("an auction id is 1 to 64 characters of [A-Za-z0-9_-]");
        }
    }

    /** Parses an id, throwing {@link IllegalArgumentException} with a message fit for a client when it is not valid. */
    public static AuctionId of(String value) {
        return new AuctionId(value);
    }

    /** Parses a viewer's {@code slug} ({@code auction-<id>}), throwing {@link IllegalArgumentException} when it is not one. */
    public static AuctionId fromSlug(String slug) {
        if (slug == null || slug.isEmpty()) {
            throw new IllegalArgumentException("missing slug: connect with slug=auction-<id>");
        }
        if (!slug.startsWith(SLUG_PREFIX)) {
            throw new IllegalArgumentException("slug must be auction-<id>");
        }
        try {
            return new AuctionId(slug.substring(SLUG_PREFIX.length()));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("slug must be auction-<id>, where " + e.getMessage());
        }
    }

    @Override
    public String toString() {
        return value;
    }
}
