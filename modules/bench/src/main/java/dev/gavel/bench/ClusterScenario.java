package dev.gavel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.HdrHistogram.Histogram;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Many replicas on one Redis (or a Redis Cluster) with a realistic audience: N viewers over many auctions, one
 * holding a share of them and the rest Zipf-distributed, over a mix of transports, joining at a set rate (a
 * refused viewer tries again as socket.io-client does), then held with churn and bids. The generator knows the
 * truth (which viewers are open), so after every change it checks that every replica's API and every viewer show
 * the exact count of the sampled auctions, and how long that took. Measured per phase (join, rest, bids alone,
 * hold with churn; the warm-up bids before the bids alone apart): Redis commands/s and CPU (per shard), CPU per
 * replica, the generators' share of the machine; fan-out latency per auction size, and per bid when it was done and
 * how far apart the replicas finished it; refusals, retries and time to connect; disconnects nobody asked for.
 */
final class ClusterScenario implements Scenario {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final String HOT = "hot";

    @Override
    public String name() {
        return "cluster";
    }

    @Override
    public String description() {
        return "R replicas on one Redis or a Redis Cluster, N viewers over skewed auctions and mixed transports, with churn "
                + "and bids: exact counts on every replica, fan-out by auction size, Redis work at rest and under churn";
    }

    @Override
    public List<Options.Spec> options() {
        return List.of(
                new Options.Spec("replicas", "6", "Gavel nodes (viewers round-robin over them, as a balancer does)"),
                new Options.Spec("viewers", "100000", "viewers held (several generator JVMs: --per-worker each)"),
                new Options.Spec("auctions", "1000", "auctions: one hot one, the rest Zipf-distributed"),
                new Options.Spec("hot-share", "0.3", "share of the viewers in the hot auction"),
                new Options.Spec("zipf", "1.0", "Zipf exponent of the other auctions' sizes"),
                new Options.Spec("ws-share", "0.1", "share of viewers on plain WebSocket /ws"),
                new Options.Spec("polling-share", "0.1", "share of viewers starting Socket.IO with long-polling (the rest: Socket.IO over WebSocket)"),
                new Options.Spec("join-rate", "500", "new viewers per second over all generators"),
                new Options.Spec("concurrency", "1000", "connections being opened at once over all generators"),
                new Options.Spec("retries", "30", "times a viewer refused with 503 tries again (back-off 1 s doubling to 5 s, ±50%)"),
                new Options.Spec("rest-s", "30", "seconds at rest after the join (heartbeats only)"),
                new Options.Spec("warmup-s", "10", "seconds of bids before the measured ones (reported apart, as warmup*: a replica's first fan-outs to thousands run while the JIT compiles them)"),
                new Options.Spec("bids-s", "30", "seconds of bids alone (no churn) after the rest and the warm-up"),
                new Options.Spec("hold-s", "600", "seconds held with churn and bids"),
                new Options.Spec("churn", "1.0", "percent of the viewers leaving (and as many new joining) per minute"),
                new Options.Spec("churn-every-s", "10", "seconds between churn rounds (each round checks the counts)"),
                new Options.Spec("bid-rate", "3", "bids per second, round-robin over --bid-ranks, each to a replica in turn"),
                new Options.Spec("bid-ranks", "0,1,2,10,100", "auctions (by size rank, 0 = the hot one) that bids go to"),
                new Options.Spec("sample-ranks", "0,1,2,3,5,10,20,50,100,200,500,999", "auctions (by rank) whose counts are checked"),
                new Options.Spec("count-bound-ms", "3000", "every replica must show the true count within this after a change"),
                new Options.Spec("payload-bytes", "256", "size of a bid's JSON body"),
                new Options.Spec("redis", "single", "single | cluster | both: one Redis, a Redis Cluster of --shards masters, or one after the other"),
                new Options.Spec("shards", "3", "masters of the Redis Cluster"),
                new Options.Spec("seed", "1", "seed of the churn's choices"));
    }

    @Override
    public List<Target> targets(Context context) {
        if (!context.options.string("target").equals("gavel")) {
            throw new Options.UsageException("cluster runs Gavel only (--target gavel): the peer has no shared count");
        }
        Target single = new Target("redis-1", true, Map.of());
        Target cluster = new Target("cluster-" + context.options.integer("shards"), true, Map.of());
        return switch (context.options.string("redis")) {
            case "single" -> List.of(single);
            case "cluster" -> List.of(cluster);
            case "both" -> List.of(single, cluster);
            default -> throw new Options.UsageException("--redis is single, cluster or both");
        };
    }

    @Override
    public Result run(Context context, Target target) throws Exception {
        Plan plan = Plan.of(context.options);
        Options o = context.options;
        Result result = new Result(name(), target.label());
        int replicas = o.integer("replicas");
        boolean onCluster = target.label().startsWith("cluster");
        try (Deployment deployment = onCluster
                ? Deployment.startOnCluster(context, target, replicas, o.integer("shards"), target.env())
                : Deployment.start(context, target, replicas, target.env());
             Workers workers = context.workers(plan.viewers, deployment)) {
            new Run(context, plan, deployment, workers, result).run();
        }
        return result;
    }

    /** Who watches what: the expected size of every auction, and how viewers split over transports and workers. */
    record Plan(int viewers, List<String> auctions, int[] sizes, double wsShare, double pollingShare, List<Integer> sampleRanks,
                List<Integer> bidRanks) {

        static Plan of(Options o) {
            int viewers = o.integer("viewers");
            int auctions = o.integer("auctions");
            if (viewers < 1 || auctions < 1) {
                throw new Options.UsageException("cluster: --viewers and --auctions must be at least 1");
            }
            double ws = o.decimal("ws-share");
            double polling = o.decimal("polling-share");
            if (ws < 0 || polling < 0 || ws + polling > 1) {
                throw new Options.UsageException("cluster: --ws-share and --polling-share are shares adding up to at most 1");
            }
            List<String> names = new ArrayList<>();
            names.add(HOT);
            for (int i = 1; i < auctions; i++) {
                names.add("lot-" + i);
            }
            return new Plan(viewers, names, sizes(viewers, auctions, o.decimal("hot-share"), o.decimal("zipf")), ws, polling,
                    ranks(o.string("sample-ranks"), auctions), ranks(o.string("bid-ranks"), auctions));
        }

        static List<Integer> ranks(String csv, int auctions) {
            List<Integer> ranks = new ArrayList<>();
            for (String part : csv.split(",")) {
                if (!part.isBlank()) {
                    int rank = Integer.parseInt(part.trim());
                    if (rank < auctions && !ranks.contains(rank)) {
                        ranks.add(rank);
                    }
                }
            }
            return ranks;
        }

        /** The hot auction's share, then the rest by Zipf weights 1/k^s, rounded so that they add up exactly. */
        static int[] sizes(int viewers, int auctions, double hotShare, double zipf) {
            int[] sizes = new int[auctions];
            int hot = auctions == 1 ? viewers : (int) Math.round(viewers * hotShare);
            sizes[0] = hot;
            double[] weights = new double[auctions];
            double total = 0;
            for (int k = 1; k < auctions; k++) {
                weights[k] = 1 / Math.pow(k, zipf);
                total += weights[k];
            }
            int rest = viewers - hot;
            int assigned = 0;
            double[] remainders = new double[auctions];
            for (int k = 1; k < auctions; k++) {
                double exact = rest * weights[k] / total;
                sizes[k] = (int) Math.floor(exact);
                remainders[k] = exact - sizes[k];
                assigned += sizes[k];
            }
            List<Integer> byRemainder = new ArrayList<>();
            for (int k = 1; k < auctions; k++) {
                byRemainder.add(k);
            }
            byRemainder.sort((a, b) -> Double.compare(remainders[b], remainders[a]));
            for (int i = 0; assigned < rest; i++, assigned++) {
                sizes[byRemainder.get(i % byRemainder.size())]++;
            }
            return sizes;
        }

        String name(int rank) {
            return auctions.get(rank);
        }

        /**
         * Each worker's {@code open-plan}: {@code counts[a]} viewers of auction a, split over the transports by their
         * shares (rounded cumulatively, so the shares hold overall) and evenly over the workers.
         */
        List<String> workerPlans(int[] counts, int workers) {
            List<StringBuilder> plans = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                plans.add(new StringBuilder());
            }
            double wsAcc = 0;
            double pollingAcc = 0;
            long wsDone = 0;
            long pollingDone = 0;
            int rotate = 0;
            for (int a = 0; a < counts.length; a++) {
                int c = counts[a];
                if (c == 0) {
                    continue;
                }
                wsAcc += c * wsShare;
                pollingAcc += c * pollingShare;
                int ws = (int) (Math.round(wsAcc) - wsDone);
                int polling = (int) Math.min(c - ws, Math.round(pollingAcc) - pollingDone);
                wsDone += ws;
                pollingDone += polling;
                int[] byTransport = {c - ws - polling, ws, polling};
                String[] transports = {Transport.SIO_WS.cliName, Transport.WS.cliName, Transport.SIO_POLLING.cliName};
                for (int t = 0; t < 3; t++) {
                    int n = byTransport[t];
                    for (int w = 0; w < workers; w++) {
                        int share = n / workers + (Math.floorMod(w - rotate, workers) < n % workers ? 1 : 0);
                        if (share > 0) {
                            plans.get(w).append(auctions.get(a)).append(':').append(transports[t]).append(':').append(share).append(',');
                        }
                    }
                    rotate = (rotate + n % workers) % workers;
                }
            }
            return plans.stream().map(StringBuilder::toString).toList();
        }

        /** {@code n} new viewers drawn from the auctions' sizes (churn's joins). */
        int[] draw(int n, Random random) {
            long[] cumulative = new long[sizes.length];
            long sum = 0;
            for (int i = 0; i < sizes.length; i++) {
                sum += sizes[i];
                cumulative[i] = sum;
            }
            int[] counts = new int[sizes.length];
            for (int i = 0; i < n; i++) {
                long pick = (long) (random.nextDouble() * sum);
                int index = java.util.Arrays.binarySearch(cumulative, pick + 1);
                counts[index >= 0 ? index : -index - 1]++;
            }
            return counts;
        }
    }

    /** One run against one deployment. */
    private static final class Run {
        final Context context;
        final Options o;
        final Plan plan;
        final Deployment deployment;
        final Workers workers;
        final Result result;
        final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(5)).build();
        final List<String> sampled = new ArrayList<>();
        final List<Long> checkMillis = new ArrayList<>();
        final List<String> inexact = new ArrayList<>();
        int checks;
        int checksExact;
        int checksWithinBound;
        /** Count reads the API answered 503 (it could not read the count from Redis in time). */
        long apiRefusals;

        Run(Context context, Plan plan, Deployment deployment, Workers workers, Result result) {
            this.context = context;
            this.o = context.options;
            this.plan = plan;
            this.deployment = deployment;
            this.workers = workers;
            this.result = result;
            plan.sampleRanks.forEach(rank -> sampled.add(plan.name(rank)));
        }

        void run() throws Exception {
            int w = workers.size();
            result.put("replicas", deployment.servers.size()).put("redisProcesses", deployment.redisProcesses().size())
                    .put("viewers", plan.viewers).put("auctions", plan.auctions.size()).put("generatorProcesses", w)
                    .put("hotAuctionViewers", plan.sizes[0]);
            result.note("replica JVM options: -XX:+ExitOnOutOfMemoryError " + String.join(" ", context.serverJvmOptions())
                    + " (ServerProcess.gavel; the README's command)");
            ServerProcess.sleep(1000);

            // ---- join
            phase("join: %d viewers at %s/s", plan.viewers, o.string("join-rate"));
            Meter join = Meter.start(deployment, workers);
            long joinTimeoutMs = Math.max(600_000, (long) (plan.viewers / Math.max(1, o.decimal("join-rate")) * 3000));
            List<JsonNode> opened = workers.each(openCommands(plan.workerPlans(plan.sizes, w), joinTimeoutMs), joinTimeoutMs);
            join.finish(result, "join");
            Workers.Stats afterJoin = workers.stats();
            long openedCount = Workers.sum(opened, "opened");
            long refused = Workers.sum(opened, "refused");
            long failed = Workers.sum(opened, "failed") + Workers.sum(opened, "pending");
            long attempts = openedCount + failed + Workers.sum(opened, "retries");
            double joinSeconds = (Workers.max(opened, "lastOpenNs") - Workers.min(opened, "firstStartNs")) / 1e9;
            result.put("opened", openedCount).put("failedToOpen", failed).put("attempts", attempts)
                    .put("refused503", refused).put("retries", Workers.sum(opened, "retries"))
                    .put("refusedShare", attempts == 0 ? 0 : (double) refused / attempts)
                    .put("joinSeconds", joinSeconds).put("joinedPerSecond", joinSeconds > 0 ? openedCount / joinSeconds : 0)
                    .put("deflateAccepted", Workers.sum(opened, "deflateAccepted"));
            result.latency("connectTime", afterJoin.connectTime());
            if (!afterJoin.failures().isEmpty()) {
                result.note("join failures: " + afterJoin.failures());
            }
            checkCounts("after the join");
            perReplica("AfterJoin");

            // ---- rest
            phase("rest: %d s", o.number("rest-s"));
            Meter rest = Meter.start(deployment, workers);
            ServerProcess.sleep(o.number("rest-s") * 1000);
            rest.finish(result, "rest");

            // ---- warm-up: the same bids, measured apart; every viewer has them before the measured ones begin
            if (o.number("warmup-s") > 0) {
                phase("warm-up bids: %d s", o.number("warmup-s"));
                workers.all("reset", 10_000);
                Map<String, Long> warmup = bidsFor(o.number("warmup-s"));
                delivered(warmup);
                result.put("warmupBids", warmup.values().stream().mapToLong(Long::longValue).sum());
                fanout("warmup", workers.stats());
            }

            // ---- bids alone
            phase("bids alone: %d s", o.number("bids-s"));
            workers.all("reset", 10_000);
            Meter bids = Meter.start(deployment, workers);
            Map<String, Long> bidsAlone = bidsFor(o.number("bids-s"));
            JsonNode bidsDelivered = delivered(bidsAlone);
            bids.finish(result, "bids");
            Workers.Stats bidStats = workers.stats();
            result.put("bidsBids", bidsAlone.values().stream().mapToLong(Long::longValue).sum())
                    .put("bidsDeliveries", bidStats.deliveries())
                    .put("bidsCountUpdatesDelivered", bidStats.countUpdates())
                    .put("bidsViewersWithEveryBid", bidsDelivered.get("complete").asLong())
                    .put("bidsViewersExpectingBids", bidsDelivered.get("of").asLong());
            fanout("bids", bidStats);

            // ---- hold: churn and bids
            phase("hold with churn and bids: %d s", o.number("hold-s"));
            workers.all("reset", 10_000);
            Meter hold = Meter.start(deployment, workers);
            long holdMs = o.number("hold-s") * 1000;
            long everyMs = Math.max(1000, o.number("churn-every-s") * 1000);
            int perRound = (int) Math.round(plan.viewers * o.decimal("churn") / 100 * everyMs / 60_000.0);
            Random random = new Random(o.number("seed"));
            long churned = 0;
            long churnRefused = 0;
            int rounds = 0;
            Map<String, Long> holdBids;
            long holdStart = System.nanoTime();
            try (BidLoop loop = bidLoop()) {
                long endAt = holdStart + holdMs * 1_000_000;
                while (true) {
                    // a round that overran (a slow check) is followed by the next at once; the hold ends on time
                    long nextRound = holdStart + (rounds + 1) * everyMs * 1_000_000;
                    if (perRound == 0 || nextRound >= endAt) {
                        sleepUntil(endAt);
                        break;
                    }
                    sleepUntil(nextRound);
                    if (System.nanoTime() >= endAt) {
                        break;
                    }
                    rounds++;
                    List<String> close = new ArrayList<>();
                    for (int i = 0; i < w; i++) {
                        close.add("close-some " + (perRound / w + (i < perRound % w ? 1 : 0)) + " 30000");
                    }
                    workers.each(close, 30_000);
                    List<JsonNode> joined = workers.each(openCommands(plan.workerPlans(plan.draw(perRound, random), w), 120_000), 120_000);
                    churned += Workers.sum(joined, "opened");
                    churnRefused += Workers.sum(joined, "refused");
                    checkCounts("after churn round " + rounds);
                }
                holdBids = loop.stop();
            }
            JsonNode holdDelivered = delivered(holdBids);
            hold.finish(result, "hold");
            Workers.Stats holdStats = workers.stats();
            result.put("churnRounds", rounds).put("churnPerRound", perRound).put("churnJoined", churned)
                    .put("churnRefused503", churnRefused)
                    .put("holdBids", holdBids.values().stream().mapToLong(Long::longValue).sum())
                    .put("holdDeliveries", holdStats.deliveries())
                    .put("holdViewersWithEveryBid", holdDelivered.get("complete").asLong())
                    .put("holdViewersExpectingBids", holdDelivered.get("of").asLong())
                    .put("holdCountUpdatesDelivered", holdStats.countUpdates());
            fanout("hold", holdStats);
            perReplica("End");

            // ---- the verdict
            result.put("countChecks", checks).put("countChecksExact", checksExact).put("countChecksExactWithinBound", checksWithinBound)
                    .put("countBoundMs", o.number("count-bound-ms")).put("countReadsRefused503", apiRefusals);
            if (!checkMillis.isEmpty()) {
                List<Long> sorted = new ArrayList<>(checkMillis);
                sorted.sort(null);
                result.put("timeToExactP50Ms", sorted.get(sorted.size() / 2)).put("timeToExactMaxMs", sorted.get(sorted.size() - 1));
            }
            result.put("stillOpen", holdStats.open()).put("unexpectedDisconnects", holdStats.disconnects())
                    .put("frameErrors", holdStats.frameErrors());
            result.latency("connectTimeAll", holdStats.connectTime());
            result.note("close codes (the churn's own closes included, seen as 1006: a tab closing does not wait for the answer): "
                    + holdStats.closeCodes());
            if (!holdStats.failures().isEmpty()) {
                result.note("failures: " + holdStats.failures());
            }
            inexact.forEach(result::note);
        }

        static void sleepUntil(long nanoTime) {
            long wait = nanoTime - System.nanoTime();
            if (wait > 0) {
                ServerProcess.sleep(wait / 1_000_000);
            }
        }

        List<String> openCommands(List<String> plans, long timeoutMs) {
            int w = plans.size();
            double rate = o.decimal("join-rate") / w;
            int concurrency = Math.max(1, o.integer("concurrency") / w);
            return plans.stream().map(p -> "open-plan " + concurrency + " " + rate + " " + o.integer("retries") + " " + timeoutMs
                    + " " + (p.isEmpty() ? "," : p)).toList();
        }

        /** A line on the console as a phase begins: a run takes many minutes, and tools may want to act on a phase. */
        static void phase(String format, Object... args) {
            System.out.printf("  %tT %s%n", System.currentTimeMillis(), String.format(format, args));
        }

        List<String> bidAuctions() {
            return plan.bidRanks.stream().map(plan::name).toList();
        }

        /** Bids at {@code --bid-rate} to the bid auctions, round-robin over the replicas, until stopped. */
        BidLoop bidLoop() {
            return new BidLoop(deployment.ports(), bidAuctions(), o.decimal("bid-rate"), o.integer("payload-bytes"));
        }

        /** Bids for {@code seconds}, nothing else; the accepted bids per auction. */
        Map<String, Long> bidsFor(long seconds) throws InterruptedException {
            try (BidLoop loop = bidLoop()) {
                ServerProcess.sleep(seconds * 1000);
                return loop.stop();
            }
        }

        /** Waits (up to 60 s) until every viewer open since the reset got every bid its auction was sent since. */
        JsonNode delivered(Map<String, Long> accepted) {
            StringBuilder spec = new StringBuilder();
            accepted.forEach((auction, n) -> spec.append(spec.isEmpty() ? "" : ",").append(auction).append('=').append(n));
            if (spec.isEmpty()) {
                return JSON.createObjectNode().put("of", 0).put("complete", 0);
            }
            List<JsonNode> replies = workers.all("delivered " + spec + " 60000", 60_000);
            return JSON.createObjectNode().put("of", Workers.sum(replies, "of")).put("complete", Workers.sum(replies, "complete"));
        }

        /** Publish-to-delivery latency per bid auction, named by the auction's size rank and size. */
        void fanout(String phase, Workers.Stats stats) throws Exception {
            Map<String, Integer> truth = truth(bidAuctions());
            for (int rank : plan.bidRanks) {
                String auction = plan.name(rank);
                Histogram h = stats.latencyByAuction().get(auction);
                String prefix = phase + "FanoutRank" + rank;
                result.put(prefix + "Viewers", truth.getOrDefault(auction, 0));
                if (h != null) {
                    result.latency(prefix, h);
                }
                bidEnds(prefix, stats.lastDeliveries(auction));
            }
            result.latency(phase + "FanoutAll", stats.latency());
        }

        /**
         * When each bid was done: its last delivery anywhere ({@code BidDone}: p50 and max over the bids), and how far
         * apart the replicas finished it ({@code ReplicaSpread}: the last replica's last delivery less the first
         * replica's). A small spread with a late finish is the whole machine busy; a large one is one replica behind.
         */
        void bidEnds(String prefix, Map<Long, Map<Integer, Long>> perBid) {
            if (perBid.isEmpty()) {
                return;
            }
            long[] done = perBid.values().stream().mapToLong(byPort -> Collections.max(byPort.values())).sorted().toArray();
            long[] spread = perBid.values().stream()
                    .mapToLong(byPort -> Collections.max(byPort.values()) - Collections.min(byPort.values())).sorted().toArray();
            result.put(prefix + "BidDoneP50Ms", done[done.length / 2] / 1000.0)
                    .put(prefix + "BidDoneMaxMs", done[done.length - 1] / 1000.0)
                    .put(prefix + "ReplicaSpreadP50Ms", spread[spread.length / 2] / 1000.0)
                    .put(prefix + "ReplicaSpreadMaxMs", spread[spread.length - 1] / 1000.0);
        }

        /** The open viewers of each auction, summed over the generators. */
        Map<String, Integer> truth(List<String> auctions) {
            return tally(auctions).truth;
        }

        record Tally(Map<String, Integer> truth, Map<String, int[]> shown, long open) {
        }

        Tally tally(List<String> auctions) {
            List<JsonNode> replies = workers.all("tally " + String.join(",", auctions), 30_000);
            Map<String, Integer> truth = new TreeMap<>();
            Map<String, int[]> shown = new TreeMap<>();
            for (JsonNode reply : replies) {
                reply.get("auctions").fields().forEachRemaining(e -> {
                    int open = e.getValue().get("open").asInt();
                    truth.merge(e.getKey(), open, Integer::sum);
                    if (open > 0) {
                        int[] s = shown.computeIfAbsent(e.getKey(), a -> new int[] {Integer.MAX_VALUE, Integer.MIN_VALUE});
                        s[0] = Math.min(s[0], e.getValue().get("minCurrent").asInt());
                        s[1] = Math.max(s[1], e.getValue().get("maxCurrent").asInt());
                    }
                });
            }
            return new Tally(truth, shown, Workers.sum(replies, "open"));
        }

        /**
         * Every replica's API and every viewer of the sampled auctions must show the true count: polls until they
         * do (up to ten times the bound, at least 30 s) and records how long that took.
         */
        void checkCounts(String when) throws Exception {
            long bound = o.number("count-bound-ms");
            long start = System.nanoTime();
            long giveUp = start + Math.max(10_000, bound * 3) * 1_000_000;
            String atBound = null;
            // (auction, port) pairs whose API has not shown the truth yet: once it has, it is not asked again (the
            // checks' own reads must not be the replicas' and Redis's main work)
            Map<String, List<Integer>> pending = new LinkedHashMap<>();
            sampled.forEach(auction -> pending.put(auction, new ArrayList<>(deployment.ports())));
            while (true) {
                Tally tally = tally(sampled);
                List<String> wrong = new ArrayList<>();
                Map<String, Map<Integer, Long>> shownByApi = apiCounts(pending);
                for (String auction : sampled) {
                    int truth = tally.truth.getOrDefault(auction, 0);
                    shownByApi.get(auction).forEach((port, current) -> {
                        if (current == -503) {
                            apiRefusals++;
                        }
                        if (current != truth) {
                            wrong.add(auction + " on :" + port + " API " + (current == -503 ? "503" : current) + " (true " + truth + ")");
                        } else {
                            pending.get(auction).remove(port);
                        }
                    });
                    int[] shown = tally.shown.get(auction);
                    if (shown != null && (shown[0] != truth || shown[1] != truth)) {
                        wrong.add(auction + " viewers shown " + shown[0] + ".." + shown[1] + " (true " + truth + ")");
                    }
                }
                long elapsedMs = (System.nanoTime() - start) / 1_000_000;
                if (wrong.isEmpty()) {
                    checks++;
                    checksExact++;
                    checkMillis.add(elapsedMs);
                    if (elapsedMs <= bound) {
                        checksWithinBound++;
                    } else {
                        inexact.add(when + ": exact only after " + elapsedMs + " ms; at the bound: " + atBound);
                    }
                    return;
                }
                if (elapsedMs > bound && atBound == null) {
                    atBound = wrong.size() + " wrong, e.g. " + wrong.subList(0, Math.min(5, wrong.size()));
                }
                if (System.nanoTime() > giveUp) {
                    checks++;
                    inexact.add(when + ": not exact within " + (giveUp - start) / 1_000_000 + " ms: " + wrong.size()
                            + " wrong, e.g. " + wrong.subList(0, Math.min(5, wrong.size())));
                    return;
                }
                ServerProcess.sleep(250);
            }
        }

        /** {@code GET /api/v1/auctions/{id}/viewer-count} of every sampled auction on every replica, at once. */
        Map<String, Map<Integer, Long>> apiCounts(Map<String, List<Integer>> asking) {
            Map<String, Map<Integer, CompletableFuture<Long>>> pending = new LinkedHashMap<>();
            for (String auction : sampled) {
                Map<Integer, CompletableFuture<Long>> byPort = new LinkedHashMap<>();
                for (int port : asking.get(auction)) {
                    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v1/auctions/"
                            + auction + "/viewer-count")).timeout(Duration.ofSeconds(10)).build();
                    byPort.put(port, http.sendAsync(request, HttpResponse.BodyHandlers.ofString()).handle((response, error) -> {
                        if (error != null) {
                            return -1L;
                        }
                        if (response.statusCode() != 200) {
                            return (long) -response.statusCode();
                        }
                        try {
                            return JSON.readTree(response.body()).get("current").asLong();
                        } catch (Exception e) {
                            return -1L;
                        }
                    }));
                }
                pending.put(auction, byPort);
            }
            Map<String, Map<Integer, Long>> counts = new LinkedHashMap<>();
            pending.forEach((auction, byPort) -> {
                Map<Integer, Long> values = new LinkedHashMap<>();
                byPort.forEach((port, future) -> values.put(port, future.join()));
                counts.put(auction, values);
            });
            return counts;
        }

        void perReplica(String when) {
            List<Long> rss = deployment.servers.stream().map(ServerProcess::rssKb).toList();
            result.put("rssKbPerReplica" + when, rss.toString())
                    .put("rssKbTotal" + when, rss.stream().mapToLong(Long::longValue).sum());
        }
    }

    /** Bids at a fixed rate, round-robin over auctions and replicas, until stopped; counts the accepted ones. */
    private static final class BidLoop implements AutoCloseable {
        private final Thread thread;
        private final Map<String, Long> accepted = new TreeMap<>();
        private final Map<Integer, Integer> statuses = new TreeMap<>();
        /** Counted down by {@link #stop}: ends the wait for the next bid, never a bid being published. */
        private final CountDownLatch stopped = new CountDownLatch(1);

        BidLoop(List<Integer> ports, List<String> auctions, double rate, int payloadBytes) {
            Publisher publisher = new Publisher(payloadBytes);
            auctions.forEach(a -> accepted.put(a, 0L));
            thread = new Thread(() -> {
                long start = System.nanoTime();
                for (long i = 0; rate > 0 && !auctions.isEmpty(); i++) {
                    long wait = start + (long) (i * 1e9 / rate) - System.nanoTime();
                    try {
                        if (stopped.await(Math.max(0, wait), TimeUnit.NANOSECONDS)) {
                            return;
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                    String auction = auctions.get((int) (i % auctions.size()));
                    Publisher.Published published = publisher.publish(ports.get((int) (i % ports.size())), auction, 1, 1000, 1);
                    synchronized (accepted) {
                        accepted.merge(auction, (long) published.accepted(), Long::sum);
                        published.statuses().forEach((status, n) -> statuses.merge(status, n, Integer::sum));
                    }
                }
            }, "bids");
            thread.setDaemon(true);
            thread.start();
        }

        /** Stops publishing, waits for the bid in flight; the accepted bids per auction. */
        Map<String, Long> stop() throws InterruptedException {
            stopped.countDown();
            thread.join(70_000);
            synchronized (accepted) {
                return new TreeMap<>(accepted);
            }
        }

        @Override
        public void close() throws InterruptedException {
            stop();
        }
    }

    /**
     * The cost of one phase: commands and CPU of each Redis process (each shard), CPU of each replica, and of the
     * generators and the whole machine, so that what the generators used is said next to what Gavel used.
     */
    private record Meter(Deployment deployment, List<Long> generatorPids, long[] commands, Map<String, Long> calls,
                         long[] redisCpu, long[] replicaCpu, long generatorCpu, long machine, long startNs) {

        static Meter start(Deployment deployment, Workers workers) {
            List<Long> pids = workers.pids();
            return new Meter(deployment, pids, deployment.redisCommands(), deployment.redisCommandCalls(), redisCpu(deployment),
                    replicaCpu(deployment), generatorCpu(pids), ProcStats.machineBusyMillis(), System.nanoTime());
        }

        static long[] redisCpu(Deployment deployment) {
            return deployment.redisProcesses().stream().mapToLong(ServerProcess::cpuMillis).toArray();
        }

        static long[] replicaCpu(Deployment deployment) {
            return deployment.servers.stream().mapToLong(ServerProcess::cpuMillis).toArray();
        }

        static long generatorCpu(List<Long> pids) {
            return pids.stream().mapToLong(pid -> Math.max(0, ProcStats.cpuMillis(pid))).sum();
        }

        void finish(Result result, String phase) {
            double seconds = (System.nanoTime() - startNs) / 1e9;
            long[] commandsAfter = deployment.redisCommands();
            Map<String, Long> callsAfter = deployment.redisCommandCalls();
            long[] redisCpuAfter = redisCpu(deployment);
            long[] replicaCpuAfter = replicaCpu(deployment);
            long generator = generatorCpu(generatorPids) - generatorCpu;
            long machineBusy = ProcStats.machineBusyMillis() - machine;
            double commandsTotal = 0;
            double redisCpuTotal = 0;
            List<Double> perShard = new ArrayList<>();
            List<Double> cpuPerShard = new ArrayList<>();
            for (int i = 0; i < commandsAfter.length; i++) {
                // less the INFO that read the count
                double perSecond = Result.round((commandsAfter[i] - commands[i] - 2) / seconds);
                double cpu = Result.round((redisCpuAfter[i] - redisCpu[i]) / 10.0 / seconds);
                perShard.add(perSecond);
                cpuPerShard.add(cpu);
                commandsTotal += perSecond;
                redisCpuTotal += cpu;
            }
            long replicaTotal = 0;
            List<Double> cpuPerReplica = new ArrayList<>();
            for (int i = 0; i < replicaCpuAfter.length; i++) {
                replicaTotal += replicaCpuAfter[i] - replicaCpu[i];
                cpuPerReplica.add(Result.round((replicaCpuAfter[i] - replicaCpu[i]) / 10.0 / seconds));
            }
            double scripts = 0;
            for (String script : List.of("evalsha", "eval", "fcall")) {
                scripts += callsAfter.getOrDefault(script, 0L) - calls.getOrDefault(script, 0L);
            }
            // total_commands_processed counts a script's own calls too (Redis 7): the script calls are the round trips
            result.put(phase + "Seconds", seconds)
                    .put(phase + "RedisCmdsPerSec", Result.round(commandsTotal))
                    .put(phase + "RedisScriptCallsPerSec", Result.round(scripts / seconds))
                    .put(phase + "RedisCpuPercent", Result.round(redisCpuTotal));
            if (perShard.size() > 1) {
                result.put(phase + "RedisCmdsPerSecPerShard", perShard.toString())
                        .put(phase + "RedisCpuPercentPerShard", cpuPerShard.toString());
            }
            result.put(phase + "ReplicaCpuMs", replicaTotal)
                    .put(phase + "ReplicaCpuPercent", replicaTotal / 10.0 / seconds)
                    .put(phase + "ReplicaCpuPercentEach", cpuPerReplica.toString())
                    .put(phase + "GeneratorCpuPercent", generator / 10.0 / seconds)
                    .put(phase + "MachineBusyPercent", machineBusy / 10.0 / seconds)
                    .put(phase + "GeneratorShareOfBusy", machineBusy > 0 ? (double) generator / machineBusy : 0)
                    // what neither Gavel, Redis nor the generators used (other sessions' builds, this coordinator)
                    .put(phase + "OtherCpuPercent", Math.max(0, machineBusy - generator - replicaTotal
                            - Math.round(redisCpuTotal * 10 * seconds)) / 10.0 / seconds);
            StringBuilder top = new StringBuilder(phase + " Redis calls/s by command:");
            callsAfter.entrySet().stream()
                    .map(e -> Map.entry(e.getKey(), (e.getValue() - calls.getOrDefault(e.getKey(), 0L)) / seconds))
                    .filter(e -> e.getValue() >= 0.1)
                    .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                    .limit(10)
                    .forEach(e -> top.append(' ').append(e.getKey()).append('=').append(Result.round(e.getValue())));
            result.note(top.toString());
        }
    }
}
