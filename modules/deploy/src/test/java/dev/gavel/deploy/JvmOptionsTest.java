package dev.gavel.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gavel.deploy.ManifestValidator.Manifest;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One set of JVM options, {@code deploy/jvm.options}, and every way of starting a node runs with it: the README's
 * commands, the image's ENTRYPOINT (compose and Kubernetes keep it), {@code deploy/local/cluster.sh}, and the
 * benchmarks, so that the memory and latency they report are those of what users run.
 */
class JvmOptionsTest {

    static final String FILE = "deploy/jvm.options";
    /** Variables through which the JVM would take options from outside the file. */
    private static final Set<String> JVM_VARIABLES = Set.of("JAVA_TOOL_OPTIONS", "JDK_JAVA_OPTIONS", "_JAVA_OPTIONS", "JAVA_OPTS");

    /** The file as the java launcher reads an @argfile: '#' starts a comment, whitespace separates options. */
    static List<String> shipped() {
        List<String> options = new ArrayList<>();
        for (String line : Repo.read(FILE).split("\n")) {
            int hash = line.indexOf('#');
            String content = hash < 0 ? line : line.substring(0, hash);
            Arrays.stream(content.trim().split("\\s+")).filter(s -> !s.isEmpty()).forEach(options::add);
        }
        return options;
    }

    @Test
    void theJvmTakesTheShippedOptions() {
        List<String> options = shipped();
        assertTrue(options.contains("-XX:+ExitOnOutOfMemoryError"), options.toString());
        assertTrue(options.stream().anyMatch(o -> o.startsWith("-XX:MaxRAMPercentage=")), "heap ceiling from the container's limit: " + options);
        assertTrue(options.stream().noneMatch(o -> o.startsWith("-Xmx")), "a fixed heap ignores the container's limit: " + options);

        // the real launcher reads the real file: a misspelt or conflicting option fails here, not in production
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Repo.Run run = Repo.run(List.of(java, "@" + FILE, "-XX:+PrintFlagsFinal", "-version"));
        assertEquals(0, run.exit(), run.err());
        assertTrue(flag(run.out(), "UseSerialGC").equals("true"), "the serial collector (docs/deploy.md, JVM options)");
        assertEquals("true", flag(run.out(), "ExitOnOutOfMemoryError"));
        assertEquals("20", flag(run.out(), "MaxHeapFreeRatio"), "the old generation given back when a fifth of it is free");
    }

    @Test
    void theReadmeRunsTheNodeWithThem() {
        List<String> runs = Repo.read("README.md").lines().filter(l -> l.contains("-jar modules/server/target/gavel.jar")).toList();
        assertFalse(runs.isEmpty(), "the README shows how to run the node");
        for (String line : runs) {
            assertTrue(line.contains("java @" + FILE + " -jar modules/server/target/gavel.jar"), line);
        }
    }

    @Test
    void theImageRunsTheNodeWithThem() throws Exception {
        List<String> instructions = DeployEnvironmentTest.dockerfile();
        assertTrue(instructions.contains("COPY " + FILE + " /app/jvm.options"), instructions.toString());
        String entrypoint = instructions.stream().filter(i -> i.startsWith("ENTRYPOINT ")).reduce((a, b) -> b).orElseThrow();
        List<String> command = List.of(new ObjectMapper().readValue(entrypoint.substring("ENTRYPOINT ".length()), String[].class));
        assertEquals(List.of("java", "@/app/jvm.options", "-jar", "/app/gavel.jar"), command,
                "every option in the file, none beside it: " + command);
    }

    @Test
    void composeAndEveryOverlayKeepTheImagesCommandAndOptions() {
        JsonNode services = ComposeFileTest.resolved().path("services");
        services.fieldNames().forEachRemaining(name -> {
            JsonNode service = services.path(name);
            if (service.path("image").asText().startsWith("gavel")) {
                assertTrue(service.path("entrypoint").isMissingNode() || service.path("entrypoint").isNull(), name + ": entrypoint replaced");
                assertTrue(service.path("command").isMissingNode() || service.path("command").isNull(), name + ": command replaced");
                Set<String> jvm = new TreeSet<>(ComposeFileTest.names(service.path("environment")));
                jvm.retainAll(JVM_VARIABLES);
                assertTrue(jvm.isEmpty(), name + " sets JVM options beside " + FILE + ": " + jvm);
            }
        });
        for (String overlay : KubernetesManifestsTest.overlays()) {
            List<Manifest> manifests = KubernetesManifestsTest.build(overlay);
            Container gavel = KubernetesManifestsTest.gavelContainer(manifests);
            assertTrue(gavel.getCommand().isEmpty() && gavel.getArgs().isEmpty(), overlay + ": the image's ENTRYPOINT replaced");
            Set<String> given = new TreeSet<>();
            gavel.getEnv().stream().map(EnvVar::getName).forEach(given::add);
            for (EnvFromSource from : gavel.getEnvFrom()) {
                String source = from.getConfigMapRef() != null ? from.getConfigMapRef().getName() : from.getSecretRef().getName();
                manifests.stream().filter(m -> m.name().equals(source))
                        .forEach(m -> given.addAll(ComposeFileTest.names(m.json().path("data"))));
            }
            given.retainAll(JVM_VARIABLES);
            assertTrue(given.isEmpty(), overlay + " sets JVM options beside " + FILE + ": " + given);
        }
    }

    @Test
    void theLocalClusterRunsItsReplicasWithThem() {
        List<String> runs = Repo.read("deploy/local/cluster.sh").lines().filter(l -> l.contains("-jar \"$jar\"")).toList();
        assertEquals(1, runs.size(), runs.toString());
        assertTrue(runs.get(0).trim().startsWith("java @\"$root/" + FILE + "\" "), runs.get(0));
    }

    @Test
    void theBenchmarksStartNodesWithThem() {
        String context = Repo.read("modules/bench/src/main/java/dev/gavel/bench/Context.java");
        assertTrue(context.contains("SHIPPED_JVM_OPTIONS = \"" + FILE + "\""), "modules/bench's default options file");
        assertTrue(context.contains("jvm.add(\"@\" + path)"), "passed to the node's java as an @argfile");
    }

    private static String flag(String flags, String name) {
        Matcher m = Pattern.compile("\\s" + name + "\\s+=\\s+(\\S+)").matcher(flags);
        assertTrue(m.find(), name + " not in -XX:+PrintFlagsFinal");
        return m.group(1);
    }
}
