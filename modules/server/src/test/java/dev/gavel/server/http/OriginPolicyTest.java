package dev.gavel.server.http;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OriginPolicyTest {

    private final OriginPolicy policy = new OriginPolicy(List.of("http://localhost:3000", "https://auctions.example"));

    @Test
    void allowsConfiguredOrigins() {
        assertTrue(policy.isAllowedOrigin("http://localhost:3000", "gavel:8080"));
        assertTrue(policy.isAllowedOrigin("HTTPS://Auctions.Example", "gavel:8080"));
        assertTrue(policy.isAllowedOrigin("https://auctions.example:443", "gavel:8080"));
    }

    @Test
    void allowsTheNodesOwnPages() {
        assertTrue(policy.isAllowedOrigin("http://gavel:8080", "gavel:8080"));
        assertTrue(policy.isAllowedOrigin("http://gavel", "gavel:80"));
    }

    @Test
    void refusesOthers() {
        assertFalse(policy.isAllowedOrigin("http://evil.example", "gavel:8080"));
        assertFalse(policy.isAllowedOrigin("http://localhost:3001", "gavel:8080"));
        assertFalse(policy.isAllowedOrigin("null", "gavel:8080"));
        assertFalse(policy.isAllowedOrigin("http://gavel:8081", "gavel:8080"));
        assertFalse(policy.isAllowedOrigin("http://evil.example", null));
    }
}
