package dev.gavel.server;

import dev.gavel.server.ops.logging.LogOutput;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.TimeUnit;

/** Reads the configuration from the environment and runs one node until the process is told to stop. */
public final class Main {

    private static final Logger LOG = LoggerFactory.getLogger(Main.class);
    /** SIGTERM must end the process within {@code DRAIN_MS} + 5 s; the drain and the cleanup get all but 1 s of it. */
    private static final long STOP_MARGIN_MILLIS = 4000;

    private Main() {
    }

    public static void main(String[] args) {
        GavelConfig config;
        try {
            config = GavelConfig.fromEnv(System.getenv());
        } catch (ConfigException e) {
            System.err.println("gavel: bad configuration: " + e.getMessage());
            System.exit(2);
            return;
        }
        LogOutput.use(config.logFormat(), config.nodeId());
        if (config.adminTokenGenerated()) {
            LOG.info("ADMIN_TOKEN not set; generated admin token for this run: {}", config.adminToken());
        }
        GavelNode node;
        try {
            node = GavelNode.start(config).await(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOG.error("Could not start: {}", e.toString());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.stop().await(config.drainMillis() + STOP_MARGIN_MILLIS, TimeUnit.MILLISECONDS);
            } catch (Exception e) {
                LOG.warn("Did not stop cleanly: {}", e.toString());
            }
        }, "gavel-shutdown"));
    }
}
