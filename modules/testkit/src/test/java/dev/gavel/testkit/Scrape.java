package dev.gavel.testkit;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A node's {@code /metrics} scrape in Prometheus text format, read into its series. */
record Scrape(String text, Map<String, Double> series) {

    /** {@code name{labels} value}: a sample line (no timestamps in Micrometer's output). */
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{[^}]*})?\\s+(\\S+)$");

    /** Scrapes a node. */
    static Scrape of(int port) {
        ApiClient.Answer answer = ApiClient.get(port, "/metrics");
        if (answer.status() != 200) {
            throw new AssertionError("/metrics answered " + answer);
        }
        return parse(answer.body());
    }

    static Scrape parse(String text) {
        Map<String, Double> series = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher sample = SAMPLE.matcher(line.trim());
            if (!sample.matches()) {
                throw new AssertionError("not a sample line: " + line);
            }
            String labels = sample.group(2) == null ? "" : sample.group(2);
            series.put(sample.group(1) + labels, Double.parseDouble(sample.group(3)));
        }
        return new Scrape(text, series);
    }

    /** The value of one series, written as in the scrape: {@code name} or {@code name{label="value"}}. */
    double value(String name) {
        Double value = series.get(name);
        if (value == null) {
            throw new AssertionError("no series " + name + " in the scrape:\n" + text);
        }
        return value;
    }

    /** Every series name (without labels): each family, and each histogram's _bucket, _count, _sum. */
    Set<String> names() {
        Set<String> names = new TreeSet<>();
        series.keySet().forEach(key -> {
            int brace = key.indexOf('{');
            names.add(brace < 0 ? key : key.substring(0, brace));
        });
        return names;
    }
}
