package dev.gavel.testkit;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.awaitility.core.ConditionTimeoutException;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.awaitility.Awaitility.await;

/**
 * A viewer driven by one of the official JavaScript clients, {@code socket.io-client}, {@code sockjs-client} or
 * {@code ws}, run
 * by Node in its own process from the scripts in {@code modules/testkit/js}. The script prints one JSON line per
 * thing that happened to the client (connected, an event, closed); this class records them and waits, with a
 * deadline, for what a test expects. Commands go to the script as JSON lines on its standard input.
 *
 * <p>The npm packages must be installed ({@code npm ci} in {@code modules/testkit/js}); without them this fails
 * with a message that says so, rather than letting a test pass without its client.
 */
public final class JsViewer implements AutoCloseable {

    /** The npm project with the client scripts; Maven runs tests from the module's directory. */
    public static final Path SCRIPTS = Path.of(System.getProperty("gavel.js.dir", "js")).toAbsolutePath().normalize();

    private final String name;
    private final Process process;
    private final OutputStream commands;
    private final List<JsonObject> records = new CopyOnWriteArrayList<>();
    private final List<String> errors = new CopyOnWriteArrayList<>();

    private JsViewer(String name, Process process) {
        this.name = name;
        this.process = process;
        this.commands = process.getOutputStream();
        read(process.getInputStream(), line -> {
            try {
                records.add(new JsonObject(line));
            } catch (DecodeException e) {
                errors.add(line);
            }
        });
        read(process.getErrorStream(), errors::add);
    }

    /**
     * A {@code socket.io-client} viewer: {@code io("http://127.0.0.1:<port>", options)}. The auction team's front
     * end passes {@code {path: "/auction/", query: {slug: "auction-<id>"}}}; see {@link #teamOptions}.
     */
    public static JsViewer socketIo(int port, JsonObject options) {
        return start("socket.io-client " + options.encode(), List.of(), "socketio-viewer.js", "http://127.0.0.1:" + port,
                options);
    }

    /** The options of the auction team's front end, for an auction. */
    public static JsonObject teamOptions(String slug) {
        return new JsonObject().put("path", "/auction/").put("query", new JsonObject().put("slug", slug));
    }

    /** A {@code sockjs-client} viewer on one transport: {@code new SockJS(".../sockjs?slug=<slug>", null, {transports})}. */
    public static JsViewer sockJs(int port, String slug, String transport) {
        return open(port, "slug=" + slug, transport, "");
    }

    /** A {@code sockjs-client} viewer on one transport that says who it is: {@code /sockjs?slug=<slug>&viewerId=<id>}. */
    public static JsViewer sockJs(int port, String slug, String viewerId, String transport) {
        return open(port, "slug=" + slug + "&viewerId=" + viewerId, transport, " as " + viewerId);
    }

    /** A {@code sockjs-client} viewer on one transport with a query of the caller's, e.g. {@code slug=...&offset=...}. */
    public static JsViewer sockJsWithQuery(int port, String query, String transport) {
        return open(port, query, transport, " with " + query);
    }

    private static JsViewer open(int port, String query, String transport, String who) {
        JsonObject options = new JsonObject().put("transports", List.of(transport));
        return start("sockjs-client " + transport + who, List.of(), "sockjs-viewer.js",
                "http://127.0.0.1:" + port + "/sockjs?" + query, options);
    }

    /**
     * A viewer run in a network namespace of its own ({@code ip netns exec <namespace> node ...}), reaching the node
     * at {@code host}: a client whose link a test can cut. {@code transport} is {@code "ws"} for the {@code ws}
     * package on {@code /ws}, or a {@code sockjs-client} transport on {@code /sockjs}.
     */
    public static JsViewer inNamespace(String namespace, String host, int port, String slug, String transport) {
        List<String> launcher = List.of("ip", "netns", "exec", namespace);
        String name = transport + " in " + namespace;
        if ("ws".equals(transport)) {
            return start(name, launcher, "ws-viewer.js", "ws://" + host + ":" + port + "/ws?slug=" + slug, new JsonObject());
        }
        return start(name, launcher, "sockjs-viewer.js", "http://" + host + ":" + port + "/sockjs?slug=" + slug,
                new JsonObject().put("transports", List.of(transport)));
    }

    /** @param launcher what runs {@code node}, e.g. {@code ip netns exec <ns>}; empty to run it directly */
    private static JsViewer start(String name, List<String> launcher, String script, String url, JsonObject options) {
        requireInstalled();
        try {
            List<String> command = new ArrayList<>(launcher);
            command.addAll(List.of("node", script, url, options.encode()));
            ProcessBuilder builder = new ProcessBuilder(command).directory(SCRIPTS.toFile());
            String debug = System.getenv("GAVEL_JS_DEBUG");
            if (debug != null) {
                // the clients' own debug logs (e.g. "sockjs-client:*" or "engine.io-client:*") end up in failure messages
                builder.environment().put("DEBUG", debug);
            }
            Process process = builder.start();
            return new JsViewer(name, process);
        } catch (IOException e) {
            throw new IllegalStateException("could not run node (Node 20 must be on PATH): " + e.getMessage(), e);
        }
    }

    private static void requireInstalled() {
        requireInstalled(List.of("socket.io-client", "sockjs-client", "ws"));
    }

    /** Fails, saying how to install them, unless the npm packages {@code modules} are installed in {@link #SCRIPTS}. */
    static void requireInstalled(List<String> modules) {
        for (String module : modules) {
            if (!Files.isDirectory(SCRIPTS.resolve("node_modules").resolve(module))) {
                throw new IllegalStateException("the npm package " + module + " is not installed in " + SCRIPTS
                        + ": run `npm ci` in modules/testkit/js (CI's .ci/run does)");
            }
        }
    }

    /** Everything the client reported, in order. */
    public List<JsonObject> records() {
        return records;
    }

    /** Payloads of one event, in arrival order. */
    public List<Object> events(String event) {
        return records.stream()
                .filter(r -> "event".equals(r.getString("type")) && event.equals(r.getString("name")))
                .map(r -> r.getValue("data"))
                .toList();
    }

    /** The latest {@code viewerCountUpdate} payload, or null before the first. */
    public JsonObject lastCount() {
        List<Object> counts = events("viewerCountUpdate");
        return counts.isEmpty() ? null : (JsonObject) counts.get(counts.size() - 1);
    }

    /** Waits until the latest count shows {@code current} and {@code peak}. */
    public JsViewer awaitCount(long current, long peak) {
        awaitTrue("count " + current + "/" + peak, () -> {
            JsonObject count = lastCount();
            return count != null && count.getLong("current") == current && count.getLong("peak") == peak;
        });
        return this;
    }

    /** Waits until the latest count shows {@code current}. */
    public JsViewer awaitCurrent(long current) {
        awaitTrue("current " + current, () -> lastCount() != null && lastCount().getLong("current") == current);
        return this;
    }

    /** Waits for at least {@code atLeast} events of a name and returns their payloads. */
    public List<Object> awaitEvents(String event, int atLeast) {
        awaitTrue(atLeast + " x " + event, () -> events(event).size() >= atLeast);
        return events(event);
    }

    /** Waits for the first record of a type ({@code connect}, {@code upgrade}, {@code connect_error}, {@code close}...). */
    public JsonObject awaitRecord(String type) {
        awaitTrue("a '" + type + "' record", () -> records.stream().anyMatch(r -> type.equals(r.getString("type"))));
        return records.stream().filter(r -> type.equals(r.getString("type"))).findFirst().orElseThrow();
    }

    /** Socket.IO: {@code socket.emit(event)}. */
    public void emit(String event) {
        command(new JsonObject().put("cmd", "emit").put("name", event));
    }

    /**
     * Socket.IO: {@code socket.auth = auth; socket.connect()}, as a page does after a refused CONNECT (a fresh viewer
     * token, say).
     */
    public void connectAgain(JsonObject auth) {
        command(new JsonObject().put("cmd", "connect").put("auth", auth));
    }

    /** SockJS: {@code sock.send(text)}. */
    public void send(String text) {
        command(new JsonObject().put("cmd", "send").put("text", text));
    }

    /** Closes the client as a page that goes away does ({@code socket.close()}, {@code sock.close()}) and ends Node. */
    @Override
    public void close() {
        if (process.isAlive()) {
            try {
                command(new JsonObject().put("cmd", "close"));
                commands.close();
            } catch (IllegalStateException | IOException e) {
                // the script is already gone
            }
            try {
                if (!process.waitFor(TestViewer.PATIENCE.toSeconds(), TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }

    @Override
    public String toString() {
        return name + " records=" + records + (errors.isEmpty() ? "" : " stderr=" + errors);
    }

    private void command(JsonObject command) {
        try {
            commands.write((command.encode() + "\n").getBytes(StandardCharsets.UTF_8));
            commands.flush();
        } catch (IOException e) {
            throw new IllegalStateException(name + " is gone: " + this, e);
        }
    }

    private void awaitTrue(String what, Callable<Boolean> condition) {
        try {
            await().atMost(TestViewer.PATIENCE).until(condition);
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("waited " + TestViewer.PATIENCE + " for " + what + " from " + this, e);
        }
    }

    private void read(InputStream stream, java.util.function.Consumer<String> sink) {
        Thread reader = new Thread(() -> {
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
                for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                    sink.accept(line);
                }
            } catch (IOException e) {
                // the process ended
            }
        }, "js-viewer-reader");
        reader.setDaemon(true);
        reader.start();
    }
}
