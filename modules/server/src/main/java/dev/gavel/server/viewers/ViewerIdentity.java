package dev.gavel.server.viewers;

/**
 * Who a signed-in viewer is, as its verified viewer token says ({@link ViewerTokens}): the token's {@code sub} and its
 * optional {@code name}. An anonymous viewer has none (null where an identity is expected). Never holds the token.
 *
 * @param userId the token's {@code sub}: 1 to {@value ViewerTokens#MAX_CLAIM_CHARS} characters
 * @param name   the token's {@code name}, or null when it has none
 */
public record ViewerIdentity(String userId, String name) {

    public ViewerIdentity {
        if (userId == null || userId.isEmpty()) {
            throw new IllegalArgumentException("a signed-in viewer has a user id");
        }
    }
}
