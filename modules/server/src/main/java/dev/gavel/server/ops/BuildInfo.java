package dev.gavel.server.ops;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Which build of Gavel runs: the project's version and the git commit it was built from, written into the jar by
 * the build ({@code build.properties}, see modules/server/pom.xml); "unknown" where the build could not tell (a
 * build from a source tree without git, or classes run outside the jar's build).
 */
record BuildInfo(String version, String commit) {

    private static final String UNKNOWN = "unknown";

    static BuildInfo load() {
        Properties properties = new Properties();
        try (InputStream in = BuildInfo.class.getResourceAsStream("/dev/gavel/server/build.properties")) {
            if (in != null) {
                properties.load(in);
            }
        } catch (IOException e) {
            // an unreadable resource is the same as none: the build is unknown
        }
        return new BuildInfo(value(properties, "version"), value(properties, "commit"));
    }

    private static String value(Properties properties, String key) {
        String value = properties.getProperty(key, "").trim();
        return value.isEmpty() ? UNKNOWN : value;
    }
}
