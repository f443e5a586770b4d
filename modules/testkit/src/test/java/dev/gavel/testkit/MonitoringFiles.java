package dev.gavel.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The monitoring files the repository ships: alert rules (plain and as a PrometheusRule) and the dashboard. */
final class MonitoringFiles {

    /** The repository, from the module's directory (where Maven runs the tests). */
    static final Path REPOSITORY = Path.of("").toAbsolutePath().resolve("../..").normalize();
    static final Path RULES = REPOSITORY.resolve("deploy/prometheus/gavel-rules.yml");
    static final Path RULES_TESTS = REPOSITORY.resolve("deploy/prometheus/gavel-rules.test.yml");
    static final Path PROMETHEUS_RULE = REPOSITORY.resolve("k8s/monitoring/prometheusrule.yaml");
    static final Path DASHBOARD = REPOSITORY.resolve("deploy/grafana/gavel-dashboard.json");

    /** Metric names as the node serves them: Gavel's, the JVM's, the process's, the system's and Vert.x's. */
    private static final Pattern METRIC = Pattern.compile("\\b(?:gavel|jvm|process|system|vertx)_[a-zA-Z0-9_]+");

    private static final String PROMETHEUS_RULE_HEAD = """
            # Generated from deploy/prometheus/gavel-rules.yml (the one source of the rules): edit that file, then
            # run MonitoringFilesTest with -Dgavel.regenerate=true to write this one.
            apiVersion: monitoring.coreos.com/v1
            kind: PrometheusRule
            metadata:
              name: gavel
              labels:
                app.kubernetes.io/name: gavel
                app.kubernetes.io/component: monitoring
            spec:
            """;

    private MonitoringFiles() {
    }

    static String rules() throws IOException {
        return Files.readString(RULES);
    }

    static String dashboard() throws IOException {
        return Files.readString(DASHBOARD);
    }

    /** The PrometheusRule with the plain file's groups as its spec: what k8s/monitoring/prometheusrule.yaml must be. */
    static String prometheusRule(String rules) {
        StringBuilder out = new StringBuilder(PROMETHEUS_RULE_HEAD);
        boolean inGroups = false;
        for (String line : rules.split("\n", -1)) {
            inGroups |= line.startsWith("groups:");
            if (inGroups) {
                out.append(line.isEmpty() ? "" : "  " + line).append('\n');
            }
        }
        if (!inGroups) {
            throw new IllegalArgumentException("no top-level 'groups:' in the rules");
        }
        return out.toString().stripTrailing() + "\n";
    }

    /** Every metric name a rules file or a dashboard mentions. */
    static Set<String> metricNames(String text) {
        Set<String> names = new TreeSet<>();
        Matcher metric = METRIC.matcher(text);
        while (metric.find()) {
            names.add(metric.group());
        }
        return names;
    }
}
