package dev.gavel.bench;

import java.util.List;
import java.util.Map;

/** The fanout scenario on Gavel with EVENT_LOOPS=1 and EVENT_LOOPS=2: what a second core buys. */
final class CoresScenario extends FanoutScenario {

    @Override
    public String name() {
        return "cores";
    }

    @Override
    public String description() {
        return "fanout on Gavel with EVENT_LOOPS=1 and =2: deliveries per CPU-second, busiest thread's share of CPU";
    }

    @Override
    public List<Options.Spec> options() {
        return List.of(
                new Options.Spec("event-loops", "1,2", "EVENT_LOOPS values to compare")).stream()
                .collect(java.util.stream.Collectors.collectingAndThen(java.util.stream.Collectors.toList(), specs -> {
                    specs.addAll(super.options());
                    return specs;
                }));
    }

    @Override
    public List<Target> targets(Context context) {
        if (!context.options.string("target").equals("gavel")) {
            throw new Options.UsageException("cores runs Gavel only (--target gavel)");
        }
        return java.util.Arrays.stream(context.options.string("event-loops").split(","))
                .map(n -> new Target("gavel-el" + n.trim(), true, Map.of("EVENT_LOOPS", n.trim()))).toList();
    }

    @Override
    public Result run(Context context, Target target) throws Exception {
        Result result = fanout(context, target, name());
        result.put("eventLoopsEnv", target.env().get("EVENT_LOOPS"));
        return result;
    }
}
