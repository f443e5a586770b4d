package dev.gavel.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * Bids published to an auction with N viewers (optionally with others idle in other auctions), on one replica
 * or several sharing a Redis: publish-to-delivery latency at every viewer, and deliveries per server CPU-second.
 */
class FanoutScenario implements Scenario {

    static final String AUCTION = "fanout";

    @Override
    public String name() {
        return "fanout";
    }

    @Override
    public String description() {
        return "bids to an auction with N viewers: publish-to-delivery latency, deliveries per server CPU-second";
    }

    @Override
    public List<Options.Spec> options() {
        return List.of(
                new Options.Spec("viewers", "5000", "viewers of the auction that bids are published to"),
                new Options.Spec("idle", "0", "further viewers, idle in other auctions"),
                new Options.Spec("idle-auctions", "100", "auctions the idle viewers are spread over"),
                new Options.Spec("bids", "100", "bids to publish"),
                new Options.Spec("rate", "5", "bids per second"),
                new Options.Spec("payload-bytes", "256", "size of a bid's JSON body"),
                new Options.Spec("warmup-bids", "100", "bids published (at warmup-rate, for up to warmup-seconds) and waited for before measuring"),
                new Options.Spec("warmup-rate", "0", "bids per second while warming up (0: the measured rate)"),
                new Options.Spec("warmup-seconds", "5", "the longest warm-up"),
                new Options.Spec("replicas", "1", "server processes (more than 1: they share a Redis; viewers round-robin)"),
                new Options.Spec("concurrency", "300", "connections being opened at once"),
                new Options.Spec("jfr", null, "record a JFR profile of Gavel (first replica) while publishing"));
    }

    @Override
    public Result run(Context context, Target target) throws Exception {
        return fanout(context, target, name());
    }

    final Result fanout(Context context, Target target, String scenario) throws Exception {
        Options o = context.options;
        context.checkTransport(target);
        int viewers = o.integer("viewers");
        int idle = o.integer("idle");
        int bids = o.integer("bids");
        int replicas = o.integer("replicas");
        Result result = new Result(scenario, target.label());
        try (Deployment deployment = Deployment.start(context, target, replicas, target.env());
             Workers workers = context.workers(viewers + idle, deployment)) {
            if (idle > 0) {
                workers.open(idle, "idle-*" + o.integer("idle-auctions"), o.integer("concurrency"), 600_000);
            }
            Workers.Opened opened = workers.open(viewers, AUCTION, o.integer("concurrency"), 600_000);
            workers.all("await-quiet 2000 300000", 300_000);
            double warmupRate = o.decimal("warmup-rate") > 0 ? o.decimal("warmup-rate") : o.decimal("rate");
            int warmup = (int) Math.min(o.integer("warmup-bids"), o.decimal("warmup-seconds") * warmupRate);
            if (warmup > 0) {
                Publisher.Published warm = new Publisher(o.integer("payload-bytes"))
                        .publish(deployment.ports().get(0), AUCTION, warmup, warmupRate, 64);
                result.put("warmupBids", warm.accepted());
                workers.all("await-events " + AUCTION + " " + warm.accepted() + " 60000", 60_000);
            }
            workers.all("reset", 10_000);
            Path jfr = context.results.resolve(scenario + "-" + target.label() + ".jfr");
            boolean recording = o.flag("jfr") && target.gavel();
            if (recording) {
                deployment.servers.get(0).startRecording(jfr);
            }
            Map<String, Long> threads0 = deployment.threadCpuMillis();
            CpuWindow window = CpuWindow.start(deployment, workers);
            long cpu0 = deployment.cpuMillis();
            long redis0 = deployment.redisCpuMillis();
            Publisher.Published published = new Publisher(o.integer("payload-bytes"))
                    .publish(deployment.ports().get(0), AUCTION, bids, o.decimal("rate"), 64);
            List<com.fasterxml.jackson.databind.JsonNode> done = workers.all("await-events " + AUCTION + " " + published.accepted()
                    + " 120000", 120_000);
            if (published.accepted() != published.sent()) {
                // a refused publish must not be delivered: give such deliveries a moment to show up
                workers.all("await-quiet 2000 30000", 30_000);
            }
            long cpu = deployment.cpuMillis() - cpu0;
            window.finish(result);
            long redisCpu = deployment.redisCpuMillis() - redis0;
            Map<String, Long> threads1 = deployment.threadCpuMillis();
            if (recording) {
                deployment.servers.get(0).stopRecording();
                deployment.servers.get(0).writeClassHistogram(context.results.resolve(scenario + "-" + target.label() + "-histo.txt"), 30);
                result.note("JFR: " + jfr);
            }
            Workers.Stats stats = workers.stats();
            long lastDelivery = Workers.max(done, "lastFrameNs");
            double seconds = (lastDelivery - published.startNs()) / 1e9;
            long expected = (long) opened.opened() * published.accepted();
            result.put("replicas", replicas).put("viewers", viewers).put("idleViewers", idle).put("opened", opened.opened())
                    .put("deflateAccepted", opened.deflateAccepted())
                    .put("bidsPublished", published.sent()).put("bidsAccepted", published.accepted())
                    .put("deliveries", stats.deliveries()).put("deliveriesExpected", expected)
                    .put("viewersWithEveryBid", Workers.sum(done, "complete")).put("minBidsPerViewer", Workers.min0(done, "minBids"))
                    .put("publishSeconds", (published.endNs() - published.startNs()) / 1e9)
                    .put("deliverySeconds", seconds);
            result.latency("latency", stats.latency());
            result.put("deliveriesPerSecond", seconds > 0 ? stats.deliveries() / seconds : 0)
                    .put("serverCpuMs", cpu)
                    .put("deliveriesPerCpuSecond", cpu > 0 ? stats.deliveries() * 1000.0 / cpu : 0);
            if (replicas > 1) {
                result.put("redisCpuMs", redisCpu);
            }
            busiestThread(result, threads0, threads1, cpu);
            result.put("disconnects", stats.disconnects()).put("generatorCpuMs", window.generatorCpuMs())
                    .put("generatorCpuUsPerDelivery", stats.deliveries() == 0 ? 0 : window.generatorCpuMs() * 1000.0 / stats.deliveries());
            if (published.accepted() != published.sent()) {
                result.put("deliveriesBeyondAccepted", Math.max(0, stats.deliveries() - expected));
                result.note("publish statuses: " + published.statuses() + "; " + Math.max(0, stats.deliveries() - expected)
                        + " deliveries of bids that were not answered 2xx");
            }
            if (!stats.failures().isEmpty()) {
                result.note("failures: " + stats.failures());
            }
        }
        return result;
    }

    /** The busiest server thread over the window, and its share of all server CPU; the event-loop thread count. */
    static void busiestThread(Result result, Map<String, Long> before, Map<String, Long> after, long totalCpu) {
        String busiest = "-";
        long most = 0;
        int eventLoops = 0;
        for (Map.Entry<String, Long> thread : after.entrySet()) {
            long used = thread.getValue() - before.getOrDefault(thread.getKey(), 0L);
            if (used > most) {
                most = used;
                busiest = thread.getKey();
            }
            if (thread.getKey().contains("/vert.x-eventloo") && used > 0) {
                eventLoops++;
            }
        }
        result.put("busiestThread", busiest).put("busiestThreadCpuMs", most)
                .put("busiestThreadShare", totalCpu > 0 ? (double) most / totalCpu : 0)
                .put("busyEventLoopThreads", eventLoops);
    }
}
