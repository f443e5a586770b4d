package dev.gavel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.HdrHistogram.Histogram;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * The generator JVMs of one run, seen from the coordinator: each holds at most {@code perWorker} viewers (one
 * process may hold 20,000 open files), and every command goes to all of them at once and waits for all replies.
 */
final class Workers implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final List<Worker> workers = new ArrayList<>();

    /** Starts enough workers for {@code viewers} viewers, at most {@code perWorker} each. */
    static Workers start(int viewers, int perWorker, Transport transport, boolean deflate, List<Integer> ports,
                         int sources, Path logDir) {
        int count = Math.max(1, (viewers + perWorker - 1) / perWorker);
        String targets = ports.stream().map(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
        Workers all = new Workers();
        try {
            for (int i = 0; i < count; i++) {
                Files.createDirectories(logDir);
                // Netty's leak detector samples one buffer in 128 and records a stack trace for it: 5% of a generator's
                // CPU during a fan-out (perf, 2026-12-07), a cost no real client pays. The GC log says what the
                // generator's own pauses were.
                List<String> command = new ArrayList<>(List.of(ServerProcess.javaBin("java"), "-Xms256m", "-Xmx1g",
                        "-XX:+UseParallelGC", "-XX:ParallelGCThreads=1", "-Dio.netty.leakDetection.level=disabled",
                        "-Xlog:gc:file=" + logDir.toAbsolutePath().resolve("worker-" + i + "-gc.log"), "-cp", ownClassPath(), Bench.class.getName(),
                        "worker", "--targets", targets, "--transport", transport.cliName, "--sources", String.valueOf(sources),
                        "--index-offset", String.valueOf(i), "--index-stride", String.valueOf(count)));
                if (!deflate) {
                    command.add("--no-deflate");
                }
                Process process = Processes.track(new ProcessBuilder(command)
                        .redirectError(logDir.resolve("worker-" + i + ".log").toFile()).start());
                all.workers.add(new Worker(process));
            }
            for (Worker worker : all.workers) {
                worker.reply(30_000);
            }
        } catch (IOException | RuntimeException e) {
            all.close();
            throw new IllegalStateException("could not start generator workers: " + e.getMessage(), e);
        }
        return all;
    }

    int size() {
        return workers.size();
    }

    List<Long> pids() {
        return workers.stream().map(w -> w.process.pid()).toList();
    }

    /** Sends {@code command} to every worker; returns their replies in worker order. */
    List<JsonNode> all(String command, long timeoutMs) {
        for (Worker worker : workers) {
            worker.send(command);
        }
        List<JsonNode> replies = new ArrayList<>();
        for (Worker worker : workers) {
            JsonNode reply = worker.reply(timeoutMs + 30_000);
            if (reply.has("error")) {
                throw new IllegalStateException("worker " + worker.process.pid() + " failed '" + command + "': " + reply.get("error"));
            }
            replies.add(reply);
        }
        return replies;
    }

    /** Sends each worker its own command ({@code commands.get(i)} to worker i); returns their replies in order. */
    List<JsonNode> each(List<String> commands, long timeoutMs) {
        for (int i = 0; i < workers.size(); i++) {
            workers.get(i).send(commands.get(i));
        }
        List<JsonNode> replies = new ArrayList<>();
        for (int i = 0; i < workers.size(); i++) {
            JsonNode reply = workers.get(i).reply(timeoutMs + 30_000);
            if (reply.has("error")) {
                throw new IllegalStateException("worker " + workers.get(i).process.pid() + " failed '"
                        + commands.get(i).substring(0, Math.min(80, commands.get(i).length())) + "': " + reply.get("error"));
            }
            replies.add(reply);
        }
        return replies;
    }

    /** Opens {@code total} viewers, split evenly over the workers, with {@code concurrency} connecting at once in all. */
    Opened open(int total, String auctions, int concurrency, long timeoutMs) {
        int n = workers.size();
        for (int i = 0; i < n; i++) {
            int share = total / n + (i < total % n ? 1 : 0);
            int parallel = Math.max(1, concurrency / n);
            workers.get(i).send("open " + share + " " + auctions + " " + parallel + " " + timeoutMs);
        }
        List<JsonNode> replies = new ArrayList<>();
        for (Worker worker : workers) {
            replies.add(worker.reply(timeoutMs + 30_000));
        }
        return new Opened(sum(replies, "opened"), sum(replies, "failed") + sum(replies, "pending"),
                min(replies, "firstStartNs"), max(replies, "lastOpenNs"), sum(replies, "deflateAccepted"));
    }

    record Opened(long opened, long failed, long firstStartNs, long lastOpenNs, long deflateAccepted) {
    }

    /** Merged statistics of every worker. */
    Stats stats() {
        List<JsonNode> replies = all("stats", 60_000);
        Histogram latency = new Histogram(Generator.LATENCY_MAX_MICROS, 3);
        Map<String, Long> closeCodes = new TreeMap<>();
        Map<String, Long> failures = new TreeMap<>();
        List<JsonNode> slow = new ArrayList<>();
        Map<String, Histogram> latencyByAuction = new TreeMap<>();
        Histogram connectTime = new Histogram(Generator.LATENCY_MAX_MICROS, 3);
        Map<String, Map<Long, Map<Integer, Long>>> lastDeliveries = new TreeMap<>();
        for (JsonNode reply : replies) {
            reply.path("lastDeliveries").fields().forEachRemaining(auction -> auction.getValue().fields().forEachRemaining(bid ->
                    bid.getValue().fields().forEachRemaining(port -> lastDeliveries
                            .computeIfAbsent(auction.getKey(), a -> new TreeMap<>())
                            .computeIfAbsent(Long.parseLong(bid.getKey()), t -> new TreeMap<>())
                            .merge(Integer.parseInt(port.getKey()), port.getValue().asLong(), Math::max))));
            latency.add(Generator.decode(reply.get("latency").asText()));
            reply.get("latencyByAuction").fields().forEachRemaining(e -> latencyByAuction
                    .computeIfAbsent(e.getKey(), a -> new Histogram(Generator.LATENCY_MAX_MICROS, 3))
                    .add(Generator.decode(e.getValue().asText())));
            connectTime.add(Generator.decode(reply.get("connectTime").asText()));
            reply.get("closeCodes").fields().forEachRemaining(e -> closeCodes.merge(e.getKey(), e.getValue().asLong(), Long::sum));
            reply.get("failures").fields().forEachRemaining(e -> failures.merge(e.getKey(), e.getValue().asLong(), Long::sum));
            reply.get("slow").elements().forEachRemaining(slow::add);
        }
        return new Stats(sum(replies, "viewers"), sum(replies, "open"), sum(replies, "failed"), sum(replies, "disconnects"),
                closeCodes, failures, sum(replies, "deflateAccepted"), sum(replies, "pings"), max(replies, "maxPingGapMs"),
                sum(replies, "deliveries"), sum(replies, "unstamped"), sum(replies, "countUpdates"),
                sum(replies, "frameErrors"), latency, slow, sum(replies, "cpuMs"), sum(replies, "rssKb"),
                latencyByAuction, connectTime, sum(replies, "refused"), sum(replies, "retries"), lastDeliveries);
    }

    record Stats(long viewers, long open, long failed, long disconnects, Map<String, Long> closeCodes,
                 Map<String, Long> failures, long deflateAccepted, long pings, long maxPingGapMs, long deliveries,
                 long unstamped, long countUpdates, long frameErrors, Histogram latency, List<JsonNode> slow,
                 long generatorCpuMs, long generatorRssKb, Map<String, Histogram> latencyByAuction,
                 Histogram connectTime, long refused, long retries,
                 Map<String, Map<Long, Map<Integer, Long>>> lastDeliveries) {

        /**
         * Per bid of {@code auction} (by publish stamp): when each replica's last viewer got it, in microseconds after
         * the publish, over every generator.
         */
        Map<Long, Map<Integer, Long>> lastDeliveries(String auction) {
            return lastDeliveries.getOrDefault(auction, Map.of());
        }
    }

    static long sum(List<JsonNode> replies, String field) {
        return replies.stream().mapToLong(r -> r.path(field).asLong()).sum();
    }

    static long max(List<JsonNode> replies, String field) {
        return replies.stream().mapToLong(r -> r.path(field).asLong()).max().orElse(0);
    }

    static long min0(List<JsonNode> replies, String field) {
        return replies.stream().mapToLong(r -> r.path(field).asLong()).min().orElse(0);
    }

    static long min(List<JsonNode> replies, String field) {
        return replies.stream().mapToLong(r -> r.path(field).asLong()).filter(v -> v > 0).min().orElse(0);
    }

    /** Closes every viewer (they close as browsers do, with 1000) and ends the workers. */
    @Override
    public void close() {
        for (Worker worker : workers) {
            if (worker.process.isAlive()) {
                worker.send("close 10000");
            }
        }
        for (Worker worker : workers) {
            try {
                if (worker.process.isAlive()) {
                    worker.reply(20_000);
                }
            } catch (RuntimeException ignored) {
                // stopped below either way
            }
            Processes.stop(worker.process, 5_000);
        }
    }

    private static String ownClassPath() {
        try {
            Path location = Path.of(Bench.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            return Files.isRegularFile(location) ? location.toString() : System.getProperty("java.class.path");
        } catch (URISyntaxException e) {
            return System.getProperty("java.class.path");
        }
    }

    /** One worker process and the lines it answers with. */
    private static final class Worker {
        final Process process;
        final BufferedWriter in;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        Worker(Process process) {
            this.process = process;
            this.in = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
            Thread reader = new Thread(() -> {
                try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    String line;
                    while ((line = out.readLine()) != null) {
                        lines.add(line);
                    }
                } catch (IOException ignored) {
                    // the worker ended
                }
            }, "worker-" + process.pid());
            reader.setDaemon(true);
            reader.start();
        }

        void send(String command) {
            try {
                in.write(command);
                in.newLine();
                in.flush();
            } catch (IOException e) {
                throw new IllegalStateException("worker " + process.pid() + " is gone: " + e.getMessage(), e);
            }
        }

        JsonNode reply(long timeoutMs) {
            try {
                String line = lines.poll(timeoutMs, TimeUnit.MILLISECONDS);
                if (line == null) {
                    throw new IllegalStateException("worker " + process.pid() + " did not answer within " + timeoutMs + " ms"
                            + (process.isAlive() ? "" : " (exited with " + process.exitValue() + ")"));
                }
                return JSON.readTree(line);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
