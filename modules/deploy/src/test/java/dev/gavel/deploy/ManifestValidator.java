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
