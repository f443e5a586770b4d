package dev.gavel.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.HdrHistogram.Histogram;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The figures of one scenario against one target, in the order they are printed. */
final class Result {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    final String scenario;
    final String target;
    final Map<String, Object> metrics = new LinkedHashMap<>();
    final List<String> notes = new ArrayList<>();

    Result(String scenario, String target) {
        this.scenario = scenario;
        this.target = target;
    }

    Result put(String name, Object value) {
        metrics.put(name, value instanceof Double d ? round(d) : value);
        return this;
    }

    void note(String note) {
        notes.add(note);
    }

    /** p50, p90, p99, p99.9 and max in milliseconds, from a histogram in microseconds. */
    void latency(String prefix, Histogram micros) {
        put(prefix + "Count", micros.getTotalCount());
        if (micros.getTotalCount() == 0) {
            return;
        }
        put(prefix + "P50Ms", micros.getValueAtPercentile(50) / 1000.0);
        put(prefix + "P90Ms", micros.getValueAtPercentile(90) / 1000.0);
        put(prefix + "P99Ms", micros.getValueAtPercentile(99) / 1000.0);
        put(prefix + "P999Ms", micros.getValueAtPercentile(99.9) / 1000.0);
        put(prefix + "MaxMs", micros.getMaxValue() / 1000.0);
    }

    static double round(double value) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            return value;
        }
        double scale = Math.abs(value) >= 100 ? 10 : 1000;
        return Math.round(value * scale) / scale;
    }

    Path write(Context context) throws IOException {
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("scenario", scenario);
        document.put("target", target);
        document.put("finishedAt", Instant.now().toString());
        document.put("gavelCommit", context.gavelCommit());
        List<String> command = new ArrayList<>(List.of("java", "-jar", "modules/bench/target/gavel-bench.jar", scenario));
        command.addAll(context.options.asArguments());
        document.put("command", String.join(" ", command));
        document.put("machine", Context.machine());
        document.put("options", context.options.effective());
        document.put("metrics", metrics);
        document.put("notes", notes);
        Files.createDirectories(context.results);
        Path file = context.results.resolve(scenario + "-" + target + ".json");
        JSON.writeValue(file.toFile(), document);
        return file;
    }

    void print() {
        System.out.println();
        System.out.println("== " + scenario + " / " + target);
        metrics.forEach((name, value) -> System.out.printf("  %-32s %s%n", name, value));
        notes.forEach(note -> System.out.println("  note: " + note));
    }

    /** Several targets' figures side by side, with the first divided by each other one. */
    static Map<String, Object> sideBySide(String scenario, List<Result> results, Context context, String fileTarget)
            throws IOException {
        Result first = results.get(0);
        StringBuilder header = new StringBuilder(String.format("%-32s", "metric"));
        for (Result result : results) {
            header.append(String.format(" %16s", result.target));
        }
        for (int i = 1; i < results.size(); i++) {
            header.append(String.format(" %16s", first.target + "/" + results.get(i).target));
        }
        System.out.println();
        System.out.println("== " + scenario + ": side by side");
        System.out.println(header);
        Map<String, Object> ratios = new LinkedHashMap<>();
        List<String> names = new ArrayList<>(first.metrics.keySet());
        for (Result result : results) {
            result.metrics.keySet().stream().filter(n -> !names.contains(n)).forEach(names::add);
        }
        for (String name : names) {
            StringBuilder row = new StringBuilder(String.format("%-32s", name));
            for (Result result : results) {
                row.append(String.format(" %16s", result.metrics.getOrDefault(name, "-")));
            }
            for (int i = 1; i < results.size(); i++) {
                Object a = first.metrics.get(name);
                Object b = results.get(i).metrics.get(name);
                String ratio = "-";
                if (a instanceof Number x && b instanceof Number y && y.doubleValue() != 0) {
                    double r = round(x.doubleValue() / y.doubleValue());
                    ratio = String.valueOf(r);
                    ratios.put(name + (results.size() > 2 ? "/" + results.get(i).target : ""), r);
                }
                row.append(String.format(" %16s", ratio));
            }
            System.out.println(row);
        }
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("scenario", scenario);
        for (Result result : results) {
            document.put(result.target, result.metrics);
        }
        document.put("ratio " + first.target + "/others", ratios);
        Files.createDirectories(context.results);
        JSON.writeValue(context.results.resolve(scenario + "-" + fileTarget + ".json").toFile(), document);
        return document;
    }
}
