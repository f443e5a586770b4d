package dev.gavel.bench;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code profile-summary --jfr FILE}: the hottest methods of a JFR recording (top frames of execution samples),
 * the code of our own that is on the stack most often, and the classes allocated most (allocation samples).
 */
final class ProfileSummary {

    static final List<Options.Spec> OPTIONS = List.of(
            new Options.Spec("jfr", "", "the recording (.jfr) to summarize"),
            new Options.Spec("top", "20", "rows per table"));

    private ProfileSummary() {
    }

    static void run(String[] args) throws IOException {
        Options options = Options.parse("profile-summary", OPTIONS, args);
        int top = options.integer("top");
        Map<String, Long> topFrames = new HashMap<>();
        Map<String, Long> gavelFrames = new HashMap<>();
        Map<String, Long> allocations = new HashMap<>();
        long samples = 0;
        long allocated = 0;
        for (RecordedEvent event : RecordingFile.readAllEvents(Path.of(options.string("jfr")))) {
            String type = event.getEventType().getName();
            RecordedStackTrace stack = event.getStackTrace();
            if (type.equals("jdk.ExecutionSample") && stack != null && !stack.getFrames().isEmpty()) {
                samples++;
                topFrames.merge(name(stack.getFrames().get(0)), 1L, Long::sum);
                for (RecordedFrame frame : stack.getFrames()) {
                    if (frame.getMethod().getType().getName().startsWith("dev.gavel")) {
                        gavelFrames.merge(name(frame), 1L, Long::sum);
                        break;
                    }
                }
            } else if (type.equals("jdk.ObjectAllocationSample")) {
                long weight = event.getLong("weight");
                allocated += weight;
                allocations.merge(event.getClass("objectClass").getName(), weight, Long::sum);
            }
        }
        print("Top frames (" + samples + " execution samples)", topFrames, samples, top, "");
        print("Innermost dev.gavel frame on the stack", gavelFrames, samples, top, "");
        print("Allocation by class (sampled weight, MB)", allocations, allocated, top, "MB");
    }

    private static String name(RecordedFrame frame) {
        return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
    }

    private static void print(String title, Map<String, Long> counts, long total, int top, String unit) {
        System.out.println();
        System.out.println(title);
        counts.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top)
                .forEach(e -> System.out.printf("  %6.1f%%  %10s  %s%n", total == 0 ? 0 : 100.0 * e.getValue() / total,
                        unit.equals("MB") ? String.format("%.1f", e.getValue() / 1e6) : e.getValue(), e.getKey()));
    }
}
