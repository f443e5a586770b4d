package dev.gavel.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code java -jar gavel-bench.jar <scenario> [options]}: starts the servers (Gavel, the Node.js peer, Redis),
 * the generator JVMs and the viewers, measures, prints a summary and writes JSON, and stops everything it started.
 */
public final class Bench {

    private static final List<Scenario> SCENARIOS = List.of(new HoldScenario(), new ConnectScenario(), new FanoutScenario(),
            new JoinstormScenario(), new SlowScenario(), new CoresScenario(), new ShardsScenario(),
            new ClusterScenario(), new AudienceScenario());

    private Bench() {
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    static int run(String[] args) {
        if (args.length == 0 || args[0].equals("--help") || args[0].equals("help")) {
            System.out.println(usage());
            return args.length == 0 ? 2 : 0;
        }
        String command = args[0];
        String[] rest = java.util.Arrays.copyOfRange(args, 1, args.length);
        try {
            if (command.equals("worker")) {
                if (List.of(rest).contains("--help")) {
                    System.out.println(Generator.HELP + Options.help(Generator.OPTIONS));
                    return 0;
                }
                Generator.runWorker(rest);
                return 0;
            }
            if (command.equals("profile-summary")) {
                if (List.of(rest).contains("--help")) {
                    System.out.println("profile-summary: hottest methods and most allocated classes of a JFR recording\n\nOptions:\n"
                            + Options.help(ProfileSummary.OPTIONS));
                    return 0;
                }
                ProfileSummary.run(rest);
                return 0;
            }
            if (command.equals("prepare-peer")) {
                Options options = Options.parse(command, Context.COMMON, rest);
                System.out.println("peer ready in " + new Context(command, options).peerDir());
                return 0;
            }
            Scenario scenario = SCENARIOS.stream().filter(s -> s.name().equals(command)).findFirst()
                    .orElseThrow(() -> new Options.UsageException("unknown command '" + command + "'\n\n" + usage()));
            List<Options.Spec> specs = new ArrayList<>(scenario.options());
            specs.addAll(Context.COMMON);
            if (List.of(rest).contains("--help")) {
                System.out.println(command + ": " + scenario.description() + "\n\nOptions:\n" + Options.help(specs));
                return 0;
            }
            Context context = new Context(command, Options.parse(command, specs, rest));
            List<Target> targets = scenario.targets(context);
            List<Result> results = new ArrayList<>();
            for (Target target : targets) {
                System.out.println("-- " + command + " against " + target.label() + " ...");
                Result result = scenario.run(context, target);
                result.print();
                System.out.println("  written to " + result.write(context));
                results.add(result);
            }
            if (results.size() > 1) {
                Result.sideBySide(command, results, context, command.equals("cores") ? "compare" : "both");
            }
            return 0;
        } catch (Options.UsageException e) {
            System.err.println(e.getMessage());
            return 2;
        } catch (Exception e) {
            System.err.println(command + " failed: " + e);
            e.printStackTrace();
            return 1;
        } finally {
            Processes.stopAll();
        }
    }

    static String usage() {
        StringBuilder text = new StringBuilder("""
                Gavel bench: load generator and side-by-side benchmark harness.

                usage: java -jar modules/bench/target/gavel-bench.jar <command> [options]    (<command> --help for its options)

                """);
        for (Scenario scenario : SCENARIOS) {
            text.append(String.format("  %-12s %s%n", scenario.name(), scenario.description()));
        }
        text.append(String.format("  %-12s %s%n", "prepare-peer", "copy the Node.js peer to target/peer and npm ci it"));
        text.append(String.format("  %-12s %s%n", "profile-summary", "top frames and allocations of a JFR recording"));
        text.append(String.format("  %-12s %s%n", "worker", "a generator JVM, driven by a scenario over stdin/stdout"));
        text.append("""

                Every scenario starts its own servers on free loopback ports, stops them when done, prints a summary and
                writes modules/bench/target/results/<scenario>-<target>.json.""");
        return text.toString();
    }
}
