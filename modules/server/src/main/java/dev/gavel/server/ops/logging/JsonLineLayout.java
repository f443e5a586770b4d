package dev.gavel.server.ops.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.LayoutBase;
import dev.gavel.core.Json;
import org.slf4j.event.KeyValuePair;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * One log event as one line of JSON: {@code timestamp} (ISO-8601 UTC, milliseconds), {@code level}, {@code logger},
 * {@code thread}, {@code node}, {@code message}, then the event's key-value pairs (such as {@code auction}) and MDC
 * entries, and for a failure {@code exception} ({@code class: message}) and {@code stackTrace} (the whole trace,
 * causes included, as one string). Every string is escaped, so any message gives one valid line.
 */
final class JsonLineLayout extends LayoutBase<ILoggingEvent> {

    static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);

    private final String node;

    JsonLineLayout(String node) {
        this.node = node;
    }

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder line = new StringBuilder(256);
        line.append("{\"timestamp\":\"").append(TIMESTAMP.format(Instant.ofEpochMilli(event.getTimeStamp())))
                .append("\",\"level\":\"").append(event.getLevel())
                .append("\",\"logger\":").append(Json.quote(event.getLoggerName()))
                .append(",\"thread\":").append(Json.quote(String.valueOf(event.getThreadName())))
                .append(",\"node\":").append(Json.quote(node))
                .append(",\"message\":").append(Json.quote(String.valueOf(event.getFormattedMessage())));
        if (event.getKeyValuePairs() != null) {
            for (KeyValuePair pair : event.getKeyValuePairs()) {
                field(line, pair.key, pair.value);
            }
        }
        for (Map.Entry<String, String> entry : event.getMDCPropertyMap().entrySet()) {
            field(line, entry.getKey(), entry.getValue());
        }
        IThrowableProxy failure = event.getThrowableProxy();
        if (failure != null) {
            field(line, "exception", failure.getClassName() + ": " + failure.getMessage());
            field(line, "stackTrace", ThrowableProxyUtil.asString(failure));
        }
        return line.append("}\n").toString();
    }

    private static void field(StringBuilder line, String key, Object value) {
        line.append(',').append(Json.quote(String.valueOf(key))).append(':').append(Json.quote(String.valueOf(value)));
    }
}
