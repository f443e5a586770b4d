package dev.gavel.core.audience;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/** Audience metrics that remember what they were told. */
final class RecordingMetrics implements AudienceMetrics {

    /** The publish time of each event a loop handed on, once per loop and event: the tests make them unique. */
    final List<Long> delivered = new CopyOnWriteArrayList<>();
    final AtomicInteger broadcasts = new AtomicInteger();
    final AtomicInteger gapsRepaired = new AtomicInteger();
    final AtomicInteger auctionReportFailures = new AtomicInteger();

    @Override
    public void auctionReportFailed() {
        auctionReportFailures.incrementAndGet();
    }
    final AtomicInteger gapsUnrecoverable = new AtomicInteger();

    @Override
    public void gapRepaired() {
        gapsRepaired.incrementAndGet();
    }

    @Override
    public void gapUnrecoverable() {
        gapsUnrecoverable.incrementAndGet();
    }

    @Override
    public void joined() {
    }

    @Override
    public void left(int viewers) {
    }

    @Override
    public void broadcast() {
        broadcasts.incrementAndGet();
    }

    @Override
    public void countsSent(int viewers) {
    }

    @Override
    public void eventDelivered(int viewers, long publishedAtMillis) {
        delivered.add(publishedAtMillis);
    }
}
