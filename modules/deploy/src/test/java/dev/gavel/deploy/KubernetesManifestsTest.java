package dev.gavel.deploy;

import dev.gavel.deploy.ManifestValidator.Manifest;
import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.TopologySpreadConstraint;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every manifest that each overlay under k8s/overlays builds (with the real kustomize inside kubectl) is valid
 * Kubernetes, unknown fields refused; and the Gavel Deployment keeps the promises docs/deploy.md makes.
 */
class KubernetesManifestsTest {

    /** The node's drain on SIGTERM (issue 9: DRAIN_MS, default 5 s) that the grace period must cover. */
    private static final int DRAIN_SECONDS = 5;
    /** Room after preStop and drain for the node's own stop (Redis entries removed, JVM exit). */
    private static final int STOP_MARGIN_SECONDS = 10;

    /** Finding the model's classes takes seconds: one validator, and one build per overlay, for all tests. */
    private static final ManifestValidator VALIDATOR = new ManifestValidator();
    private static final Map<String, List<Manifest>> BUILDS = new ConcurrentHashMap<>();

    static List<String> overlays() {
        try (Stream<Path> dirs = Files.list(Repo.path("k8s/overlays"))) {
            return dirs.filter(Files::isDirectory).map(d -> "k8s/overlays/" + d.getFileName()).sorted().toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** kubectl kustomize DIR, as `kubectl apply -k DIR` would build it. */
    static List<Manifest> build(String dir) {
        return BUILDS.computeIfAbsent(dir, KubernetesManifestsTest::kustomize);
    }

    private static List<Manifest> kustomize(String dir) {
        Repo.Run run = Repo.run(List.of("kubectl", "kustomize", dir));
        assertEquals(0, run.exit(), () -> "kubectl kustomize " + dir + " failed: " + run.err());
        return ManifestValidator.parse(run.out());
    }

    @Test
    void everyOverlayBuildsOnlyValidKubernetesObjects() {
        assertEquals(List.of("k8s/overlays/dev", "k8s/overlays/prod"), overlays());
        for (String overlay : overlays()) {
            List<Manifest> manifests = build(overlay);
            List<String> problems = new ArrayList<>();
            for (Manifest manifest : manifests) {
                try {
                    VALIDATOR.validate(manifest);
                } catch (IllegalArgumentException e) {
                    problems.add(e.getMessage());
                }
            }
            assertEquals(List.of(), problems, overlay);
            Set<String> kinds = manifests.stream().map(Manifest::kind).collect(Collectors.toSet());
            assertTrue(kinds.containsAll(Set.of("Namespace", "Deployment", "Service", "Ingress", "HorizontalPodAutoscaler",
                    "PodDisruptionBudget", "ConfigMap")), overlay + " builds " + kinds);
        }
        Set<String> prod = build("k8s/overlays/prod").stream().map(Manifest::toString).collect(Collectors.toSet());
        assertTrue(prod.containsAll(Set.of("NetworkPolicy/gavel", "ServiceMonitor/gavel", "PrometheusRule/gavel")), prod.toString());
    }

    /**
     * The Gateway API component, applied on top of prod (in prod's namespace, as uncommenting it in prod's
     * kustomization does): an HTTPRoute that is
     * valid (fabric8's Gateway API model, unknown fields refused) replaces the Ingress, routes the public port only, and
     * keeps viewer connections open (no timeout) and sessions on their pod (a cookie).
     */
    @Test
    void theGatewayApiComponentReplacesTheIngressWithAnHttpRouteOfTheSameSettings() throws IOException {
        Path overlay = Repo.path("modules/deploy/target/prod-with-gateway-api");
        Files.createDirectories(overlay);
        Path k8s = overlay.relativize(Repo.path("k8s"));
        Files.writeString(overlay.resolve("kustomization.yaml"), "apiVersion: kustomize.config.k8s.io/v1beta1\n"
                + "kind: Kustomization\nnamespace: gavel\nresources:\n  - " + k8s.resolve("overlays/prod") + "\ncomponents:\n  - "
                + k8s.resolve("components/gateway-api") + "\n");
        List<Manifest> manifests = build("modules/deploy/target/prod-with-gateway-api");
        assertTrue(manifests.stream().noneMatch(m -> m.kind().equals("Ingress")), manifests.toString());
        HTTPRoute route = (HTTPRoute) VALIDATOR.validate(only(manifests, "HTTPRoute", "gavel"));
        assertEquals("gavel", route.getMetadata().getNamespace());
        HTTPRouteRule rule = route.getSpec().getRules().get(0);
        assertEquals("gavel", rule.getBackendRefs().get(0).getName());
        int publicPort = servicePort(manifests, "http");
        assertEquals(publicPort, rule.getBackendRefs().get(0).getPort(), "the public port, never the management port");
        assertEquals("0s", rule.getTimeouts().getRequest());
        assertEquals("0s", rule.getTimeouts().getBackendRequest());
        assertEquals("Cookie", rule.getSessionPersistence().getType());
    }

    /**
     * Every pod is scraped, and probed, on its management port, which neither the Ingress nor anything public routes;
     * the ServiceMonitor (prod) and the pod annotations name that port; every overlay says which proxies may name the
     * client; and prod's NetworkPolicy lets in only the ingress controller (public port) and Prometheus (management port)
     * and lets out only Redis and DNS.
     */
    @Test
    void metricsAndProbesAreOnTheManagementPortAndOnlyTheIngressControllerReachesThePublicOne() {
        for (String overlay : overlays()) {
            List<Manifest> manifests = build(overlay);
            Container gavel = gavelContainer(manifests);
            int management = gavel.getPorts().stream().filter(p -> "management".equals(p.getName())).findFirst()
                    .orElseThrow(() -> new AssertionError(overlay + ": no container port named management")).getContainerPort();
            Map<String, String> config = configMap(manifests, "gavel-config");
            assertEquals(String.valueOf(management), config.get("MANAGEMENT_PORT"), overlay);
            assertTrue(config.containsKey("TRUSTED_PROXIES") && !config.get("TRUSTED_PROXIES").isBlank(), overlay + ": " + config);
            for (var probe : List.of(gavel.getStartupProbe(), gavel.getLivenessProbe(), gavel.getReadinessProbe())) {
                assertEquals("management", probe.getHttpGet().getPort().getStrVal(), overlay);
            }
            Deployment deployment = (Deployment) VALIDATOR.validate(only(manifests, "Deployment", "gavel"));
            assertEquals(String.valueOf(management),
                    deployment.getSpec().getTemplate().getMetadata().getAnnotations().get("prometheus.io/port"), overlay);
            Ingress ingress = (Ingress) VALIDATOR.validate(only(manifests, "Ingress", "gavel"));
            ingress.getSpec().getRules().forEach(r -> r.getHttp().getPaths().forEach(path ->
                    assertEquals("http", path.getBackend().getService().getPort().getName(), overlay + ": the Ingress routes the public port only")));
        }

        List<Manifest> prod = build("k8s/overlays/prod");
        JsonNode monitor = only(prod, "ServiceMonitor", "gavel").json();
        assertEquals("management", monitor.path("spec").path("endpoints").path(0).path("port").asText());
        assertEquals("/metrics", monitor.path("spec").path("endpoints").path(0).path("path").asText());
        servicePort(prod, "management");

        NetworkPolicy policy = (NetworkPolicy) VALIDATOR.validate(only(prod, "NetworkPolicy", "gavel"));
        assertEquals("gavel", policy.getSpec().getPodSelector().getMatchLabels().get("app.kubernetes.io/name"));
        assertEquals(List.of("Ingress", "Egress"), policy.getSpec().getPolicyTypes());
        Map<String, Set<Integer>> in = new java.util.TreeMap<>();
        policy.getSpec().getIngress().forEach(rule -> rule.getFrom().forEach(peer -> in.computeIfAbsent(
                peer.getNamespaceSelector().getMatchLabels().get("kubernetes.io/metadata.name"), n -> new java.util.TreeSet<>())
                .addAll(rule.getPorts().stream().map(p -> p.getPort().getIntVal()).toList())));
        assertEquals(Map.of("ingress-nginx", Set.of(8080), "monitoring", Set.of(9090)), in);
        Set<Integer> out = policy.getSpec().getEgress().stream().flatMap(rule -> rule.getPorts().stream())
                .map(p -> p.getPort().getIntVal()).collect(Collectors.toSet());
        assertEquals(Set.of(6379, 26379, 53), out);
    }

    private static int servicePort(List<Manifest> manifests, String name) {
        Service service = (Service) VALIDATOR.validate(only(manifests, "Service", "gavel"));
        return service.getSpec().getPorts().stream().filter(p -> name.equals(p.getName())).findFirst()
                .orElseThrow(() -> new AssertionError("Service/gavel has no port " + name)).getPort();
    }

    private static Map<String, String> configMap(List<Manifest> manifests, String prefix) {
        List<Manifest> found = manifests.stream().filter(m -> m.kind().equals("ConfigMap") && m.name().startsWith(prefix)).toList();
        assertEquals(1, found.size(), found::toString);
        return ((ConfigMap) VALIDATOR.validate(found.get(0))).getData();
    }

    @Test
    void devRunsItsOwnRedisThatOnlyGavelReachesAndProdTakesSecretsFromOutside() {
        Set<String> dev = build("k8s/overlays/dev").stream().map(Manifest::toString).collect(Collectors.toSet());
        assertTrue(dev.containsAll(Set.of("StatefulSet/gavel-redis", "Service/gavel-redis", "NetworkPolicy/gavel-redis")), dev.toString());
        assertTrue(dev.stream().anyMatch(m -> m.startsWith("Secret/gavel-admin")), "dev generates its admin token: " + dev);

        List<Manifest> prod = build("k8s/overlays/prod");
        assertTrue(prod.stream().noneMatch(m -> m.kind().equals("Secret") || m.kind().equals("StatefulSet")), prod.toString());
        Container gavel = gavelContainer(prod);
        assertEquals("gavel-redis", env(gavel, "REDIS_URL").getValueFrom().getSecretKeyRef().getName());
        assertEquals("gavel-admin", env(gavel, "ADMIN_TOKEN").getValueFrom().getSecretKeyRef().getName());
    }

    @Test
    void theGavelDeploymentRollsOneReplicaAtATimeAndStopsWithinItsGracePeriod() {
        for (String overlay : overlays()) {
            List<Manifest> manifests = build(overlay);
            Deployment deployment = (Deployment) VALIDATOR.validate(only(manifests, "Deployment", "gavel"));
            PodSpec pod = deployment.getSpec().getTemplate().getSpec();
            Container gavel = gavelContainer(manifests);

            // the HorizontalPodAutoscaler owns the count: a `replicas` would reset it on every apply
            assertNull(deployment.getSpec().getReplicas(), overlay + ": no replicas beside the HorizontalPodAutoscaler");
            HorizontalPodAutoscaler hpa = (HorizontalPodAutoscaler) VALIDATOR.validate(only(manifests, "HorizontalPodAutoscaler", "gavel"));
            assertEquals("gavel", hpa.getSpec().getScaleTargetRef().getName(), overlay);
            assertEquals(3, hpa.getSpec().getMinReplicas(), overlay);
            assertEquals(1, deployment.getSpec().getStrategy().getRollingUpdate().getMaxUnavailable().getIntVal(), overlay);
            assertEquals(1, deployment.getSpec().getStrategy().getRollingUpdate().getMaxSurge().getIntVal(), overlay);

            List<String> preStop = gavel.getLifecycle().getPreStop().getExec().getCommand();
            assertEquals("sleep", preStop.get(0), overlay);
            int pause = Integer.parseInt(preStop.get(1));
            assertTrue(pause >= 3, overlay + ": a preStop pause of a few seconds, got " + pause);
            assertTrue(pod.getTerminationGracePeriodSeconds() >= pause + DRAIN_SECONDS + STOP_MARGIN_SECONDS,
                    overlay + ": grace " + pod.getTerminationGracePeriodSeconds() + " s must cover preStop " + pause
                            + " s + drain " + DRAIN_SECONDS + " s + margin " + STOP_MARGIN_SECONDS + " s");

            assertEquals("/health/ready", gavel.getReadinessProbe().getHttpGet().getPath(), overlay);
            assertEquals("/health/live", gavel.getLivenessProbe().getHttpGet().getPath(), overlay);
            assertEquals("metadata.name", env(gavel, "NODE_ID").getValueFrom().getFieldRef().getFieldPath(), overlay);

            assertEquals(gavel.getResources().getRequests().get("memory"), gavel.getResources().getLimits().get("memory"),
                    overlay + ": the JVM's heap is a share of the memory limit; requests = limits keeps it");
            assertTrue(gavel.getResources().getLimits().containsKey("cpu"), overlay + ": event loops follow the CPU limit");

            Map<String, String> annotations = deployment.getSpec().getTemplate().getMetadata().getAnnotations();
            assertEquals("true", annotations.get("prometheus.io/scrape"), overlay);
            assertEquals("/metrics", annotations.get("prometheus.io/path"), overlay);

            Set<String> spread = pod.getTopologySpreadConstraints().stream()
                    .filter(c -> c.getMaxSkew() == 1).map(TopologySpreadConstraint::getTopologyKey).collect(Collectors.toSet());
            assertEquals(Set.of("kubernetes.io/hostname", "topology.kubernetes.io/zone"), spread, overlay);
        }
    }

    @Test
    void everyPodRunsLockedDown() {
        for (String overlay : overlays()) {
            for (Manifest manifest : build(overlay)) {
                HasMetadata resource = VALIDATOR.validate(manifest);
                PodSpec pod = resource instanceof Deployment d ? d.getSpec().getTemplate().getSpec()
                        : resource instanceof io.fabric8.kubernetes.api.model.apps.StatefulSet s ? s.getSpec().getTemplate().getSpec()
                        : null;
                if (pod == null) {
                    continue;
                }
                String where = overlay + " " + manifest;
                assertTrue(pod.getSecurityContext().getRunAsNonRoot(), where);
                assertEquals("RuntimeDefault", pod.getSecurityContext().getSeccompProfile().getType(), where);
                assertFalse(pod.getAutomountServiceAccountToken(), where);
                for (Container container : pod.getContainers()) {
                    var security = container.getSecurityContext();
                    assertTrue(security.getReadOnlyRootFilesystem(), where);
                    assertFalse(security.getAllowPrivilegeEscalation(), where);
                    assertEquals(List.of("ALL"), security.getCapabilities().getDrop(), where);
                    // read-only mounts (a Secret: Redis's ACL file) may be anything; what is writable is an emptyDir
                    assertTrue(container.getVolumeMounts().stream().allMatch(m -> Boolean.TRUE.equals(m.getReadOnly())
                            || pod.getVolumes().stream().anyMatch(v -> v.getName().equals(m.getName()) && v.getEmptyDir() != null)),
                            where + ": writable dirs are emptyDirs");
                }
            }
            Deployment deployment = (Deployment) VALIDATOR.validate(only(build(overlay), "Deployment", "gavel"));
            assertTrue(deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getVolumeMounts().stream()
                    .anyMatch(m -> m.getMountPath().equals("/tmp")), overlay + ": the JVM needs a writable /tmp");
        }
    }

    @Test
    void theIngressKeepsViewerConnectionsForAnHourAndSessionsOnTheirPod() {
        for (String overlay : overlays()) {
            Ingress ingress = (Ingress) VALIDATOR.validate(only(build(overlay), "Ingress", "gavel"));
            Map<String, String> annotations = ingress.getMetadata().getAnnotations();
            assertEquals("3600", annotations.get("nginx.ingress.kubernetes.io/proxy-read-timeout"), overlay);
            assertEquals("3600", annotations.get("nginx.ingress.kubernetes.io/proxy-send-timeout"), overlay);
            assertEquals("cookie", annotations.get("nginx.ingress.kubernetes.io/affinity"), overlay);
        }
    }

    /** The check itself: each object in the fixture breaks one rule, and each must be refused naming it. */
    @Test
    void brokenManifestsAreRefused() {
        List<Manifest> broken = build("modules/deploy/src/test/resources/broken-k8s");
        assertEquals(8, broken.size());
        for (Manifest manifest : broken) {
            String expected = manifest.json().path("metadata").path("annotations").path("gavel.dev/expect").asText();
            try {
                VALIDATOR.validate(manifest);
                fail(manifest + " passed; expected a refusal naming " + expected);
            } catch (IllegalArgumentException e) {
                assertTrue(e.getMessage().contains(expected), "refusal of " + manifest + " should name " + expected + ": " + e.getMessage());
            }
        }
    }

    static Container gavelContainer(List<Manifest> manifests) {
        Deployment deployment = (Deployment) VALIDATOR.validate(only(manifests, "Deployment", "gavel"));
        return deployment.getSpec().getTemplate().getSpec().getContainers().stream()
                .filter(c -> c.getName().equals("gavel")).findFirst().orElseThrow();
    }

    static Manifest only(List<Manifest> manifests, String kind, String name) {
        List<Manifest> found = manifests.stream().filter(m -> m.kind().equals(kind) && m.name().equals(name)).toList();
        assertEquals(1, found.size(), () -> "one " + kind + "/" + name + " in " + manifests);
        return found.get(0);
    }

    private static EnvVar env(Container container, String name) {
        return container.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(container.getName() + " has no " + name + ": " + container.getEnv()));
    }
}
