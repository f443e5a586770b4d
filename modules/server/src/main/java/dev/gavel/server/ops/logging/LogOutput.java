package dev.gavel.server.ops.logging;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.LayoutBase;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * Where and how the node logs: every line (Gavel's, Vert.x's and Netty's, all through SLF4J) to standard output at
 * INFO, as text or JSON lines (see {@link LogFormat}). Logback finds this class as its configurator (registered in
 * {@code META-INF/services}), so the text format holds from the first line of any JVM that has the server on its
 * class path; {@code Main} then switches to the configured format and node id before it logs anything.
 */
public final class LogOutput extends ContextAwareBase implements Configurator {

    /** The node field of lines logged before a node id is known (and in JVMs that run several nodes, as tests do). */
    private static final String NO_NODE = "-";

    /** For Logback's service loader. */
    public LogOutput() {
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        install(context, LogFormat.TEXT, NO_NODE);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /** Writes every line from now on in {@code format}, naming {@code node}. */
    public static void use(LogFormat format, String node) {
        if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
            context.reset();
            install(context, format, node);
        }
    }

    private static void install(LoggerContext context, LogFormat format, String node) {
        LayoutBase<ILoggingEvent> layout = format == LogFormat.JSON ? new JsonLineLayout(node) : textLayout(node);
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setCharset(StandardCharsets.UTF_8);
        encoder.setLayout(layout);
        encoder.start();
        ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
        console.setContext(context);
        console.setName("stdout");
        console.setEncoder(encoder);
        console.start();
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.INFO);
        root.addAppender(console);
    }

    /**
     * ISO-8601 UTC time with milliseconds, level, logger's class name, node, message with its key-value pairs (such as
     * {@code auction}). Line breaks in a message are replaced, so that a client's input cannot forge a line.
     */
    private static PatternLayout textLayout(String node) {
        PatternLayout layout = new PatternLayout();
        // node ids are [A-Za-z0-9_.:-]: nothing in them means anything to the pattern
        layout.setPattern("%d{yyyy-MM-dd'T'HH:mm:ss.SSS'Z',UTC} %-5level %logger{0} [" + node + "] "
                + "%replace(%replace(%msg %kvp){'[\\r\\n]+', ' '}){'\\s+$', ''}%n");
        return layout;
    }
}
