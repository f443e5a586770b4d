package dev.gavel.server.viewers;

import dev.gavel.core.AuctionId;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The person a viewer connection counts as: a signed-in user, else a viewerId it gave, else the connection itself. */
class AdmittedTest {

    private static final AuctionId A = AuctionId.of("a");

    @Test
    void aSignedInViewerIsItsUserWhateverItsViewerId() {
        ViewerAdmission.Admitted admitted = new ViewerAdmission.Admitted(A, "tab-1", true, null, null, null)
                .signedInAs(new ViewerIdentity("user-42", "Ann"));
        assertEquals("u:user-42", admitted.personKey());
        assertEquals("u:user-42", admitted.resumingFrom(null).personKey());
    }

    @Test
    void anAnonymousViewerIsItsGivenViewerIdElseAPersonOfItsOwn() {
        assertEquals("v:tab-1", new ViewerAdmission.Admitted(A, "tab-1", true, null, null, null).personKey());
        assertNull(new ViewerAdmission.Admitted(A, "anon-0123", false, null, null, null).personKey(),
                "a made-up viewerId is no person: the connection counts alone");
    }
}
