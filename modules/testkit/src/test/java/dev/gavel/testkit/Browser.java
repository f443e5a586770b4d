package dev.gavel.testkit;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A headless Debian chromium driven by Playwright ({@code playwright-core}) from {@code js/browser.js}, in its own
 * Node process: tabs by name, each command answered before the next is sent. Closing it closes the browser and ends
 * every process it started, by PID.
 */
final class Browser implements AutoCloseable {

    static final Path CHROMIUM = Path.of(System.getenv().getOrDefault("GAVEL_CHROMIUM", "/usr/bin/chromium"));
    private static final long ANSWER_SECONDS = 30;

    private final Process process;
    private final OutputStream commands;
    private final BlockingQueue<JsonObject> answers = new LinkedBlockingQueue<>();
    private final List<String> stderr = new CopyOnWriteArrayList<>();
    private int nextId;

    private Browser(Process process) {
        this.process = process;
        this.commands = process.getOutputStream();
        daemon(() -> readLines(new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8)), true));
        daemon(() -> readLines(new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8)), false));
    }

    /** Starts chromium; fails saying what is missing when chromium or playwright-core is not installed. */
    static Browser launch() {
        if (!Files.isExecutable(CHROMIUM)) {
            throw new IllegalStateException("no chromium at " + CHROMIUM + ": install Debian's chromium (bash .ci/run does)");
        }
        if (!Files.isDirectory(JsViewer.SCRIPTS.resolve("node_modules/playwright-core"))) {
            throw new IllegalStateException("playwright-core is not installed in " + JsViewer.SCRIPTS
                    + ": run `npm ci` there (Maven does before the integration tests)");
        }
        try {
            ProcessBuilder builder = new ProcessBuilder("node", "browser.js").directory(JsViewer.SCRIPTS.toFile());
            builder.environment().put("GAVEL_CHROMIUM", CHROMIUM.toString());
            Browser browser = new Browser(builder.start());
            JsonObject ready = browser.next();
            if (!"ready".equals(ready.getString("type"))) {
                browser.close();
                throw new IllegalStateException("chromium did not start: " + ready.encode() + " " + browser.stderr);
            }
            return browser;
        } catch (IOException e) {
            throw new IllegalStateException("could not run node (Node 20 must be on PATH): " + e.getMessage(), e);
        }
    }

    /** Opens {@code url} in a new tab of the viewers' browser profile and returns the HTTP status of the page. */
    int open(String tab, String url) {
        return open(tab, url, "viewer", 1100, 800);
    }

    /** Opens {@code url} in a new tab of a profile ({@code context}) with a window of that size. */
    int open(String tab, String url, String context, int width, int height) {
        return command(new JsonObject().put("cmd", "open").put("tab", tab).put("url", url).put("context", context)
                .put("width", width).put("height", height)).getInteger("status");
    }

    /**
     * Opens {@code url} in a new tab of a profile whose every request carries {@code headers} (given when the profile
     * is first used), as a proxy in front of the node would add them.
     */
    int open(String tab, String url, String context, int width, int height, java.util.Map<String, String> headers) {
        return open(tab, url, context, width, height, headers, java.util.Map.of());
    }

    /**
     * {@link #open(String, String, String, int, int, java.util.Map)}, with the tab's sessionStorage holding {@code session}
     * before the page's scripts run (as a front end that signed its user in leaves a viewer token there).
     */
    int open(String tab, String url, String context, int width, int height, java.util.Map<String, String> headers,
             java.util.Map<String, String> session) {
        JsonObject extra = new JsonObject();
        headers.forEach(extra::put);
        JsonObject storage = new JsonObject();
        session.forEach(storage::put);
        return command(new JsonObject().put("cmd", "open").put("tab", tab).put("url", url).put("context", context)
                .put("width", width).put("height", height).put("headers", extra).put("session", storage)).getInteger("status");
    }

    /** The attribute {@code name} of the first element matching {@code selector}, or null. */
    String attribute(String tab, String selector, String name) {
        return command(new JsonObject().put("cmd", "attribute").put("tab", tab).put("selector", selector).put("name", name))
                .getString("value");
    }

    void close(String tab) {
        command(new JsonObject().put("cmd", "close").put("tab", tab));
    }

    /**
     * The text of the first element matching {@code selector} as rendered (cells and lines apart by one space), or ""
     * when no such element is shown.
     */
    String visibleText(String tab, String selector) {
        return text(tab, selector).getString("text");
    }

    /** Whether an element matching {@code selector} is shown. */
    boolean visible(String tab, String selector) {
        return text(tab, selector).getBoolean("visible");
    }

    private JsonObject text(String tab, String selector) {
        return command(new JsonObject().put("cmd", "text").put("tab", tab).put("selector", selector));
    }

    void fill(String tab, String selector, String value) {
        command(new JsonObject().put("cmd", "fill").put("tab", tab).put("selector", selector).put("value", value));
    }

    void click(String tab, String selector) {
        command(new JsonObject().put("cmd", "click").put("tab", tab).put("selector", selector));
    }

    void screenshot(String tab, Path path) {
        command(new JsonObject().put("cmd", "screenshot").put("tab", tab).put("path", path.toAbsolutePath().toString()));
    }

    /** Console errors, page errors and failed requests (other than Socket.IO's) of every tab since the last call. */
    List<String> problems() {
        return command(new JsonObject().put("cmd", "problems")).getJsonArray("problems").stream().map(String::valueOf).toList();
    }

    private synchronized JsonObject command(JsonObject command) {
        int id = ++nextId;
        try {
            commands.write((command.put("id", id).encode() + "\n").getBytes(StandardCharsets.UTF_8));
            commands.flush();
        } catch (IOException e) {
            throw new IllegalStateException("the browser driver is gone: " + stderr, e);
        }
        JsonObject answer = next();
        if (answer.getInteger("id", -1) != id) {
            throw new IllegalStateException("unexpected answer to " + command.encode() + ": " + answer.encode());
        }
        if (!answer.getBoolean("ok")) {
            throw new IllegalStateException(command.getString("cmd") + " failed: " + answer.getString("error"));
        }
        return answer;
    }

    private JsonObject next() {
        try {
            JsonObject answer = answers.poll(ANSWER_SECONDS, TimeUnit.SECONDS);
            if (answer == null) {
                throw new IllegalStateException("the browser driver did not answer within " + ANSWER_SECONDS + " s: " + stderr);
            }
            return answer;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void daemon(Runnable reader) {
        Thread thread = new Thread(reader, "browser-driver-output");
        thread.setDaemon(true);
        thread.start();
    }

    private void readLines(BufferedReader reader, boolean answersToo) {
        try {
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (!answersToo) {
                    stderr.add(line);
                    continue;
                }
                try {
                    answers.add(new JsonObject(line));
                } catch (DecodeException e) {
                    stderr.add(line);
                }
            }
        } catch (IOException e) {
            // the process ended
        }
    }

    @Override
    public void close() {
        // chromium and its helpers are the driver's descendants: known by PID before anything ends
        List<ProcessHandle> started = process.descendants().toList();
        if (process.isAlive()) {
            try {
                command(new JsonObject().put("cmd", "quit"));
            } catch (IllegalStateException e) {
                // already gone
            }
        }
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        started.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
    }
}
