package dev.gavel.core.audience;

import dev.gavel.core.ViewerEvent;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A viewer that writes down what it is told, in order: {@code count 3/3}, {@code started e1-2 null 0},
 * {@code bid b1@e1-2}, {@code ev x3@e1-3}, {@code closed 1000}.
 */
class RecordingViewer implements Viewer {

    private static final Pattern COUNT = Pattern.compile(".*\"current\":(\\d+),\"peak\":(\\d+).*");

    final String name;
    final List<String> seen = new CopyOnWriteArrayList<>();

    RecordingViewer(String name) {
        this.name = name;
    }

    @Override
    public void send(ViewerEvent event) {
        seen.add(describe(event));
    }

    @Override
    public void started(Start start) {
        seen.add("started " + start.position() + " " + start.recovered() + " " + start.missed());
    }

    @Override
    public void close(short code, String reason) {
        seen.add("closed " + code);
    }

    /** What it saw, without the counts. */
    List<String> events() {
        return seen.stream().filter(s -> !s.startsWith("count ")).toList();
    }

    /** The counts it saw. */
    List<String> counts() {
        return seen.stream().filter(s -> s.startsWith("count ")).map(s -> s.substring("count ".length())).toList();
    }

    static String describe(ViewerEvent event) {
        if (event.isCount()) {
            Matcher m = COUNT.matcher(event.dataJson());
            if (!m.matches()) {
                throw new AssertionError(event.dataJson());
            }
            return "count " + m.group(1) + "/" + m.group(2);
        }
        String data = event.dataJson().replace("\"", "");
        return (event.isBid() ? "bid " : "ev ") + data + (event.offset() == null ? "" : "@" + event.offset());
    }
}
