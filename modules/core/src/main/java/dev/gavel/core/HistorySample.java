package dev.gavel.core;

/**
 * One sample of an auction's audience history.
 *
 * @param timestampMillis the start of the sampling interval the sample stands for, in ms since the epoch
 * @param count           the auction's {@code current} count when the sample was taken
 */
public record HistorySample(long timestampMillis, long count) {
}
