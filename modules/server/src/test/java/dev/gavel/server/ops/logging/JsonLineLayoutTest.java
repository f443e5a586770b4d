package dev.gavel.server.ops.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.LoggingEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JsonLineLayoutTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Everything a message might carry that could break a line of JSON or split it in two. */
    private static final String NASTY = "quote \" backslash \\ slash / newline \n return \r tab \t nul \u0000 bell \u0007"
            + " escape \u001b del \u007f line-separator \u2028 paragraph \u2029 é € 日本 😀 {\"json\": [1]} }";

    @Test
    void anyMessageIsOneLineOfJsonWithItsTextIntact() throws Exception {
        LoggingEvent event = event(NASTY, null);
        event.addKeyValuePair(new KeyValuePair("auction", "a-1\"\n"));

        String line = layout("node-7").doLayout(event);

        assertTrue(line.endsWith("\n"));
        assertEquals(1, line.split("\n", -1).length - 1, "one line: " + line);
        assertFalse(line.chars().anyMatch(c -> c < 0x20 && c != '\n'), "no raw control characters: " + line);
        // what the appender writes, read back as bytes
        JsonNode json = JSON.readTree(line.getBytes(StandardCharsets.UTF_8));
        assertEquals(NASTY, json.get("message").asText());
        assertEquals("a-1\"\n", json.get("auction").asText());
        assertEquals("node-7", json.get("node").asText());
        assertEquals("INFO", json.get("level").asText());
        assertEquals("dev.gavel.test.Logger\"Name", json.get("logger").asText());
        assertTrue(json.get("timestamp").asText().matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z"),
                json.get("timestamp").asText());
        assertFalse(json.has("exception"));
    }

    @Test
    void aFailureIsTheExceptionAndItsWholeTraceAsStringsOnTheSameLine() throws Exception {
        Exception failure = new IllegalStateException("broke:\n\"badly\"", new RuntimeException("cause\tinside"));

        String line = layout("n").doLayout(event("it failed", failure));

        assertEquals(1, line.split("\n", -1).length - 1, "one line: " + line);
        JsonNode json = JSON.readTree(line);
        assertEquals("java.lang.IllegalStateException: broke:\n\"badly\"", json.get("exception").asText());
        String trace = json.get("stackTrace").asText();
        assertTrue(trace.contains("aFailureIsTheExceptionAndItsWholeTraceAsStringsOnTheSameLine"), trace);
        assertTrue(trace.contains("Caused by: java.lang.RuntimeException: cause\tinside"), trace);
    }

    private static JsonLineLayout layout(String node) {
        JsonLineLayout layout = new JsonLineLayout(node);
        layout.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
        layout.start();
        return layout;
    }

    private static LoggingEvent event(String message, Throwable failure) {
        // the running context: its events read the MDC through it
        LoggerContext context = (LoggerContext) LoggerFactory.getILoggerFactory();
        Logger logger = context.getLogger("dev.gavel.test.Logger\"Name");
        LoggingEvent event = new LoggingEvent(Logger.class.getName(), logger, Level.INFO, message, failure, null);
        event.setKeyValuePairs(new ArrayList<>());
        return event;
    }
}
