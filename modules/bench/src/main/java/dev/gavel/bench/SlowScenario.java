package dev.gavel.bench;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.List;

/**
 * One viewer stops reading while thousands of ~3 KB events are published: what the server holds for it, whether
 * and how it is closed (the contract says 1013), and whether every other viewer still gets every event in time.
 */
final class SlowScenario implements Scenario {

    static final String AUCTION = "slow";

    @Override
    public String name() {
        return "slow";
    }

    @Override
    public String description() {
        return "one viewer stops reading during 5,000 ~3 KB events: server memory, its close code, the others' deliveries";
    }

    @Override
    public List<Options.Spec> options() {
        return List.of(
                new Options.Spec("viewers", "100", "viewers of the auction, the stalled ones included"),
                new Options.Spec("stalled", "1", "viewers that stop reading"),
                new Options.Spec("events", "5000", "events to publish"),
                new Options.Spec("payload-bytes", "3000", "size of an event's JSON body"),
                new Options.Spec("rate", "500", "events per second"),
                new Options.Spec("warmup-events", "500", "events published (at the run's rate but at most 100 a second, so that"
                        + " every viewer keeps up; up to 10 s) and waited for by every viewer before one stalls, so that both servers'"
                        + " JITs are warm (0: none, as before 2026-12-07)"),
                new Options.Spec("drain-s", "15", "after publishing, how long the stalled viewer reads again to see how it ends"));
    }

    @Override
    public Result run(Context context, Target target) throws Exception {
        Options o = context.options;
        context.checkTransport(target);
        int viewers = o.integer("viewers");
        int events = o.integer("events");
        Result result = new Result(name(), target.label());
        try (Deployment deployment = Deployment.start(context, target, 1, target.env());
             Workers workers = context.workers(viewers, deployment)) {
            Workers.Opened opened = workers.open(viewers, AUCTION, 100, 120_000);
            workers.all("await-quiet 1000 60000", 60_000);
            double warmupRate = Math.min(o.decimal("rate"), 100);
            int warmup = (int) Math.min(o.integer("warmup-events"), 10 * warmupRate);
            if (warmup > 0) {
                Publisher.Published warm = new Publisher(o.integer("payload-bytes"))
                        .publish(deployment.ports().get(0), AUCTION, warmup, warmupRate, 64);
                workers.all("await-events " + AUCTION + " " + warm.accepted() + " 60000", 60_000);
                result.put("warmupEvents", warm.accepted());
            }
            long heapBefore = deployment.liveHeapKb();
            long rssBefore = deployment.rssKb();
            long stalled = Workers.sum(workers.all("stall " + AUCTION + " " + o.integer("stalled"), 10_000), "stalled");
            workers.all("reset", 10_000);
            CpuWindow window = CpuWindow.start(deployment, workers);
            Publisher.Published published = new Publisher(o.integer("payload-bytes"))
                    .publish(deployment.ports().get(0), AUCTION, events, o.decimal("rate"), 64);
            List<JsonNode> done = workers.all("await-events " + AUCTION + " " + published.accepted() + " 120000", 120_000);
            window.finish(result);
            long rssAfter = deployment.rssKb();
            long heapAfter = deployment.liveHeapKb();
            Workers.Stats others = workers.stats();
            workers.all("resume", 10_000);
            long drainDeadline = System.nanoTime() + o.number("drain-s") * 1_000_000_000L;
            List<JsonNode> slow = others.slow();
            while (System.nanoTime() < drainDeadline) {
                slow = workers.stats().slow();
                if (slow.stream().allMatch(s -> !s.get("open").asBoolean() || s.get("bids").asLong() >= published.accepted())) {
                    break;
                }
                ServerProcess.sleep(500);
            }
            JsonNode first = slow.isEmpty() ? null : slow.get(0);
            result.put("viewers", viewers).put("opened", opened.opened()).put("stalled", stalled)
                    .put("eventsPublished", published.sent()).put("eventsAccepted", published.accepted())
                    .put("publishSeconds", (published.endNs() - published.startNs()) / 1e9);
            if (target.gavel()) {
                result.put("heapBeforeKb", heapBefore).put("heapWhileStalledKb", heapAfter)
                        .put("heapGrowthKb", heapAfter - heapBefore);
            }
            result.put("rssBeforeKb", rssBefore).put("rssWhileStalledKb", rssAfter).put("rssGrowthKb", rssAfter - rssBefore)
                    .put("othersWithEveryEvent", Workers.sum(done, "complete")).put("others", Workers.sum(done, "of"))
                    .put("othersMinEvents", Workers.min0(done, "minBids"));
            result.latency("othersLatency", others.latency());
            if (first != null) {
                result.put("stalledClosed", !first.get("open").asBoolean())
                        .put("stalledCloseCode", first.get("closeCode").asInt())
                        .put("stalledCloseReason", first.path("closeReason").asText(""))
                        .put("stalledEventsReceived", first.get("bids").asLong());
            }
            if (published.accepted() != published.sent()) {
                result.note("publish statuses: " + published.statuses());
            }
        }
        return result;
    }
}
