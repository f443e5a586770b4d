package dev.gavel.server.viewers;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSObject;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.Payload;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.Test;

import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Viewer tokens made here with keys made here: what verifies, and every way a token is refused. */
class ViewerTokensTest {

    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    private static final String SECRET = "a-secret-of-at-least-32-bytes-for-hs256";
    private static final String NEXT_SECRET = "the-next-secret-after-rotation-0123456789";

    private static ViewerTokens tokens(ViewerTokens.Mode mode, Key... keys) {
        return new ViewerTokens(new ViewerTokens.Settings(mode, List.of(keys)), CLOCK);
    }

    private static SecretKeySpec hmac(String secret) {
        return new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
    }

    private static KeyPair rsa() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        return generator.generateKeyPair();
    }

    private static KeyPair ec() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }

    private static JWTClaimsSet.Builder claims(String sub) {
        return new JWTClaimsSet.Builder().subject(sub).expirationTime(Date.from(NOW.plusSeconds(600)));
    }

    private static String sign(JWSSigner signer, JWSAlgorithm algorithm, JWTClaimsSet claims) throws JOSEException {
        SignedJWT jwt = new SignedJWT(new JWSHeader(algorithm), claims);
        jwt.sign(signer);
        return jwt.serialize();
    }

    private static String hs256(String secret, JWTClaimsSet claims) throws JOSEException {
        return sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)), JWSAlgorithm.HS256, claims);
    }

    /** A token over a payload written by hand, for claims the library's builder would not write. */
    private static String hs256Raw(String secret, String payload) throws JOSEException {
        JWSObject jws = new JWSObject(new JWSHeader(JWSAlgorithm.HS256), new Payload(payload));
        jws.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
        return jws.serialize();
    }

    private static String reason(ViewerTokens tokens, String token) {
        return assertThrows(ViewerTokens.Invalid.class, () -> tokens.identify(token)).reason();
    }

    @Test
    void anHs256TokenGivesTheUserAndItsName() throws Exception {
        ViewerTokens tokens = tokens(ViewerTokens.Mode.OPTIONAL, hmac(SECRET));
        String token = hs256(SECRET, claims("user-42").claim("name", "Asha").build());
        assertEquals(new ViewerIdentity("user-42", "Asha"), tokens.identify(token));
        assertEquals(new ViewerIdentity("user-7", null), tokens.identify(hs256(SECRET, claims("user-7").build())));
    }

    @Test
    void rs256AndEs256TokensVerifyWithTheirPublicKeys() throws Exception {
        KeyPair rsa = rsa();
        KeyPair ec = ec();
        ViewerTokens tokens = tokens(ViewerTokens.Mode.REQUIRED, rsa.getPublic(), ec.getPublic());
        assertEquals("rsa-user", tokens.identify(sign(new RSASSASigner(rsa.getPrivate()), JWSAlgorithm.RS256,
                claims("rsa-user").build())).userId());
        assertEquals("ec-user", tokens.identify(sign(new ECDSASigner((ECPrivateKey) ec.getPrivate()), JWSAlgorithm.ES256,
                claims("ec-user").build())).userId());
    }

    @Test
    void noTokenIsAnonymousUnlessOneIsRequired() {
        assertNull(tokens(ViewerTokens.Mode.OPTIONAL, hmac(SECRET)).identify(null));
        assertNull(tokens(ViewerTokens.Mode.OPTIONAL, hmac(SECRET)).identify(""));
        assertEquals("missing", reason(tokens(ViewerTokens.Mode.REQUIRED, hmac(SECRET)), null));
        assertEquals("missing", reason(tokens(ViewerTokens.Mode.REQUIRED, hmac(SECRET)), ""));
    }

    @Test
    void withTokensOffATokenIsNotLookedAt() throws Exception {
        ViewerTokens off = new ViewerTokens(ViewerTokens.Settings.OFF, CLOCK);
        assertNull(off.identify(hs256(SECRET, claims("user-1").build())));
        assertNull(off.identify("not a token"));
    }

    @Test
    void anExpiredTokenIsRefusedPastTheClockSkew() throws Exception {
        ViewerTokens tokens = tokens(ViewerTokens.Mode.OPTIONAL, hmac(SECRET));
        int skew = ViewerTokens.MAX_CLOCK_SKEW_SECONDS;
        String justExpired = hs256(SECRET, claims("u").expirationTime(Date.from(NOW.minusSeconds(skew - 5))).build());
        assertEquals("u", tokens.identify(justExpired).userId());
        String expired = hs256(SECRET, claims("u").expirationTime(Date.from(NOW.minusSeconds(skew + 5))).build());
        assertEquals("expired", reason(tokens, expired));
    }

    @Test
    void aTokenNotYetValidIsRefusedPastTheClockSkew() throws Exception {
        ViewerTokens tokens = tokens(ViewerTokens.Mode.OPTIONAL, hmac(SECRET));
        int skew = ViewerTokens.MAX_CLOCK_SKEW_SECONDS;
        assertEquals("u", tokens.identify(hs256(SECRET, claims("u").notBeforeTime(Date.from(NOW.plusSeconds(skew - 5)))
                .build())).userId());
        assertEquals("invalid", reason(tokens, hs256(SECRET, claims("u").notBeforeTime(Date.from(NOW.plusSeconds(skew + 60)))
                .build())));
    }

    @Test
    void subAndExpAreRequiredAndMustBeStringsOfABoundedLength() throws Exception {
        ViewerTokens tokens = tokens(ViewerTokens.Mode.OPTIONAL, hmac(SECRET));
        assertEquals("invalid", reason(tokens, hs256(SECRET, new JWTClaimsSet.Builder().subject("u").build())));
        assertEquals("invalid", reason(tokens, hs256(SECRET, new JWTClaimsSet.Builder()
                .expirationTime(Date.from(NOW.plusSeconds(60))).build())));
        assertEquals("invalid", reason(tokens, hs256Raw(SECRET, "{\"sub\":42,\"exp\":" + NOW.plusSeconds(60).getEpochSecond() + "}")));
        assertEquals("invalid", reason(tokens, hs256(SECRET, claims("").build())));
        assertEquals("invalid", reason(tokens, hs256(SECRET, claims("u".repeat(ViewerTokens.MAX_CLAIM_CHARS + 1)).build())));
        assertEquals("invalid", reason(tokens, hs256(SECRET, claims("u").claim("name", List.of("not", "a string")).build())));
        assertEquals("invalid", reason(tokens, hs256(SECRET, claims("u").claim("name", "n".repeat(ViewerTokens.MAX_CLAIM_CHARS + 1))
                .build())));
    }

    @Test
    void aForgedSignatureIsRefused() throws Exception {
        ViewerTokens tokens = tokens(ViewerTokens.Mode.OPTIONAL, hmac(SECRET));
        String other = hs256("somebody-elses-secret-of-32-bytes-or-more", claims("u").build());
        assertEquals("invalid", reason(tokens, other));
        // a genuine token whose claims were changed afterwards
        String[] parts = hs256(SECRET, claims("u").build()).split("\\.");
        String admin = Base64URL.encode(claims("admin").build().toString()).toString();
        assertEquals("invalid", reason(tokens, parts[0] + "." + admin + "." + parts[2]));
    }

    @Test
    void anUnsecuredTokenIsRefused() {
        ViewerTokens tokens = tokens(ViewerTokens.Mode.OPTIONAL, hmac(SECRET));
        String header = encode("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        String body = encode("{\"sub\":\"u\",\"exp\":" + NOW.plusSeconds(600).getEpochSecond() + "}");
        assertEquals("invalid", reason(tokens, header + "." + body + "."));
        assertEquals("invalid", reason(tokens, header + "." + body));
        assertEquals("invalid", reason(tokens, encode("{\"alg\":\"NONE\"}") + "." + body + "."));
    }

    @Test
    void anHs256TokenSignedWithThePublicKeyIsRefused() throws Exception {
        KeyPair rsa = rsa();
        ViewerTokens tokens = tokens(ViewerTokens.Mode.OPTIONAL, rsa.getPublic());
        String pem = "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(rsa.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        for (byte[] secret : List.of(pem.getBytes(StandardCharsets.US_ASCII), rsa.getPublic().getEncoded())) {
            String confused = sign(new MACSigner(secret), JWSAlgorithm.HS256, claims("u").build());
            assertEquals("invalid", reason(tokens, confused));
        }
        // and a key's own algorithm only: an RS256 key does not verify PS256 or RS512
        assertEquals("invalid", reason(tokens, sign(new RSASSASigner(rsa.getPrivate()), JWSAlgorithm.RS512, claims("u").build())));
        assertEquals("invalid", reason(tokens, sign(new RSASSASigner(rsa.getPrivate()), JWSAlgorithm.PS256, claims("u").build())));
    }

    @Test
    void anHmacSecretDoesNotVerifyOtherHmacAlgorithms() throws Exception {
        ViewerTokens tokens = tokens(ViewerTokens.Mode.OPTIONAL, hmac(SECRET + SECRET));
        String hs512 = sign(new MACSigner((SECRET + SECRET).getBytes(StandardCharsets.UTF_8)), JWSAlgorithm.HS512,
                claims("u").build());
        assertEquals("invalid", reason(tokens, hs512));
    }

    @Test
    void aTypeOtherThanJwtOrACriticalHeaderGavelDoesNotKnowIsRefused() throws Exception {
        ViewerTokens tokens = tokens(ViewerTokens.Mode.OPTIONAL, hmac(SECRET));
        MACSigner signer = new MACSigner(SECRET.getBytes(StandardCharsets.UTF_8));
        SignedJWT typed = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(),
                claims("u").build());
        typed.sign(signer);
        assertEquals("u", tokens.identify(typed.serialize()).userId());
        SignedJWT accessToken = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).type(new JOSEObjectType("at+jwt"))
                .build(), claims("u").build());
        accessToken.sign(signer);
        assertEquals("invalid", reason(tokens, accessToken.serialize()));
        SignedJWT critical = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).criticalParams(Set.of("gavel-unknown"))
                .customParam("gavel-unknown", 1).build(), claims("u").build());
        critical.sign(signer);
        assertEquals("invalid", reason(tokens, critical.serialize()));
    }

    @Test
    void anOversizeTokenIsRefusedBeforeItIsRead() throws Exception {
        ViewerTokens tokens = tokens(ViewerTokens.Mode.OPTIONAL, hmac(SECRET));
        String big = hs256(SECRET, claims("u").claim("pad", "x".repeat(ViewerTokens.MAX_TOKEN_CHARS)).build());
        assertEquals("invalid", reason(tokens, big));
        assertEquals("invalid", reason(tokens, "x".repeat(ViewerTokens.MAX_TOKEN_CHARS + 1)));
    }

    @Test
    void garbageIsRefusedAsInvalid() {
        ViewerTokens tokens = tokens(ViewerTokens.Mode.OPTIONAL, hmac(SECRET));
        for (String garbage : List.of("x", "a.b.c", "...", "eyJ.eyJ.", "{\"sub\":\"u\"}", "123")) {
            assertEquals("invalid", reason(tokens, garbage), garbage);
        }
    }

    @Test
    void duringARotationBothKeysVerifyAndAfterItTheRetiredOneDoesNot() throws Exception {
        String old = hs256(SECRET, claims("u1").build());
        String next = hs256(NEXT_SECRET, claims("u2").build());
        ViewerTokens both = tokens(ViewerTokens.Mode.OPTIONAL, hmac(NEXT_SECRET), hmac(SECRET));
        assertEquals("u1", both.identify(old).userId());
        assertEquals("u2", both.identify(next).userId());
        ViewerTokens after = tokens(ViewerTokens.Mode.OPTIONAL, hmac(NEXT_SECRET));
        assertEquals("invalid", reason(after, old));
        assertEquals("u2", after.identify(next).userId());

        KeyPair retired = rsa();
        KeyPair current = ec();
        String retiredToken = sign(new RSASSASigner(retired.getPrivate()), JWSAlgorithm.RS256, claims("u3").build());
        assertEquals("u3", tokens(ViewerTokens.Mode.OPTIONAL, current.getPublic(), retired.getPublic())
                .identify(retiredToken).userId());
        assertEquals("invalid", reason(tokens(ViewerTokens.Mode.OPTIONAL, current.getPublic()), retiredToken));
    }

    @Test
    void aRefusalSaysNothingOfTheToken() throws Exception {
        ViewerTokens tokens = tokens(ViewerTokens.Mode.OPTIONAL, hmac(SECRET));
        String forged = hs256("somebody-elses-secret-of-32-bytes-or-more", claims("secret-user").build());
        ViewerTokens.Invalid invalid = assertThrows(ViewerTokens.Invalid.class, () -> tokens.identify(forged));
        assertEquals("invalid token: invalid", invalid.getMessage());
        assertFalse(invalid.getMessage().contains("secret-user"));
        assertEquals(0, invalid.getStackTrace().length);
    }

    @Test
    void settingsShowTheModeAndKindsOfKeysNeverAKey() throws Exception {
        ViewerTokens.Settings settings = new ViewerTokens.Settings(ViewerTokens.Mode.REQUIRED,
                List.of(hmac(SECRET), hmac(NEXT_SECRET)));
        assertEquals("required (2 keys: HS256, HS256)", settings.toString());
        assertEquals("off", ViewerTokens.Settings.OFF.toString());
        assertEquals("optional (1 key: ES256)", new ViewerTokens.Settings(ViewerTokens.Mode.OPTIONAL,
                List.of(ec().getPublic())).toString());
        assertThrows(IllegalArgumentException.class, () -> new ViewerTokens.Settings(ViewerTokens.Mode.OPTIONAL, List.of()));
    }

    private static String encode(String json) {
        return Base64URL.encode(json.getBytes(StandardCharsets.UTF_8)).toString();
    }
}
