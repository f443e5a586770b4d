package dev.gavel.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * docker-compose.yml validates with the real docker-compose (no engine needed for `config`), starts what the
 * issue asks in the right order, and hands nginx the same template that deploy/local/cluster.sh renders.
 */
class ComposeFileTest {

    static final String TEMPLATE = "deploy/nginx/gavel.conf.template";

    private static JsonNode resolved;

    /** `docker-compose config`: the file as Compose resolves it (anchors merged, variables interpolated). */
    static synchronized JsonNode resolved() {
        if (resolved == null) {
            resolved = resolve();
        }
        return resolved;
    }

    private static JsonNode resolve() {
        Repo.Run run = Repo.run(List.of("docker-compose", "-f", "docker-compose.yml", "config"));
        assertEquals(0, run.exit(), () -> "docker-compose config failed: " + run.err());
        try {
            return new YAMLMapper().readTree(run.out());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theComposeFileValidates() {
        Repo.Run run = Repo.run(List.of("docker-compose", "-f", "docker-compose.yml", "config", "-q"));
        assertEquals(0, run.exit(), run.err());
    }

    /** The check itself: a service with a misspelled key and a dependency on a service that does not exist. */
    @Test
    void aBrokenComposeFileIsRefused() {
        Repo.Run run = Repo.run(List.of("docker-compose", "-f", "modules/deploy/src/test/resources/broken-compose.yml", "config", "-q"));
        assertNotEquals(0, run.exit(), "docker-compose accepted the broken file");
        assertTrue(run.err().contains("healthchek"), run.err());
    }

    @Test
    void redisThreeReplicasAndNginxStartInOrderOfHealth() {
        JsonNode services = resolved().path("services");
        assertEquals(Set.of("redis", "gavel-0", "gavel-1", "gavel-2", "nginx", "prometheus"), names(services));
        assertTrue(services.path("redis").path("image").asText().startsWith("redis:7"));
        Set<String> nodeIds = new TreeSet<>();
        for (String replica : List.of("gavel-0", "gavel-1", "gavel-2")) {
            JsonNode service = services.path(replica);
            nodeIds.add(service.path("environment").path("NODE_ID").asText());
            assertEquals("service_healthy", service.path("depends_on").path("redis").path("condition").asText(), replica);
            assertEquals("service_healthy", services.path("nginx").path("depends_on").path(replica).path("condition").asText());
        }
        assertEquals(Set.of("gavel-0", "gavel-1", "gavel-2"), nodeIds, "a fixed NODE_ID per replica");
        assertTrue(services.path("redis").has("healthcheck"));
        assertTrue(services.path("nginx").has("healthcheck"));
        assertTrue(services.path("nginx").path("ports").toString().contains("8080"));
    }

    /**
     * Behind nginx, every replica trusts exactly nginx's fixed address to name the client, serves /metrics on its
     * management port, which is not published, and Prometheus scrapes that port (deploy/prometheus/prometheus.yml);
     * the template sends the client in X-Forwarded-For and never proxies /metrics; cluster.sh does the same locally.
     */
    @Test
    void theReplicasTrustOnlyNginxAndServeMetricsOnlyOnTheirManagementPort() throws IOException {
        JsonNode services = resolved().path("services");
        String nginxAddress = services.path("nginx").path("networks").path("gavel").path("ipv4_address").asText();
        assertFalse(nginxAddress.isEmpty(), services.path("nginx").toString());
        Set<String> targets = new TreeSet<>();
        for (String replica : List.of("gavel-0", "gavel-1", "gavel-2")) {
            JsonNode service = services.path(replica);
            assertEquals(nginxAddress, service.path("environment").path("TRUSTED_PROXIES").asText(), replica);
            String management = service.path("environment").path("MANAGEMENT_PORT").asText();
            assertEquals("9090", management, replica);
            assertTrue(service.path("ports").isMissingNode() || service.path("ports").isEmpty(), replica + " publishes no port");
            targets.add(replica + ":" + management);
        }
        JsonNode prometheus = new YAMLMapper().readTree(Repo.read("deploy/prometheus/prometheus.yml"));
        JsonNode job = prometheus.path("scrape_configs").path(0);
        assertEquals("gavel", job.path("job_name").asText());
        Set<String> scraped = new TreeSet<>();
        job.path("static_configs").path(0).path("targets").forEach(t -> scraped.add(t.asText()));
        assertEquals(targets, scraped);

        String template = Repo.read(TEMPLATE);
        assertTrue(template.contains("proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"), TEMPLATE);
        assertTrue(Pattern.compile("location = /metrics \\{\\s*return 404;").matcher(template).find(), TEMPLATE);
        String cluster = Repo.read("deploy/local/cluster.sh");
        assertTrue(cluster.contains("MANAGEMENT_PORT=\"$management\"") && cluster.contains("TRUSTED_PROXIES=\"$trusted_proxies\""),
                "cluster.sh gives its replicas a management port and trusts its nginx");
    }

    /** The same nginx file for compose and the local cluster, with every variable it needs given by both. */
    @Test
    void composeAndTheLocalClusterRenderTheSameNginxTemplate() {
        Set<String> needed = new TreeSet<>();
        Matcher variables = Pattern.compile("\\$\\{(GAVEL_[A-Z_]+)}").matcher(Repo.read(TEMPLATE));
        while (variables.find()) {
            needed.add(variables.group(1));
        }
        assertEquals(Set.of("GAVEL_LISTEN", "GAVEL_SERVERS", "GAVEL_NODE_UPSTREAMS", "GAVEL_NODE_MAP"), needed);

        JsonNode nginx = resolved().path("services").path("nginx");
        assertTrue(nginx.path("volumes").toString().contains(TEMPLATE.substring(TEMPLATE.lastIndexOf('/') + 1))
                && nginx.path("volumes").toString().contains("/etc/nginx/templates/"), nginx.path("volumes").toString());
        assertTrue(names(nginx.path("environment")).containsAll(needed), nginx.path("environment").toString());

        String cluster = Repo.read("deploy/local/cluster.sh");
        assertTrue(cluster.contains("$root/" + TEMPLATE), "cluster.sh renders " + TEMPLATE);
        for (String variable : needed) {
            assertTrue(cluster.contains("'${" + variable) || cluster.contains(" ${" + variable + "}"),
                    "cluster.sh substitutes " + variable);
        }
    }

    static Set<String> names(JsonNode object) {
        Set<String> names = new TreeSet<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
