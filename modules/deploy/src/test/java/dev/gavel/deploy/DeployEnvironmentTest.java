package dev.gavel.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gavel.deploy.ManifestValidator.Manifest;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The image starts the node the way the contract asks (exec form, JVM flags, non-root, health check), and the
 * image, compose and every Kubernetes overlay give the node only variables it reads: the names are read at test
 * time from {@code GavelConfig.fromEnv}'s source, so a variable added or renamed there is seen here at once.
 */
class DeployEnvironmentTest {

    static final String CONFIG_SOURCE = "modules/server/src/main/java/dev/gavel/server/GavelConfig.java";

    /** env.get("X"), env.getOrDefault("X", ...), and helpers called as f(env, "X", ...). */
    private static final Pattern READ = Pattern.compile("env(?:\\.get(?:OrDefault)?\\(\\s*|\\s*,\\s*)\"([A-Z][A-Z0-9_]*)\"");

    static Set<String> knownVariables() {
        Set<String> known = new TreeSet<>();
        Matcher reads = READ.matcher(Repo.read(CONFIG_SOURCE));
        while (reads.find()) {
            known.add(reads.group(1));
        }
        // if the way GavelConfig reads its environment changes, this says so instead of finding no variable at all
        assertTrue(known.containsAll(Set.of("PORT", "REDIS_URL", "NODE_ID", "ADMIN_TOKEN", "NODE_TTL_MS")),
                "read from " + CONFIG_SOURCE + ": " + known);
        return known;
    }

    @Test
    void theImageSetsOnlyVariablesTheNodeReads() {
        Set<String> set = new TreeSet<>();
        for (String instruction : dockerfile()) {
            if (instruction.startsWith("ENV ")) {
                Matcher pairs = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=").matcher(instruction.substring(4));
                while (pairs.find()) {
                    set.add(pairs.group(1));
                }
            }
        }
        assertFalse(set.isEmpty());
        assertUnknownNone("Dockerfile", set);
    }

    @Test
    void composeGivesTheReplicasOnlyVariablesTheNodeReads() {
        JsonNode services = ComposeFileTest.resolved().path("services");
        Set<String> given = new TreeSet<>();
        services.fieldNames().forEachRemaining(name -> {
            if (services.path(name).path("image").asText().startsWith("gavel")) {
                given.addAll(ComposeFileTest.names(services.path(name).path("environment")));
            }
        });
        assertTrue(given.contains("NODE_ID"), given.toString());
        assertUnknownNone("docker-compose.yml", given);
    }

    @Test
    void everyOverlayGivesTheNodeOnlyVariablesItReads() {
        for (String overlay : KubernetesManifestsTest.overlays()) {
            List<Manifest> manifests = KubernetesManifestsTest.build(overlay);
            Container gavel = KubernetesManifestsTest.gavelContainer(manifests);
            Set<String> given = new TreeSet<>();
            gavel.getEnv().stream().map(EnvVar::getName).forEach(given::add);
            for (EnvFromSource from : gavel.getEnvFrom()) {
                assertTrue(from.getPrefix() == null || from.getPrefix().isEmpty(), overlay);
                String name = from.getConfigMapRef() != null ? from.getConfigMapRef().getName() : from.getSecretRef().getName();
                Manifest source = manifests.stream().filter(m -> m.name().equals(name)).findFirst()
                        .orElseThrow(() -> new AssertionError(overlay + ": envFrom " + name + " is not built by the overlay"));
                given.addAll(ComposeFileTest.names(source.json().path("data")));
            }
            assertTrue(given.containsAll(Set.of("NODE_ID", "ADMIN_TOKEN", "REDIS_URL")), overlay + ": " + given);
            assertUnknownNone(overlay, given);
        }
    }

    @Test
    void theImageRunsTheJvmAsPidOneWithTheContractsFlagsAsNonRoot() throws IOException {
        List<String> instructions = dockerfile();
        List<String> from = instructions.stream().filter(i -> i.startsWith("FROM ")).toList();
        assertEquals(2, from.size(), "a build stage and a runtime stage: " + from);
        assertTrue(from.get(0).matches("FROM maven:[^ ]*temurin-17 AS build"), from.get(0));
        assertEquals("FROM eclipse-temurin:17-jre", from.get(1));

        String entrypoint = last(instructions, "ENTRYPOINT ");
        assertTrue(entrypoint.startsWith("ENTRYPOINT ["), "exec form: the shell form runs the JVM under /bin/sh -c, "
                + "which does not pass SIGTERM on: " + entrypoint);
        List<String> command = List.of(new ObjectMapper().readValue(entrypoint.substring("ENTRYPOINT ".length()), String[].class));
        assertEquals("java", command.get(0), "exec form, the JVM itself as PID 1 so SIGTERM reaches it: " + command);
        // the options come from deploy/jvm.options, copied to /app/jvm.options (JvmOptionsTest): read as the JVM does
        List<String> expanded = new ArrayList<>();
        for (String argument : command) {
            if (argument.equals("@/app/jvm.options")) {
                expanded.addAll(JvmOptionsTest.shipped());
            } else {
                expanded.add(argument);
            }
        }
        command = expanded;
        assertTrue(command.contains("-XX:+ExitOnOutOfMemoryError"), command.toString());
        assertTrue(command.stream().anyMatch(a -> a.startsWith("-XX:MaxRAMPercentage=")), "heap from the container's limit: " + command);
        assertTrue(command.stream().noneMatch(a -> a.startsWith("-Xmx")), "a fixed heap ignores the container's limit: " + command);
        assertEquals(List.of("-jar", "/app/gavel.jar"), command.subList(command.size() - 2, command.size()));
        assertTrue(instructions.stream().noneMatch(i -> i.startsWith("CMD ")), "no CMD appended to the entrypoint");

        String jar = Repo.read("modules/server/pom.xml").contains("<finalName>gavel</finalName>") ? "gavel.jar" : "(no finalName gavel)";
        assertTrue(instructions.contains("COPY --from=build /src/modules/server/target/" + jar + " /app/gavel.jar"), instructions.toString());

        String user = last(instructions, "USER ").substring(5);
        assertTrue(user.matches("[1-9][0-9]*(:[1-9][0-9]*)?"), "a numeric non-root user (runAsNonRoot can check it): " + user);

        String health = last(instructions, "HEALTHCHECK ");
        assertTrue(health.contains("/health/ready") && health.contains("CMD [\""), health);
    }

    /** What the build stage copies must be in the context: in the repository and not excluded by .dockerignore. */
    @Test
    void theBuildContextHoldsWhatTheBuildStageCopies() {
        List<String> ignored = Repo.read(".dockerignore").lines().map(String::trim)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
        for (String instruction : dockerfile()) {
            if (instruction.startsWith("COPY ") && !instruction.startsWith("COPY --from")) {
                String[] parts = instruction.split("\\s+");
                for (int i = 1; i < parts.length - 1; i++) {
                    String source = parts[i].endsWith("/") ? parts[i].substring(0, parts[i].length() - 1) : parts[i];
                    assertTrue(java.nio.file.Files.exists(Repo.path(source)), instruction);
                    for (String pattern : ignored) {
                        String dir = pattern.endsWith("/") ? pattern.substring(0, pattern.length() - 1) : pattern;
                        assertFalse(!dir.contains("*") && (source.equals(dir) || source.startsWith(dir + "/")),
                                ".dockerignore's " + pattern + " hides " + source);
                    }
                }
            }
        }
    }

    private static void assertUnknownNone(String where, Set<String> given) {
        Set<String> unknown = new TreeSet<>(given);
        unknown.removeAll(knownVariables());
        assertEquals(Set.of(), unknown, where + " sets variables the node does not read (" + CONFIG_SOURCE + ")");
    }

    /** The Dockerfile's instructions, continuation lines joined, comments and parser directives left out. */
    static List<String> dockerfile() {
        List<String> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : Repo.read("Dockerfile").split("\n")) {
            String trimmed = line.trim();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.isEmpty())) {
                continue;
            }
            if (trimmed.endsWith("\\")) {
                current.append(trimmed, 0, trimmed.length() - 1).append(' ');
                continue;
            }
            current.append(trimmed);
            instructions.add(current.toString().replaceAll("\\s+", " ").trim());
            current.setLength(0);
        }
        return instructions;
    }

    private static String last(List<String> instructions, String prefix) {
        List<String> found = instructions.stream().filter(i -> i.startsWith(prefix)).toList();
        assertFalse(found.isEmpty(), "no " + prefix.trim() + " in the Dockerfile");
        return found.get(found.size() - 1);
    }
}
