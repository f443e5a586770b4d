package dev.gavel.testkit;

import dev.gavel.core.Backend;
import dev.gavel.redis.RedisBackend;
import dev.gavel.server.GavelNode;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.spi.ToolProvider;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The map of docs/design.md, kept true by the build: each package of the product may use only the packages below it
 * (read from the compiled classes by the JDK's {@code jdeps}), and the public types of each module are the ones listed
 * in {@code public-types.txt}, so that a type made public shows in review.
 */
class ArchitectureTest {

    /**
     * Each package and the packages it may use besides itself. Layers, from the bottom: the core's values and SPI; the
     * two backends and the audience pipeline; the node's operations; HTTP connections; the API, the pages and the
     * viewers' common path; the three transports; and the node that wires them.
     */
    private static final Map<String, List<String>> MAY_USE = Map.ofEntries(
            Map.entry("dev.gavel.core", List.of()),
            Map.entry("dev.gavel.core.memory", List.of("dev.gavel.core")),
            Map.entry("dev.gavel.core.audience", List.of("dev.gavel.core")),
            Map.entry("dev.gavel.redis", List.of("dev.gavel.core")),
            Map.entry("dev.gavel.server.ops.logging", List.of("dev.gavel.core")),
            Map.entry("dev.gavel.server.ops", List.of("dev.gavel.core", "dev.gavel.core.audience")),
            Map.entry("dev.gavel.server.http", List.of("dev.gavel.core", "dev.gavel.server.ops",
                    "dev.gavel.server.ops.logging")),
            // the API lists who is watching from the viewers' directory (WhoIsWatching)
            Map.entry("dev.gavel.server.api", List.of("dev.gavel.core", "dev.gavel.core.audience",
                    "dev.gavel.server.ops", "dev.gavel.server.http", "dev.gavel.server.viewers")),
            Map.entry("dev.gavel.server.pages", List.of("dev.gavel.core", "dev.gavel.server.http")),
            Map.entry("dev.gavel.server.viewers", List.of("dev.gavel.core", "dev.gavel.core.audience",
                    "dev.gavel.server.ops", "dev.gavel.server.http")),
            Map.entry("dev.gavel.server.viewers.ws", transport()),
            Map.entry("dev.gavel.server.viewers.sockjs", transport()),
            Map.entry("dev.gavel.server.viewers.socketio", transport()),
            Map.entry("dev.gavel.server", List.of("dev.gavel.core", "dev.gavel.core.memory", "dev.gavel.core.audience",
                    "dev.gavel.redis", "dev.gavel.server.ops", "dev.gavel.server.ops.logging", "dev.gavel.server.http",
                    "dev.gavel.server.api", "dev.gavel.server.pages", "dev.gavel.server.viewers",
                    "dev.gavel.server.viewers.ws", "dev.gavel.server.viewers.sockjs",
                    "dev.gavel.server.viewers.socketio")));

    private static List<String> transport() {
        return List.of("dev.gavel.core", "dev.gavel.core.audience", "dev.gavel.server.ops", "dev.gavel.server.http",
                "dev.gavel.server.viewers");
    }

    @Test
    void noPackageUsesOneAboveIt() {
        ToolProvider jdeps = ToolProvider.findFirst("jdeps").orElseThrow(() -> new AssertionError("no jdeps in this JDK"));
        StringWriter out = new StringWriter();
        List<String> args = new ArrayList<>(List.of("-verbose:package", "-filter:none"));
        classLocations().forEach(location -> args.add(location.toString()));
        int status = jdeps.run(new PrintWriter(out), new PrintWriter(new StringWriter()), args.toArray(String[]::new));
        assertEquals(0, status, out.toString());

        TreeSet<String> seen = new TreeSet<>();
        TreeSet<String> wrong = new TreeSet<>();
        for (String line : out.toString().split("\n")) {
            String[] words = line.trim().split("\\s+");
            if (words.length < 3 || !words[1].equals("->") || !words[0].startsWith("dev.gavel.")
                    || !words[2].startsWith("dev.gavel.")) {
                continue;
            }
            String from = words[0];
            String to = words[2];
            seen.add(from);
            List<String> allowed = MAY_USE.get(from);
            if (allowed == null) {
                wrong.add(from + " is not on the map (add it to MAY_USE and to docs/design.md)");
            } else if (!from.equals(to) && !allowed.contains(to)) {
                wrong.add(from + " -> " + to);
            }
        }
        assertTrue(seen.containsAll(List.of("dev.gavel.core.audience", "dev.gavel.server.viewers.socketio")),
                "jdeps read the classes: " + seen);
        assertTrue(wrong.isEmpty(), "dependencies against the map: " + wrong);
    }

    @Test
    void publicTypesAreTheListedOnes() throws Exception {
        TreeSet<String> actual = new TreeSet<>();
        for (Path location : classLocations()) {
            try (FileSystem jar = Files.isDirectory(location) ? null : FileSystems.newFileSystem(location);
                 Stream<Path> files = Files.walk(jar == null ? location : jar.getPath("/"))) {
                Path root = jar == null ? location : jar.getPath("/");
                for (Path file : (Iterable<Path>) files::iterator) {
                    String relative = root.relativize(file).toString();
                    if (!relative.startsWith("dev/gavel/")) {
                        continue;
                    }
                    if (!relative.endsWith(".class") || relative.contains("$") || relative.endsWith("package-info.class")) {
                        continue;
                    }
                    String name = relative.substring(0, relative.length() - ".class".length()).replace('/', '.');
                    Class<?> type = Class.forName(name, false, getClass().getClassLoader());
                    if (Modifier.isPublic(type.getModifiers())) {
                        actual.add(name);
                    }
                }
            }
        }
        Path listed = Path.of(getClass().getResource("/public-types.txt").toURI());
        TreeSet<String> expected = new TreeSet<>();
        for (String line : Files.readAllLines(listed, StandardCharsets.UTF_8)) {
            if (!line.isBlank() && !line.startsWith("#")) {
                expected.add(line.trim());
            }
        }
        TreeSet<String> added = new TreeSet<>(actual);
        added.removeAll(expected);
        TreeSet<String> gone = new TreeSet<>(expected);
        gone.removeAll(actual);
        assertTrue(added.isEmpty() && gone.isEmpty(), "public types changed: made public " + added + ", no longer public "
                + gone + "; if that is meant, update modules/testkit/src/test/resources/public-types.txt");
    }

    /** The compiled classes of core, redis and server, wherever the build put them (a directory or a jar). */
    private static List<Path> classLocations() {
        try {
            List<Path> locations = new ArrayList<>();
            for (Class<?> type : List.of(Backend.class, RedisBackend.class, GavelNode.class)) {
                locations.add(Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()));
            }
            return locations;
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
