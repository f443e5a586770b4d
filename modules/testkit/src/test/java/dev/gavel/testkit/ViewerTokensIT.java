package dev.gavel.testkit;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Viewer tokens on two real nodes, made in the test with keys made in the test: one node verifies HS256 with two secrets
 * (a rotation under way), the other RS256 and ES256 public keys and requires a token. Signed-in viewers are let in on
 * every transport with the official clients; every bad token (expired, forged, {@code alg: none}, HS256 signed with
 * the public key, oversize, signed with a retired key, none where one is required) is refused on every transport (401
 * before the upgrade; Socket.IO: a CONNECT error {@code {"message": "invalid token"}}), counts nothing and leaves the
 * others connected; no token is ever in the node's log or metrics.
 */
class ViewerTokensIT {

    private static final String SECRET = "the-current-secret-of-32-bytes-or-more";
    private static final String PREVIOUS = "the-previous-secret-still-accepted-0123";
    private static final String RETIRED = "a-retired-secret-no-longer-accepted-0123";
    private static final AtomicInteger AUCTIONS = new AtomicInteger();

    private static KeyPair rsa;
    private static KeyPair ec;
    private static KeyPair retiredRsa;
    private static Path keys;
    private static NodeProcess hmacNode;
    private static NodeProcess keyNode;
    /** Every token any test made: none may appear in a log or the metrics. */
    private static final List<String> TOKENS = new ArrayList<>();

    private final List<AutoCloseable> viewers = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        KeyPairGenerator rsaKeys = KeyPairGenerator.getInstance("RSA");
        rsaKeys.initialize(2048);
        rsa = rsaKeys.generateKeyPair();
        retiredRsa = rsaKeys.generateKeyPair();
        KeyPairGenerator ecKeys = KeyPairGenerator.getInstance("EC");
        ecKeys.initialize(new ECGenParameterSpec("secp256r1"));
        ec = ecKeys.generateKeyPair();
        keys = Files.createTempDirectory("gavel-viewer-keys");
        Path rsaFile = pem(keys.resolve("rsa.pem"), rsa.getPublic());
        Path ecFile = pem(keys.resolve("ec.pem"), ec.getPublic());
        hmacNode = NodeProcess.start(Map.of("VIEWER_TOKEN_SECRET", SECRET + "," + PREVIOUS));
        keyNode = NodeProcess.start(Map.of("VIEWER_TOKEN_PUBLIC_KEY", rsaFile + "," + ecFile, "VIEWER_TOKENS", "required"));
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            for (NodeProcess node : List.of(hmacNode, keyNode)) {
                String log = node.output();
                for (String token : TOKENS) {
                    assertFalse(log.contains(token) || log.contains(signature(token)), "a token in the node's log");
                }
            }
        } finally {
            hmacNode.close();
            keyNode.close();
            try (var files = Files.list(keys)) {
                for (Path file : (Iterable<Path>) files::iterator) {
                    Files.delete(file);
                }
            }
            Files.delete(keys);
        }
    }

    @AfterEach
    void closeViewers() throws Exception {
        for (AutoCloseable viewer : viewers) {
            viewer.close();
        }
        viewers.clear();
    }

    private <T extends AutoCloseable> T track(T viewer) {
        viewers.add(viewer);
        return viewer;
    }

    private static Path pem(Path file, PublicKey key) throws Exception {
        return Files.writeString(file, "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(key.getEncoded())
                + "\n-----END PUBLIC KEY-----\n");
    }

    private static JWTClaimsSet.Builder claims(String sub) {
        return new JWTClaimsSet.Builder().subject(sub).claim("name", "Viewer " + sub)
                .expirationTime(Date.from(Instant.now().plusSeconds(600)));
    }

    private static String sign(JWSSigner signer, JWSAlgorithm algorithm, JWTClaimsSet claims) {
        try {
            SignedJWT jwt = new SignedJWT(new JWSHeader(algorithm), claims);
            jwt.sign(signer);
            return remember(jwt.serialize());
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The token's signature, or the whole token when it has none ({@code alg: none}). */
    private static String signature(String token) {
        String signature = token.substring(token.lastIndexOf('.') + 1);
        return signature.isEmpty() ? token : signature;
    }

    private static String remember(String token) {
        synchronized (TOKENS) {
            TOKENS.add(token);
        }
        return token;
    }

    private static String hs256(String secret, JWTClaimsSet claims) {
        try {
            return sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)), JWSAlgorithm.HS256, claims);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String rs256(KeyPair pair, JWTClaimsSet claims) {
        return sign(new RSASSASigner(pair.getPrivate()), JWSAlgorithm.RS256, claims);
    }

    private static String es256(JWTClaimsSet claims) {
        try {
            return sign(new ECDSASigner((ECPrivateKey) ec.getPrivate()), JWSAlgorithm.ES256, claims);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String unsecured(String sub) {
        String header = Base64URL.encode("{\"alg\":\"none\",\"typ\":\"JWT\"}").toString();
        String body = Base64URL.encode("{\"sub\":\"" + sub + "\",\"exp\":" + Instant.now().plusSeconds(600).getEpochSecond()
                + "}").toString();
        return remember(header + "." + body + ".");
    }

    /** HS256 "signed" with the node's RSA public key (its PEM text) as the secret: the algorithm confusion attack. */
    private static String hs256WithThePublicKey(String sub) {
        String pem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(rsa.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        return hs256(pem, claims(sub).build());
    }

    /** The bad tokens of the HS256 node, by what is wrong with them, and the reason each is refused for. */
    private static Map<String, String[]> badHmacTokens() {
        Map<String, String[]> bad = new LinkedHashMap<>();
        bad.put("expired", new String[]{hs256(SECRET, claims("late").expirationTime(
                Date.from(Instant.now().minusSeconds(120))).build()), "expired"});
        bad.put("forged", new String[]{hs256("an-attackers-own-secret-of-32-bytes-0123", claims("forger").build()),
                "invalid"});
        bad.put("retired key", new String[]{hs256(RETIRED, claims("old").build()), "invalid"});
        bad.put("alg none", new String[]{unsecured("nobody"), "invalid"});
        bad.put("oversize", new String[]{hs256(SECRET, claims("big").claim("pad", "x".repeat(2600)).build()), "invalid"});
        return bad;
    }

    private static String newAuction() {
        return "tokens-" + AUCTIONS.incrementAndGet();
    }

    private static String query(String auction, String token) {
        return "slug=auction-" + auction + (token == null ? "" : "&token=" + URLEncoder.encode(token, StandardCharsets.UTF_8));
    }

    private JsViewer socketIo(NodeProcess node, String auction, String token, String onlyTransport) {
        JsonObject options = JsViewer.teamOptions("auction-" + auction).put("reconnection", false);
        if (token != null) {
            options.put("auth", new JsonObject().put("token", token));
        }
        if (onlyTransport != null) {
            options.put("transports", new JsonArray().add(onlyTransport));
        }
        return track(JsViewer.socketIo(node.port(), options));
    }

    private JsViewer sockJs(NodeProcess node, String auction, String token, String transport) {
        return track(JsViewer.sockJsWithQuery(node.port(), query(auction, token), transport));
    }

    private TestViewer webSocket(NodeProcess node, String auction, String token) {
        return track(TestViewer.connect(node.port(), "/ws?" + query(auction, token), null));
    }

    /** Refused on all three transports with the official clients, and before the upgrade over plain HTTP. */
    private void assertRefusedEverywhere(NodeProcess node, String auction, String token, String reason) {
        int port = node.port();
        assertEquals(401, TestViewer.refusalStatus(port, "/ws?" + query(auction, token), null));
        ApiClient.Answer plain = ApiClient.get(port, "/ws?" + query(auction, token));
        assertEquals(401, plain.status(), plain.toString());
        assertEquals("invalid token: " + reason, plain.error());
        ApiClient.Answer info = ApiClient.get(port, "/sockjs/info?" + query(auction, token));
        assertEquals(401, info.status(), info.toString());
        assertEquals(401, TestViewer.refusalStatus(port, "/sockjs/websocket?" + query(auction, token), null));
        assertEquals(401, TestViewer.refusalStatus(port, "/sockjs/000/refused/websocket?" + query(auction, token), null));

        for (String transport : new String[]{null, "websocket"}) {
            JsViewer viewer = socketIo(node, auction, token, transport);
            JsonObject error = viewer.awaitRecord("connect_error");
            assertEquals("invalid token", error.getString("message"), error::encode);
            assertEquals(reason, error.getJsonObject("data").getString("reason"), error::encode);
            assertTrue(viewer.records().stream().noneMatch(r -> "connect".equals(r.getString("type"))), viewer::toString);
        }
        for (String transport : List.of("websocket", "xhr-streaming", "xhr-polling")) {
            JsViewer viewer = sockJs(node, auction, token, transport);
            viewer.awaitRecord("close");
            assertTrue(viewer.records().stream().noneMatch(r -> "open".equals(r.getString("type"))), viewer::toString);
        }
    }

    @Test
    void signedInViewersWithEitherSecretOfARotationAndAnonymousOnesAreCountedOnEveryTransport() {
        String auction = newAuction();
        TestViewer anonymous = webSocket(hmacNode, auction, null);
        anonymous.awaitCount(1, 1);
        webSocket(hmacNode, auction, hs256(SECRET, claims("ws-user").build())).awaitCount(2, 2);
        webSocket(hmacNode, auction, hs256(PREVIOUS, claims("ws-user-2").build())).awaitCount(3, 3);
        socketIo(hmacNode, auction, hs256(SECRET, claims("sio-polling").build()), null).awaitCount(4, 4);
        socketIo(hmacNode, auction, hs256(PREVIOUS, claims("sio-ws").build()), "websocket").awaitCount(5, 5);
        socketIo(hmacNode, auction, null, null).awaitCount(6, 6);
        sockJs(hmacNode, auction, hs256(SECRET, claims("sockjs-ws").build()), "websocket").awaitCount(7, 7);
        sockJs(hmacNode, auction, hs256(PREVIOUS, claims("sockjs-xhr").build()), "xhr-streaming").awaitCount(8, 8);
        sockJs(hmacNode, auction, null, "xhr-polling").awaitCount(9, 9);
        anonymous.awaitCount(9, 9);
    }

    @Test
    void everyBadTokenIsRefusedOnEveryTransportCountsNothingAndLeavesTheOthersConnected() {
        String auction = newAuction();
        TestViewer anonymous = webSocket(hmacNode, auction, null);
        JsViewer signedIn = socketIo(hmacNode, auction, hs256(SECRET, claims("stays").build()), null);
        signedIn.awaitCount(2, 2);
        for (Map.Entry<String, String[]> bad : badHmacTokens().entrySet()) {
            assertRefusedEverywhere(hmacNode, auction, bad.getValue()[0], bad.getValue()[1]);
        }
        // nothing was counted: the next viewer makes it 3, and the two that were there are still connected
        TestViewer after = webSocket(hmacNode, auction, hs256(PREVIOUS, claims("after").build()));
        after.awaitCount(3, 3);
        anonymous.awaitCount(3, 3);
        signedIn.awaitCount(3, 3);
        assertFalse(anonymous.isClosed());
    }

    @Test
    void publicKeysVerifyRs256AndEs256AndARequiredTokenRefusesEveryOtherViewer() {
        String auction = newAuction();
        TestViewer rsaViewer = webSocket(keyNode, auction, rs256(rsa, claims("rsa-user").build()));
        rsaViewer.awaitCount(1, 1);
        socketIo(keyNode, auction, es256(claims("ec-user").build()), null).awaitCount(2, 2);
        sockJs(keyNode, auction, rs256(rsa, claims("rsa-sockjs").build()), "xhr-streaming").awaitCount(3, 3);
        sockJs(keyNode, auction, es256(claims("ec-sockjs").build()), "websocket").awaitCount(4, 4);

        assertRefusedEverywhere(keyNode, auction, null, "missing");
        assertRefusedEverywhere(keyNode, auction, hs256WithThePublicKey("confused"), "invalid");
        assertRefusedEverywhere(keyNode, auction, rs256(retiredRsa, claims("rotated-out").build()), "invalid");
        assertRefusedEverywhere(keyNode, auction, unsecured("nobody"), "invalid");
        assertRefusedEverywhere(keyNode, auction, es256(claims("late").expirationTime(
                Date.from(Instant.now().minusSeconds(120))).build()), "expired");

        TestViewer after = webSocket(keyNode, auction, es256(claims("after").build()));
        after.awaitCount(5, 5);
        rsaViewer.awaitCount(5, 5);
        assertFalse(rsaViewer.isClosed());
    }

    @Test
    void aSocketIoPageRefusedForAnExpiredTokenComesBackWithAFreshOne() {
        String auction = newAuction();
        TestViewer anonymous = webSocket(hmacNode, auction, null);
        anonymous.awaitCount(1, 1);
        // the team's options: reconnection on, as the page runs them
        JsonObject options = JsViewer.teamOptions("auction-" + auction).put("auth", new JsonObject().put("token",
                hs256(SECRET, claims("back").expirationTime(Date.from(Instant.now().minusSeconds(120))).build())));
        JsViewer page = track(JsViewer.socketIo(hmacNode.port(), options));
        JsonObject error = page.awaitRecord("connect_error");
        assertEquals("expired", error.getJsonObject("data").getString("reason"), error::encode);
        anonymous.awaitCount(1, 1);
        page.connectAgain(new JsonObject().put("token", hs256(SECRET, claims("back").build())));
        page.awaitRecord("connect");
        page.awaitCount(2, 2);
        anonymous.awaitCount(2, 2);
        // one connect_error, no reconnection loop of its own in between
        assertEquals(1, page.records().stream().filter(r -> "connect_error".equals(r.getString("type"))).count(),
                page::toString);
    }

    @Test
    void refusalsAreCountedByClassAndNoTokenIsInTheMetrics() {
        String auction = newAuction();
        String forged = hs256("an-attackers-own-secret-of-32-bytes-0123", claims("metrics").build());
        assertEquals(401, TestViewer.refusalStatus(hmacNode.port(), "/ws?" + query(auction, forged), null));
        await().atMost(TestViewer.PATIENCE).until(() -> hmacNode.output().contains("Refused: invalid token (401)"));
        assertTrue(hmacNode.output().contains("viewer tokens optional (2 keys: HS256, HS256)"), "the start line");
        assertTrue(keyNode.output().contains("viewer tokens required (2 keys: RS256, ES256)"), "the start line");
        String metrics = ApiClient.get(hmacNode.port(), "/metrics").body();
        assertTrue(metrics.contains("reason=\"invalid_token\""), "the refusals' series");
        synchronized (TOKENS) {
            for (String token : TOKENS) {
                assertFalse(metrics.contains(token) || metrics.contains(signature(token)), "a token in the metrics");
            }
        }
    }
}
