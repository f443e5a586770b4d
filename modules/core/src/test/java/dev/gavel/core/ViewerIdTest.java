package dev.gavel.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ViewerIdTest {

    @Test
    void aGivenValidIdIsKept() {
        assertEquals("browser_42-a", ViewerId.orRandom("browser_42-a"));
        assertEquals("a".repeat(64), ViewerId.orRandom("a".repeat(64)));
    }

    @Test
    void aConnectionWithoutAnIdGetsItsOwnRandomOne() {
        String one = ViewerId.orRandom(null);
        String other = ViewerId.orRandom(null);
        assertNotEquals(one, other);
        assertTrue(one.matches("[A-Za-z0-9_-]{1,64}"), one);
    }

    @Test
    void badIdsAreRefusedWithAMessageForTheClient() {
        for (String bad : new String[] {"", "a.b", "a b", "ä", "a".repeat(65), "x/y"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ViewerId.orRandom(bad), bad);
            assertTrue(e.getMessage().contains("viewerId"), e.getMessage());
        }
    }
}
