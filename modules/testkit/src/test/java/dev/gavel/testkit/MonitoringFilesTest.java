package dev.gavel.testkit;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The alert rules and the dashboard, offline: the rules pass {@code promtool check rules} and their unit tests
 * ({@code promtool test rules}), the PrometheusRule holds exactly the plain file's rules, and the dashboard is
 * Grafana JSON whose panels all query something. (That every metric they use is one a node serves is checked on a
 * real scrape, in {@link MetricsIT}.)
 */
class MonitoringFilesTest {

    @Test
    void thePrometheusRuleHoldsThePlainRules() throws IOException {
        String expected = MonitoringFiles.prometheusRule(MonitoringFiles.rules());
        if (Boolean.getBoolean("gavel.regenerate")) {
            Files.writeString(MonitoringFiles.PROMETHEUS_RULE, expected);
        }
        assertEquals(expected, Files.readString(MonitoringFiles.PROMETHEUS_RULE),
                "k8s/monitoring/prometheusrule.yaml differs from deploy/prometheus/gavel-rules.yml: regenerate it with "
                        + "-Dgavel.regenerate=true");
    }

    @Test
    void theRulesPassPromtoolAndTheirUnitTests() throws Exception {
        assertEquals("", promtool("check", "rules", MonitoringFiles.RULES.toString()).error(), "promtool check rules");
        assertEquals("", promtool("test", "rules", MonitoringFiles.RULES_TESTS.toString()).error(), "promtool test rules");
    }

    @Test
    void theDashboardQueriesGavelsMetricsInEveryPanel() throws IOException {
        JsonObject dashboard = new JsonObject(MonitoringFiles.dashboard());
        JsonArray panels = dashboard.getJsonArray("panels");
        assertFalse(panels.isEmpty());
        for (Object p : panels) {
            JsonObject panel = (JsonObject) p;
            if ("row".equals(panel.getString("type"))) {
                continue;
            }
            JsonArray targets = panel.getJsonArray("targets");
            assertTrue(targets != null && !targets.isEmpty(), () -> "panel without queries: " + panel.getString("title"));
            for (Object t : targets) {
                String expr = ((JsonObject) t).getString("expr");
                assertFalse(MonitoringFiles.metricNames(expr).isEmpty(), () -> panel.getString("title") + ": " + expr);
            }
        }
        Set<String> used = MonitoringFiles.metricNames(MonitoringFiles.dashboard());
        for (String family : List.of("gavel_transport_viewers", "gavel_auctions", "gavel_joins_total", "gavel_leaves_total",
                "gavel_refusals_total", "gavel_event_lag_seconds_bucket", "gavel_redis_command_seconds_bucket",
                "gavel_redis_command_errors_total", "gavel_store_failing", "jvm_memory_used_bytes", "jvm_memory_max_bytes",
                "gavel_slow_viewer_closes_total")) {
            assertTrue(used.contains(family), () -> "the dashboard shows no " + family);
        }
    }

    private record Run(int exitCode, String output) {
        /** Empty when it passed, else what it said. */
        String error() {
            return exitCode == 0 ? "" : output;
        }
    }

    /**
     * Runs promtool (Debian's {@code prometheus} package; {@code .ci/run} installs it). Where it is missing the test is
     * skipped, except on CI, where it must run.
     */
    private static Run promtool(String... args) throws Exception {
        boolean installed = Files.isExecutable(Path.of("/usr/bin/promtool"));
        if (!installed && System.getenv("CI") == null) {
            assumeTrue(false, "promtool is not installed (apt-get install prometheus; .ci/run does): the rules are not checked");
        }
        assertTrue(installed, "promtool must be installed on CI (.ci/run installs Debian's prometheus package)");
        List<String> command = new ArrayList<>(List.of("/usr/bin/promtool"));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
        return new Run(process.exitValue(), String.join(" ", command) + "\n" + output);
    }
}
