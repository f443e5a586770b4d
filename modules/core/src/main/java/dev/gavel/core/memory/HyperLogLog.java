package dev.gavel.core.memory;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Estimates how many distinct strings were added: 2^14 six-bit registers, the layout Redis uses for PFADD/PFCOUNT,
 * so both backends have the same standard error of about 0.81%. Small counts use linear counting and are exact in
 * practice. Not thread-safe.
 *
 * <p>Sparse until it is worth being dense: a tally keeps only the registers that are not zero, 4 bytes each,
 * sorted by register (a tally of one viewer costs a few dozen bytes), and turns into the dense 16 KiB array of
 * every register once it holds more than {@link #SPARSE_MAX} of them. Both forms hold the same registers, so they
 * give the same estimate.
 */
final class HyperLogLog {

    /** Registers kept sparse at most: 4 KiB of them, a quarter of the dense array. */
    static final int SPARSE_MAX = 1024;
    private static final int P = 14;
    private static final int M = 1 << P;
    private static final double ALPHA = 0.7213 / (1 + 1.079 / M);
    /** What the object and an array's header cost beyond their contents (a compressed-oops JVM). */
    private static final int OVERHEAD_BYTES = 24 + 16;

    /** While sparse: {@code register << 8 | rank}, sorted, in the first {@code sparseSize} slots. */
    private int[] sparse = new int[4];
    private int sparseSize;
    /** Null while sparse. */
    private byte[] registers;

    public void add(String value) {
        long hash = hash(value);
        int index = (int) (hash >>> (64 - P));
        // The rank of the first 1 bit in the remaining 50 bits; a sentinel bit bounds it.
        long rest = (hash << P) | (1L << (P - 1));
        byte rank = (byte) (Long.numberOfLeadingZeros(rest) + 1);
        if (registers != null) {
            if (rank > registers[index]) {
                registers[index] = rank;
            }
            return;
        }
        int at = Arrays.binarySearch(sparse, 0, sparseSize, index << 8);
        if (at < 0) {
            at = -at - 1;
        }
        if (at < sparseSize && sparse[at] >>> 8 == index) {
            if (rank > (sparse[at] & 0xff)) {
                sparse[at] = index << 8 | rank;
            }
            return;
        }
        if (sparseSize == SPARSE_MAX) {
            densify();
            registers[index] = rank;
            return;
        }
        if (sparseSize == sparse.length) {
            sparse = Arrays.copyOf(sparse, Math.min(SPARSE_MAX, sparse.length * 2));
        }
        System.arraycopy(sparse, at, sparse, at + 1, sparseSize - at);
        sparse[at] = index << 8 | rank;
        sparseSize++;
    }

    public long estimate() {
        double sum = 0;
        int zeros = 0;
        if (registers != null) {
            for (byte register : registers) {
                sum += 1.0 / (1L << register);
                if (register == 0) {
                    zeros++;
                }
            }
        } else {
            zeros = M - sparseSize;
            sum = zeros;
            for (int i = 0; i < sparseSize; i++) {
                sum += 1.0 / (1L << (sparse[i] & 0xff));
            }
        }
        double raw = ALPHA * M * M / sum;
        if (raw <= 2.5 * M && zeros > 0) {
            return Math.round(M * Math.log((double) M / zeros));
        }
        return Math.round(raw);
    }

    /** True once the tally holds every register (16 KiB). */
    boolean isDense() {
        return registers != null;
    }

    /** What the tally holds in memory, in bytes, roughly: its arrays and their headers. */
    public int retainedBytes() {
        return OVERHEAD_BYTES + (registers != null ? registers.length : sparse.length * Integer.BYTES);
    }

    private void densify() {
        registers = new byte[M];
        for (int i = 0; i < sparseSize; i++) {
            registers[sparse[i] >>> 8] = (byte) (sparse[i] & 0xff);
        }
        sparse = null;
        sparseSize = 0;
    }

    /** FNV-1a over the UTF-8 bytes, then the SplitMix64 finaliser to spread the bits evenly. */
    static long hash(String value) {
        long h = 0xcbf29ce484222325L;
        for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        h = (h ^ (h >>> 30)) * 0xbf58476d1ce4e5b9L;
        h = (h ^ (h >>> 27)) * 0x94d049bb133111ebL;
        return h ^ (h >>> 31);
    }
}
