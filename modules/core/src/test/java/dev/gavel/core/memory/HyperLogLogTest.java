package dev.gavel.core.memory;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

    @Test
    void aTallyOfAFewViewersIsSparseAndSmall() {
        HyperLogLog tally = new HyperLogLog();
        tally.add("only-viewer");
        assertFalse(tally.isDense());
        assertTrue(tally.retainedBytes() < 100, tally.retainedBytes() + " bytes");
        for (int i = 0; i < 500; i++) {
            tally.add("viewer-" + i);
        }
        assertFalse(tally.isDense());
        assertTrue(tally.retainedBytes() <= 100 + HyperLogLog.SPARSE_MAX * 4, tally.retainedBytes() + " bytes");
    }

    @Test
    void sparseAndDenseTalliesEstimateExactlyAsTheRegistersSay() {
        HyperLogLog tally = new HyperLogLog();
        byte[] registers = new byte[1 << 14];
        boolean sawSparse = false;
        boolean sawDense = false;
        for (int i = 1; i <= 30_000; i++) {
            String id = "v" + i;
            tally.add(id);
            long hash = HyperLogLog.hash(id);
            int index = (int) (hash >>> 50);
            byte rank = (byte) (Long.numberOfLeadingZeros((hash << 14) | (1L << 13)) + 1);
            registers[index] = (byte) Math.max(registers[index], rank);
            if (i % 97 == 0 || i == 30_000) {
                sawSparse |= !tally.isDense();
                sawDense |= tally.isDense();
                assertEquals(reference(registers), tally.estimate(), "after " + i + " ids");
            }
        }
        assertTrue(sawSparse && sawDense, "went from sparse to dense");
    }

    @Test
    void theOrderOfAdditionsAndRepeatsDoNotChangeTheTally() {
        HyperLogLog forward = new HyperLogLog();
        HyperLogLog backward = new HyperLogLog();
        int distinct = 3 * HyperLogLog.SPARSE_MAX;
        for (int i = 0; i < distinct; i++) {
            forward.add("id-" + i);
            forward.add("id-" + (i / 2));
        }
        for (int i = distinct - 1; i >= 0; i--) {
            backward.add("id-" + i);
        }
        assertTrue(forward.isDense() && backward.isDense());
        assertEquals(backward.estimate(), forward.estimate());
        double error = Math.abs(forward.estimate() - distinct) / (double) distinct;
        assertTrue(error < 4 * 0.0081, "error " + error);
    }

    @Test
    void estimatesAroundThePromotionStayWithinFourStandardErrors() {
        HyperLogLog tally = new HyperLogLog();
        for (int i = 1; i <= 4 * HyperLogLog.SPARSE_MAX; i++) {
            tally.add("near-" + i);
            double error = Math.abs(tally.estimate() - i) / (double) i;
            assertTrue(error < 4 * 0.0081 || Math.abs(tally.estimate() - i) <= 1, "after " + i + ": " + tally.estimate());
        }
    }

    /** The estimate of a dense register array, written out here as the HyperLogLog paper and Redis do. */
    private static long reference(byte[] registers) {
        int m = registers.length;
        double sum = 0;
        int zeros = 0;
        for (byte register : registers) {
            sum += Math.pow(2, -register);
            if (register == 0) {
                zeros++;
            }
        }
        double raw = 0.7213 / (1 + 1.079 / m) * m * m / sum;
        if (raw <= 2.5 * m && zeros > 0) {
            return Math.round(m * Math.log((double) m / zeros));
        }
        return Math.round(raw);
    }
}
