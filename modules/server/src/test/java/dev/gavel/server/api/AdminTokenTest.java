package dev.gavel.server.api;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdminTokenTest {

    private final AdminToken token = new AdminToken(List.of("s3cret-token"));

    @Test
    void theBearerTokenIsAccepted() {
        assertTrue(token.accepts("Bearer s3cret-token"));
        assertTrue(token.accepts("bearer s3cret-token"), "the scheme is case-insensitive");
        assertTrue(token.accepts("BEARER  s3cret-token "));
    }

    @Test
    void anythingElseIsRefused() {
        assertFalse(token.accepts(null));
        assertFalse(token.accepts(""));
        assertFalse(token.accepts("Bearer"));
        assertFalse(token.accepts("Bearer "));
        assertFalse(token.accepts("Bearer s3cret-toke"));
        assertFalse(token.accepts("Bearer s3cret-tokenn"));
        assertFalse(token.accepts("Bearer S3CRET-TOKEN"));
        assertFalse(token.accepts("Basic s3cret-token"));
        assertFalse(token.accepts("s3cret-token"));
    }

    @Test
    void duringARotationEveryListedTokenIsAccepted() {
        AdminToken rotating = new AdminToken(List.of("the-old-admin-token", "the-new-admin-token"));
        assertTrue(rotating.accepts("Bearer the-old-admin-token"));
        assertTrue(rotating.accepts("Bearer the-new-admin-token"));
        assertFalse(rotating.accepts("Bearer the-other-admin-token"));
    }
}
