package dev.gavel.testkit;


import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static java.util.Map.entry;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The Socket.IO project's own protocol suite ({@code test-suite/} of socketio/socket.io-protocol, vendored in
 * {@code modules/testkit/js/socket.io-protocol/} with its licence), run by mocha as its README says, against a node
 * behind nginx: the deployment's template, with a front that serves the suite's fixed {@code /socket.io/} as
 * {@code /auction/?slug=auction-protocol-suite}. Every case must pass but those listed in {@link #EXCLUSIONS}, each with
 * its reason; the test prints every case's outcome and fails naming each case that failed unexpectedly, or that was
 * expected to fail and passed (an exclusion that no longer holds is taken off the list, not left to hide a change).
 *
 * <p>The node runs with the heartbeat the suite expects (pingInterval 300 ms, pingTimeout 200 ms) and on one event loop:
 * the suite sends on two connections in a row and expects them taken in that order (on WebSocket "2probe" and "5",
 * then a poll that must find the session upgraded), which one Node.js thread does and two event loops do not always
 * (the poll can overtake the WebSocket's frames: 30% of tries measured). No client relies on that order; Gavel's own
 * checks of the requests that race across loops are in {@code SocketIoProtocolIT}.
 */
class SocketIoProtocolSuiteIT {

    private static final Path SUITE = JsViewer.SCRIPTS.resolve("socket.io-protocol").resolve("test-suite.js");
    private static final String MOCHA = "node_modules/mocha/bin/mocha.js";

    /** Gavel announces 4 KiB ({@code EngineSettings}): its viewers send small frames. */
    private static final String MAX_PAYLOAD = "expects maxPayload 1000000 in the handshake; Gavel announces its deliberate 4096";
    /** The suite's reference server is an echo application (README of socket.io-protocol, "Test suite"). */
    private static final String ECHO = "needs the suite's echo application: ";
    private static final String AUTH = ECHO + "its \"auth\" event after CONNECT (Gavel sends the viewer count)";
    private static final String CUSTOM = ECHO + "its /custom namespace (Gavel has the default namespace only)";
    private static final String MESSAGE = ECHO + "its \"message\" event echoed back (Gavel has no such event)";
    private static final String ACK = ECHO + "its \"message-with-ack\" event acknowledged (Gavel has no such event)";
    private static final String BINARY = ECHO + "binary attachments echoed back (Gavel takes no binary packets)";

    private enum Outcome { FAILS, MAY_FAIL }

    private record Exclusion(Outcome outcome, String reason) {
    }

    /** The cases that are not Gavel's to pass, by mocha's full title. */
    private static final Map<String, Exclusion> EXCLUSIONS = Map.ofEntries(
            fails("Engine.IO protocol handshake HTTP long-polling should successfully open a session", MAX_PAYLOAD),
            fails("Engine.IO protocol handshake WebSocket should successfully open a session", MAX_PAYLOAD),
            fails("Socket.IO protocol connect should allow connection to the main namespace", AUTH),
            fails("Socket.IO protocol connect should allow connection to the main namespace with a payload", AUTH),
            fails("Socket.IO protocol connect should allow connection to a custom namespace", CUSTOM),
            fails("Socket.IO protocol connect should allow connection to a custom namespace with a payload", CUSTOM),
            entry("Socket.IO protocol disconnect should disconnect from the main namespace", new Exclusion(Outcome.MAY_FAIL,
                    ECHO + "after its DISCONNECT it expects a ping next, as from the echo application that sends nothing "
                            + "unasked; a viewer count that Gavel sent before it read the DISCONNECT may come first")),
            fails("Socket.IO protocol disconnect should connect then disconnect from a custom namespace", CUSTOM),
            fails("Socket.IO protocol message should send a plain-text packet", MESSAGE),
            fails("Socket.IO protocol message should send a packet with binary attachments", BINARY),
            fails("Socket.IO protocol message should send a plain-text packet with an ack", ACK),
            fails("Socket.IO protocol message should send a packet with binary attachments and an ack", BINARY));

    private static Cluster cluster;
    private static NginxFixture nginx;

    @BeforeAll
    static void start() {
        cluster = Cluster.start(null, 1, Map.of(
                "SOCKETIO_PING_INTERVAL_MS", "300",
                "SOCKETIO_PING_TIMEOUT_MS", "200",
                "EVENT_LOOPS", "1"));
        nginx = NginxFixture.balanceWithSocketIoDefaultPath(List.of(cluster.port(0)), "auction-protocol-suite");
    }

    @AfterAll
    static void stop() {
        if (nginx != null) {
            nginx.close();
        }
        cluster.close();
    }

    @Test
    void theSocketIoProtocolSuitePassesButForTheListedExclusions() throws Exception {
        JsonObject report = runSuite("http://127.0.0.1:" + nginx.socketIoDefaultPathPort());
        JsonObject stats = report.getJsonObject("stats");
        Set<String> failed = titles(report.getJsonArray("failures"));
        Set<String> passed = titles(report.getJsonArray("passes"));
        Set<String> all = titles(report.getJsonArray("tests"));

        List<String> problems = new ArrayList<>();
        StringBuilder table = new StringBuilder("Socket.IO protocol suite against Gavel:\n");
        for (String title : all) {
            Exclusion exclusion = EXCLUSIONS.get(title);
            boolean fails = failed.contains(title);
            String outcome = !fails ? "pass" : exclusion == null ? "FAIL" : "fail, excluded";
            table.append("  ").append(outcome).append("  ").append(title);
            if (exclusion != null) {
                table.append("\n      (").append(exclusion.outcome() == Outcome.FAILS ? "fails" : "may fail").append(": ")
                        .append(exclusion.reason()).append(')');
            }
            table.append('\n');
            if (fails && exclusion == null) {
                problems.add("failed: " + title + ": " + error(report, title));
            } else if (!fails && exclusion != null && exclusion.outcome() == Outcome.FAILS) {
                problems.add("passed, though excluded as failing (take it off the exclusions if that is right): " + title);
            }
        }
        for (String title : failed) {
            if (!all.contains(title)) {
                // a hook, or an error after its test ended
                problems.add("failed outside the suite's cases: " + title + ": " + error(report, title));
            }
        }
        for (String title : EXCLUSIONS.keySet()) {
            if (!all.contains(title)) {
                problems.add("excluded but not in the suite (renamed or removed upstream?): " + title);
            }
        }
        System.out.print(table);

        assertEquals(0, stats.getInteger("pending"), "no case is skipped");
        assertEquals(all.size(), passed.size() + (int) all.stream().filter(failed::contains).count(),
                "every case ran to an outcome");
        assertTrue(all.size() > EXCLUSIONS.size(), "the suite ran: " + stats);
        if (!problems.isEmpty()) {
            fail(problems.size() + " unexpected outcome(s) in the Socket.IO protocol suite:\n  "
                    + String.join("\n  ", problems) + "\n" + table);
        }
    }

    /** Runs the suite with mocha against {@code server}, in place of its http://localhost:3000; returns mocha's JSON report. */
    private static JsonObject runSuite(String server) throws IOException, InterruptedException {
        JsViewer.requireInstalled(List.of("mocha", "chai", "chai-string", "node-fetch", "ws"));
        Path dir = Files.createTempDirectory("gavel-protocol-suite");
        Path report = dir.resolve("report.json");
        Path log = dir.resolve("mocha.log");
        ProcessBuilder builder = new ProcessBuilder("node", MOCHA, "--exit", "--reporter", "json",
                "--reporter-option", "output=" + report, JsViewer.SCRIPTS.relativize(SUITE).toString())
                .directory(JsViewer.SCRIPTS.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("SOCKET_IO_PROTOCOL_SUITE_SERVER", server);
        Process mocha = builder.start();
        try {
            // 32 cases, each under mocha's own timeout of 2 s (5 s for the heartbeat's): about 10 s in all
            if (!mocha.waitFor(3, TimeUnit.MINUTES)) {
                fail("the Socket.IO protocol suite did not end within 3 minutes: " + Files.readString(log));
            }
        } finally {
            mocha.destroyForcibly();
        }
        if (!Files.exists(report)) {
            fail("mocha wrote no report (exit " + mocha.exitValue() + "): " + Files.readString(log));
        }
        return new JsonObject(Files.readString(report));
    }

    private static Map.Entry<String, Exclusion> fails(String title, String reason) {
        return entry(title, new Exclusion(Outcome.FAILS, reason));
    }

    private static Set<String> titles(JsonArray tests) {
        Set<String> titles = new LinkedHashSet<>();
        for (int i = 0; i < tests.size(); i++) {
            titles.add(tests.getJsonObject(i).getString("fullTitle"));
        }
        return titles;
    }

    private static String error(JsonObject report, String title) {
        JsonArray failures = report.getJsonArray("failures");
        for (int i = 0; i < failures.size(); i++) {
            JsonObject failure = failures.getJsonObject(i);
            if (title.equals(failure.getString("fullTitle"))) {
                return failure.getJsonObject("err", new JsonObject()).getString("message", "(no message)");
            }
        }
        return "(no message)";
    }
}
