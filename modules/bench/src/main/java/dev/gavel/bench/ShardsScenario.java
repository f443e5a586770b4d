package dev.gavel.bench;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The same Gavel replicas on one Redis and on a Redis Cluster of N masters, in one run: commands per second on each
 * Redis process (each shard) during a join storm over many auctions, at rest, and while bids fan out to one auction;
 * and that fan-out's publish-to-delivery latency.
 */
final class ShardsScenario implements Scenario {

    static final String FANOUT_AUCTION = "fanout";

    @Override
    public String name() {
        return "shards";
    }

    @Override
    public String description() {
        return "Gavel on one Redis vs a Redis Cluster: commands/s per shard in a join storm, at rest and in a fan-out; fan-out latency";
    }

    @Override
    public List<Options.Spec> options() {
        return List.of(
                new Options.Spec("shards", "3", "masters of the Redis Cluster (no replicas)"),
                new Options.Spec("replicas", "2", "Gavel nodes (viewers round-robin over them)"),
                new Options.Spec("viewers", "3000", "viewers of the join storm, spread over --auctions auctions"),
                new Options.Spec("auctions", "300", "auctions the storm's viewers are spread over"),
                new Options.Spec("rest-s", "15", "seconds at rest (heartbeats only) after the storm"),
                new Options.Spec("fanout-viewers", "1000", "viewers of the auction that bids are published to"),
                new Options.Spec("bids", "100", "bids to publish"),
                new Options.Spec("rate", "5", "bids per second"),
                new Options.Spec("payload-bytes", "256", "size of a bid's JSON body"),
                new Options.Spec("concurrency", "300", "connections being opened at once"),
                new Options.Spec("persons", "0", "persons per auction of the storm (viewers carry their viewerId; the "
                        + "viewers beyond auctions*persons are further tabs of them; with --server-env COUNT_BY=person "
                        + "they are what is counted); 0: no viewerId"),
                new Options.Spec("jfr", null, "record a JFR profile of the first Gavel node over the whole run"));
    }

    @Override
    public List<Target> targets(Context context) {
        if (!context.options.string("target").equals("gavel")) {
            throw new Options.UsageException("shards runs Gavel only (--target gavel)");
        }
        return List.of(new Target("redis-1", true, Map.of()),
                new Target("cluster-" + context.options.integer("shards"), true, Map.of()));
    }

    @Override
    public Result run(Context context, Target target) throws Exception {
        Options o = context.options;
        context.checkTransport(target);
        int replicas = Math.max(2, o.integer("replicas"));
        int viewers = o.integer("viewers");
        int fanoutViewers = o.integer("fanout-viewers");
        Result result = new Result(name(), target.label());
        boolean cluster = target.label().startsWith("cluster");
        try (Deployment deployment = cluster
                ? Deployment.startOnCluster(context, target, replicas, o.integer("shards"), target.env())
                : Deployment.start(context, target, replicas, target.env());
             Workers workers = context.workers(viewers + fanoutViewers, deployment)) {
            result.put("replicas", replicas).put("redisProcesses", deployment.redisProcesses().size());
            ServerProcess.sleep(1000);
            java.nio.file.Path jfr = context.results.resolve(name() + "-" + target.label() + ".jfr");
            if (o.flag("jfr")) {
                deployment.servers.get(0).startRecording(jfr);
                result.note("JFR: " + jfr);
            }

            Phase storm = Phase.start(deployment);
            long redisCpu0 = deployment.redisCpuMillis();
            int persons = o.integer("persons");
            Workers.Opened opened = workers.open(viewers, "lot-*" + o.integer("auctions") + (persons > 0 ? "/" + persons : ""),
                    o.integer("concurrency"), 600_000);
            workers.all("await-quiet 2000 300000", 300_000);
            storm.finish(result, "storm");
            result.put("stormViewers", opened.opened()).put("stormRedisCpuMs", deployment.redisCpuMillis() - redisCpu0);

            Phase rest = Phase.start(deployment);
            ServerProcess.sleep(o.integer("rest-s") * 1000L);
            rest.finish(result, "rest");

            workers.open(fanoutViewers, FANOUT_AUCTION, o.integer("concurrency"), 600_000);
            workers.all("await-quiet 2000 300000", 300_000);
            workers.all("reset", 10_000);
            Phase fanout = Phase.start(deployment);
            Publisher.Published published = new Publisher(o.integer("payload-bytes"))
                    .publish(deployment.ports().get(0), FANOUT_AUCTION, o.integer("bids"), o.decimal("rate"), 64);
            List<JsonNode> done = workers.all("await-events " + FANOUT_AUCTION + " " + published.accepted() + " 120000", 120_000);
            fanout.finish(result, "fanout");
            if (o.flag("jfr")) {
                deployment.servers.get(0).stopRecording();
            }
            Workers.Stats stats = workers.stats();
            result.put("bidsAccepted", published.accepted()).put("viewersWithEveryBid", Workers.sum(done, "complete"));
            result.latency("fanoutLatency", stats.latency());
            result.put("disconnects", stats.disconnects());
            if (!stats.failures().isEmpty()) {
                result.note("failures: " + stats.failures());
            }
        }
        return result;
    }

    /** Commands each Redis process handled over a stretch of time. */
    private record Phase(Deployment deployment, long[] before, Map<String, Long> callsBefore, long startNs) {

        static Phase start(Deployment deployment) {
            return new Phase(deployment, deployment.redisCommands(), deployment.redisCommandCalls(), System.nanoTime());
        }

        void finish(Result result, String name) {
            long[] after = deployment.redisCommands();
            Map<String, Long> callsAfter = deployment.redisCommandCalls();
            double seconds = (System.nanoTime() - startNs) / 1e9;
            double[] perSecond = new double[after.length];
            for (int i = 0; i < after.length; i++) {
                // less the INFO that read the count
                perSecond[i] = Result.round((after[i] - before[i] - 1) / seconds);
                result.put(name + "CmdsPerSecShard" + i, perSecond[i]);
            }
            result.put(name + "Seconds", Result.round(seconds))
                    .put(name + "CmdsPerSecTotal", Result.round(Arrays.stream(perSecond).sum()))
                    .put(name + "CmdsPerSecBusiestShard", Arrays.stream(perSecond).max().orElse(0));
            // what the commands were, busiest first, per second over every shard (scripts' own calls included)
            StringBuilder top = new StringBuilder(name + " calls/s by command:");
            callsAfter.entrySet().stream()
                    .map(e -> Map.entry(e.getKey(), (e.getValue() - callsBefore.getOrDefault(e.getKey(), 0L)) / seconds))
                    .filter(e -> e.getValue() >= 0.1)
                    .sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                    .limit(10)
                    .forEach(e -> top.append(' ').append(e.getKey()).append('=').append(Result.round(e.getValue())));
            result.note(top.toString());
        }
    }
}
