package dev.gavel.server.viewers.socketio;

import dev.gavel.core.AuctionId;
import dev.gavel.core.EventOffset;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Socket.IO pids: any replica with the shared secret restores them; nobody else makes or moves one. */
class SessionPidsTest {

    private static final AuctionId A = AuctionId.of("a-1");
    private final SessionPids replicaA = new SessionPids("the-shared-admin-token");
    private final SessionPids replicaB = new SessionPids("the-shared-admin-token");

    @Test
    void anotherReplicaWithTheSameSecretRestoresThePidAndItsOffset() {
        String pid = replicaA.issue(A, new EventOffset("k3x", 42));
        assertEquals(new EventOffset("k3x", 42), replicaB.verify(pid, A).position());
        SessionPids.Claim none = replicaB.verify(replicaA.issue(A, null), A);
        assertNotNull(none);
        assertNull(none.position(), "a viewer that joined before the auction's first event");
    }

    @Test
    void aPidOfAnotherAuctionOrSecretOrAlteredIsRefused() {
        String pid = replicaA.issue(A, new EventOffset("k3x", 42));
        assertNull(replicaB.verify(pid, AuctionId.of("a-2")), "replayed into another auction");
        assertNull(new SessionPids("another-token-entirely").verify(pid, A), "made with another key");
        String[] parts = pid.split("\\.");
        String forged = java.util.Base64.getUrlEncoder().withoutPadding()
                .encodeToString("a-1 k3x-1".getBytes(java.nio.charset.StandardCharsets.UTF_8)) + "." + parts[1];
        assertNull(replicaB.verify(forged, A), "another offset under the same signature");
        for (String junk : new String[]{"", ".", "abc", "abc.def", "%%%.%%%", "x".repeat(300), parts[0]}) {
            assertNull(replicaB.verify(junk, A), junk);
        }
    }

    @Test
    void thePidDoesNotCarryTheSecret() {
        String pid = replicaA.issue(A, new EventOffset("k3x", 42));
        assertFalse(pid.contains("the-shared-admin-token"));
        assertFalse(new String(java.util.Base64.getUrlDecoder().decode(pid.split("\\.")[0])).contains("token"));
        assertTrue(pid.length() < 100, pid);
    }
}
