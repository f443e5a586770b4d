package dev.gavel.server.http;


import java.net.URI;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Which browser origins may open a viewer connection or call the API cross-origin: those configured in
 * {@code ALLOWED_ORIGIN}, and the node's own pages (an {@code Origin} whose host and port are the request's
 * {@code Host}). A request with no {@code Origin} is not from a browser page and is allowed.
 */
public final class OriginPolicy {

    private final Set<String> allowed;

    public OriginPolicy(List<String> allowedOrigins) {
        this.allowed = allowedOrigins.stream().map(OriginPolicy::normalize).collect(Collectors.toUnmodifiableSet());
    }

    /** True when {@code origin} is configured, or is the node itself as reached through {@code host}. */
    public boolean isAllowedOrigin(String origin, String host) {
        String normalized = normalize(origin);
        if (allowed.contains(normalized)) {
            return true;
        }
        if (host == null) {
            return false;
        }
        try {
            URI uri = new URI(normalized);
            String authority = uri.getPort() == -1 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
            return authority != null && authority.equalsIgnoreCase(withoutDefaultPort(host.trim(), uri.getScheme()));
        } catch (Exception e) {
            return false;
        }
    }

    private static String withoutDefaultPort(String host, String scheme) {
        if ("http".equals(scheme) && host.endsWith(":80")) {
            return host.substring(0, host.length() - 3);
        }
        if ("https".equals(scheme) && host.endsWith(":443")) {
            return host.substring(0, host.length() - 4);
        }
        return host;
    }

    private static String normalize(String origin) {
        String trimmed = origin.trim().toLowerCase(Locale.ROOT);
        while (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        if (trimmed.startsWith("http://") && trimmed.endsWith(":80")) {
            return trimmed.substring(0, trimmed.length() - 3);
        }
        if (trimmed.startsWith("https://") && trimmed.endsWith(":443")) {
            return trimmed.substring(0, trimmed.length() - 4);
        }
        return trimmed;
    }
}
