package dev.gavel.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Publishes bids through the admin API as the auction back end does, at a fixed rate with a bounded number of
 * requests in flight. Each body carries {@code "t"}: {@link System#nanoTime()} just before sending, which on
 * Linux is CLOCK_MONOTONIC and so comparable with the viewers' clock in the generator processes.
 */
final class Publisher {

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final String padding;

    Publisher(int payloadBytes) {
        this.padding = "x".repeat(Math.max(0, payloadBytes - 60));
    }

    record Published(int sent, int accepted, Map<Integer, Integer> statuses, long startNs, long endNs) {
    }

    /** Publishes {@code count} bids to {@code auction} at {@code rate} per second; returns when all were answered. */
    Published publish(int port, String auction, int count, double rate, int maxInFlight) {
        Semaphore inFlight = new Semaphore(maxInFlight);
        Map<Integer, Integer> statuses = new TreeMap<>();
        int[] accepted = new int[1];
        long start = System.nanoTime();
        URI uri = URI.create("http://127.0.0.1:" + port + "/api/v1/auctions/" + auction + "/bidding");
        CompletableFuture<?>[] all = new CompletableFuture<?>[count];
        for (int i = 0; i < count; i++) {
            long due = start + (long) (i * 1e9 / rate);
            long wait = due - System.nanoTime();
            if (wait > 0) {
                ServerProcess.sleep(wait / 1_000_000);
            }
            try {
                if (!inFlight.tryAcquire(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("publishing stalled: " + maxInFlight + " requests unanswered for 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            String body = "{\"t\":" + System.nanoTime() + ",\"seq\":" + i + ",\"name\":\"Bench Player\",\"price\":" + (100 + i)
                    + ",\"pad\":\"" + padding + "\"}";
            HttpRequest request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30))
                    .header("Authorization", "Bearer " + ServerProcess.ADMIN_TOKEN)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            all[i] = http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).handle((response, error) -> {
                int status = error != null ? -1 : response.statusCode();
                synchronized (statuses) {
                    statuses.merge(status, 1, Integer::sum);
                    if (status >= 200 && status < 300) {
                        accepted[0]++;
                    }
                }
                inFlight.release();
                return null;
            });
        }
        CompletableFuture.allOf(all).orTimeout(60, TimeUnit.SECONDS).exceptionally(e -> null).join();
        synchronized (statuses) {
            return new Published(count, accepted[0], new TreeMap<>(statuses), start, System.nanoTime());
        }
    }
}
