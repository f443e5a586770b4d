package dev.gavel.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.KubernetesResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Validates Kubernetes manifests offline against fabric8's model of the Kubernetes API (generated from the API's
 * OpenAPI schemas): the kind must exist at its apiVersion, every field must exist where it is written, and every
 * value must have the field's type. fabric8 keeps fields it does not know in {@code additionalProperties}
 * instead of failing, so the check walks the whole object and refuses any non-empty one: unknown fields are
 * rejected, as {@code kubectl apply --validate=strict} would.
 *
 * <p>The Prometheus Operator's kinds ({@code ServiceMonitor}, {@code PrometheusRule}, group
 * {@code monitoring.coreos.com}) are custom resources with no model in fabric8's Kubernetes client and no schema
 * available offline: they are checked structurally instead ({@link #validateMonitoring}), against the fields Gavel's
 * manifests may use, written out from the operator's CRDs (v1). That catches a misspelt or misplaced field and a value
 * of the wrong shape, not every rule the operator's admission webhook would apply.
 */
final class ManifestValidator {

    private static final YAMLMapper YAML = new YAMLMapper();

    private final KubernetesSerialization serialization;

    ManifestValidator() {
        ObjectMapper strict = new ObjectMapper();
        // the API server refuses "3" for an integer and "true" for a boolean; Jackson would accept them
        for (LogicalType type : List.of(LogicalType.Integer, LogicalType.Float, LogicalType.Boolean)) {
            strict.coercionConfigFor(type).setCoercion(CoercionInputShape.String, CoercionAction.Fail);
        }
        strict.coercionConfigFor(LogicalType.Textual).setCoercion(CoercionInputShape.Integer, CoercionAction.Fail);
        this.serialization = new KubernetesSerialization(strict, true);
    }

    /** One object of a multi-document YAML stream, as built. */
    record Manifest(String kind, String name, JsonNode json) {
        @Override
        public String toString() {
            return kind + "/" + name;
        }
    }

    static List<Manifest> parse(String yaml) {
        List<Manifest> manifests = new ArrayList<>();
        try (var parser = new YAMLFactory().createParser(yaml)) {
            var documents = YAML.readValues(parser, JsonNode.class);
            while (documents.hasNext()) {
                JsonNode node = documents.next();
                if (node != null && !node.isNull() && !node.isMissingNode()) {
                    manifests.add(new Manifest(node.path("kind").asText(), node.path("metadata").path("name").asText(), node));
                }
            }
        } catch (IOException e) {
            throw new AssertionError("not YAML: " + e.getMessage(), e);
        }
        return manifests;
    }

    /** The typed object, or an exception whose message lists every problem found. */
    HasMetadata validate(Manifest manifest) {
        String apiVersion = manifest.json().path("apiVersion").asText();
        if (apiVersion.startsWith(MONITORING_GROUP + "/")) {
            validateMonitoring(manifest);
            return null;
        }
        Class<? extends KubernetesResource> type = serialization.getRegisteredKubernetesResource(apiVersion, manifest.kind());
        if (type == null || !HasMetadata.class.isAssignableFrom(type)) {
            throw new IllegalArgumentException(manifest + ": unknown kind " + manifest.kind() + " in " + apiVersion);
        }
        if (!apiVersion.equals(HasMetadata.getApiVersion(type.asSubclass(HasMetadata.class)))) {
            throw new IllegalArgumentException(manifest + ": " + manifest.kind() + " is not served at " + apiVersion);
        }
        HasMetadata resource;
        try {
            resource = (HasMetadata) serialization.convertValue(manifest.json(), type);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(manifest + ": " + e.getMessage(), e);
        }
        List<String> unknown = new ArrayList<>();
        collectUnknown(resource, manifest.kind(), unknown);
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException(manifest + ": unknown fields " + unknown);
        }
        return resource;
    }

    static final String MONITORING_GROUP = "monitoring.coreos.com";

    /** A field: "string", "int", "bool", "duration", "map" (string to string), or a nested shape; a list is in []. */
    private static final Map<String, Object> METADATA = Map.of("name", "string", "namespace", "string",
            "labels", "map", "annotations", "map");
    private static final Map<String, Object> LABEL_SELECTOR = Map.of("matchLabels", "map");
    private static final Map<String, Map<String, Object>> MONITORING_KINDS = Map.of(
            "ServiceMonitor", Map.of(
                    "apiVersion", "string", "kind", "string", "metadata", METADATA,
                    "spec", Map.of(
                            "jobLabel", "string",
                            "selector", LABEL_SELECTOR,
                            "namespaceSelector", Map.of("any", "bool", "matchNames", List.of("string")),
                            "endpoints", List.of(Map.of("port", "string", "path", "string", "scheme", "string",
                                    "interval", "duration", "scrapeTimeout", "duration", "honorLabels", "bool")))),
            "PrometheusRule", Map.of(
                    "apiVersion", "string", "kind", "string", "metadata", METADATA,
                    "spec", Map.of("groups", List.of(Map.of("name", "string", "interval", "duration",
                            "rules", List.of(Map.of("alert", "string", "record", "string", "expr", "string",
                                    "for", "duration", "labels", "map", "annotations", "map")))))));
    private static final java.util.regex.Pattern DURATION = java.util.regex.Pattern.compile("0|(([0-9]+)(ms|s|m|h|d|w|y))+");

    /** Structural check of a Prometheus Operator object (see the class comment). */
    static void validateMonitoring(Manifest manifest) {
        if (!manifest.json().path("apiVersion").asText().equals(MONITORING_GROUP + "/v1")) {
            throw new IllegalArgumentException(manifest + ": " + manifest.kind() + " is not served at "
                    + manifest.json().path("apiVersion").asText());
        }
        Map<String, Object> shape = MONITORING_KINDS.get(manifest.kind());
        if (shape == null) {
            throw new IllegalArgumentException(manifest + ": unknown kind " + manifest.kind() + " in " + MONITORING_GROUP + "/v1");
        }
        List<String> problems = new ArrayList<>();
        checkShape(manifest.json(), shape, manifest.kind(), problems);
        if (manifest.name().isEmpty()) {
            problems.add(manifest.kind() + ".metadata.name is missing");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(manifest + ": " + problems);
        }
    }

    @SuppressWarnings("unchecked")
    private static void checkShape(JsonNode node, Object shape, String path, List<String> problems) {
        if (shape instanceof Map<?, ?> fields) {
            if (!node.isObject()) {
                problems.add(path + " must be an object");
                return;
            }
            node.fieldNames().forEachRemaining(name -> {
                Object field = ((Map<String, Object>) fields).get(name);
                if (field == null) {
                    problems.add("unknown field " + path + "." + name);
                } else {
                    checkShape(node.get(name), field, path + "." + name, problems);
                }
            });
        } else if (shape instanceof List<?> items) {
            if (!node.isArray()) {
                problems.add(path + " must be a list");
                return;
            }
            for (int i = 0; i < node.size(); i++) {
                checkShape(node.get(i), items.get(0), path + "[" + i + "]", problems);
            }
        } else {
            boolean ok = switch ((String) shape) {
                case "string" -> node.isTextual();
                case "int" -> node.isInt();
                case "bool" -> node.isBoolean();
                case "duration" -> node.isTextual() && DURATION.matcher(node.asText()).matches();
                case "map" -> {
                    boolean strings = node.isObject();
                    for (var values = node.elements(); strings && values.hasNext(); ) {
                        strings = values.next().isTextual();
                    }
                    yield strings;
                }
                default -> throw new IllegalStateException("no such field type " + shape);
            };
            if (!ok) {
                problems.add(path + " must be a " + shape + ", got " + node);
            }
        }
    }

    private static void collectUnknown(Object value, String path, List<String> unknown) {
        if (value instanceof Collection<?> items) {
            int i = 0;
            for (Object item : items) {
                collectUnknown(item, path + "[" + i++ + "]", unknown);
            }
            return;
        }
        if (value instanceof Map<?, ?> entries) {
            entries.forEach((key, item) -> collectUnknown(item, path + "[" + key + "]", unknown));
            return;
        }
        if (value == null || !value.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (Method getter : value.getClass().getMethods()) {
            if (getter.getParameterCount() != 0 || Modifier.isStatic(getter.getModifiers())
                    || getter.getDeclaringClass() == Object.class || !getter.getName().startsWith("get")) {
                continue;
            }
            Object field;
            try {
                field = getter.invoke(value);
            } catch (IllegalAccessException | InvocationTargetException e) {
                continue;
            }
            if (getter.getName().equals("getAdditionalProperties")) {
                if (field instanceof Map<?, ?> extra) {
                    extra.keySet().forEach(key -> unknown.add(path + "." + key));
                }
            } else {
                String name = getter.getName().substring(3);
                collectUnknown(field, path + "." + Character.toLowerCase(name.charAt(0)) + name.substring(1), unknown);
            }
        }
    }
}
