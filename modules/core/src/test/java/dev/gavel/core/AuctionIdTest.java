package dev.gavel.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AuctionIdTest {

    @ParameterizedTest
    @ValueSource(strings = {"1", "123", "auction_42", "A-b_C-9", "x"})
    void takesIdsOfTheAlphabet(String id) {
        assertEquals(id, AuctionId.of(id).value());
    }

    @Test
    void takesSixtyFourCharactersButNotSixtyFive() {
        assertEquals(64, AuctionId.of("a".repeat(64)).value().length());
        assertThrows(IllegalArgumentException.class, () -> AuctionId.of("a".repeat(65)));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"a b", "a/b", "a.b", "é", "{a}", "a:b"})
    void refusesAnythingElse(String id) {
        assertThrows(IllegalArgumentException.class, () -> AuctionId.of(id));
    }

    @Test
    void readsTheSlug() {
        assertEquals(AuctionId.of("123"), AuctionId.fromSlug("auction-123"));
        assertEquals(AuctionId.of("a-b"), AuctionId.fromSlug("auction-a-b"));
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"123", "auction-", "auction", "Auction-1", "auction-1 2", "xauction-1"})
    void refusesBadSlugsWithAMessageForTheClient(String slug) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AuctionId.fromSlug(slug));
        assertTrue(e.getMessage().contains("slug"), e.getMessage());
    }
}
