package dev.gavel.core;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HyperLogLogTest {

    @Test
    void anEmptyTallyIsZero() {
        assertEquals(0, new HyperLogLog().estimate());
    }

    @Test
    void smallCountsAreExactAndRepeatsCountOnce() {
        HyperLogLog tally = new HyperLogLog();
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < 100; i++) {
                tally.add("viewer-" + i);
            }
        }
        assertEquals(100, tally.estimate());
    }

    @Test
    void largeCountsAreWithinFourStandardErrors() {
        HyperLogLog tally = new HyperLogLog();
        int distinct = 200_000;
        for (int i = 0; i < distinct; i++) {
            tally.add("anon-" + i);
        }
        double error = Math.abs(tally.estimate() - distinct) / (double) distinct;
        assertTrue(error < 4 * 0.0081, "error " + error);
    }

    @Test
    void stringsThatDifferInOneCharacterHashApart() {
        assertTrue(HyperLogLog.hash("alice") != HyperLogLog.hash("alicf"));
        assertTrue(HyperLogLog.hash("") != HyperLogLog.hash("a"));
    }
}
