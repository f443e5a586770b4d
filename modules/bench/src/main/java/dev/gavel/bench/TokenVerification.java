package dev.gavel.bench;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.gavel.server.viewers.ViewerTokens;

import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.interfaces.ECPrivateKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/**
 * What verifying one viewer token costs a node, per algorithm, on one thread: the work a join adds on the loop that
 * admits it ({@link ViewerTokens#identify}, the node's own code, with keys made here), for a valid token and for a
 * forged one (a flood of bad tokens costs the same verification). In-process, no network: the cost of the check
 * itself. Not a {@link Scenario}: the generator's jar does not carry the server, so it runs with the node's jar on the
 * class path (docs/benchmarks.md, "Viewer tokens"):
 * {@code java -cp modules/bench/target/gavel-bench.jar:modules/server/target/gavel.jar dev.gavel.bench.TokenVerification [seconds]}
 */
public final class TokenVerification {

    private TokenVerification() {
    }

    public static void main(String[] args) throws Exception {
        long seconds = args.length > 0 ? Long.parseLong(args[0]) : 5;
        String secret = "a-secret-of-at-least-32-bytes-for-hs256";
        KeyPair rsa = pair("RSA", null);
        KeyPair ec = pair("EC", "secp256r1");
        KeyPair other = pair("EC", "secp256r1");
        System.out.printf("%-6s %-7s %12s %10s%n", "alg", "token", "per second", "µs each");
        measure("HS256", new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"),
                token(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)), JWSAlgorithm.HS256),
                token(new MACSigner("somebody-elses-secret-of-32-bytes-0123".getBytes(StandardCharsets.UTF_8)),
                        JWSAlgorithm.HS256), seconds);
        measure("RS256", rsa.getPublic(), token(new RSASSASigner(rsa.getPrivate()), JWSAlgorithm.RS256),
                token(new RSASSASigner(pair("RSA", null).getPrivate()), JWSAlgorithm.RS256), seconds);
        measure("ES256", ec.getPublic(), token(new ECDSASigner((ECPrivateKey) ec.getPrivate()), JWSAlgorithm.ES256),
                token(new ECDSASigner((ECPrivateKey) other.getPrivate()), JWSAlgorithm.ES256), seconds);
    }

    private static void measure(String algorithm, Key key, String valid, String forged, long seconds) {
        ViewerTokens tokens = new ViewerTokens(new ViewerTokens.Settings(ViewerTokens.Mode.OPTIONAL, List.of(key)),
                Clock.systemUTC());
        for (String[] kind : new String[][]{{"valid", valid}, {"forged", forged}}) {
            loop(tokens, kind[1], seconds);
            long[] done = loop(tokens, kind[1], seconds);
            double perSecond = done[0] / (done[1] / 1e9);
            System.out.printf("%-6s %-7s %12.0f %10.1f%n", algorithm, kind[0], perSecond, 1e6 / perSecond);
        }
    }

    /** Verifications done in about {@code seconds}, and the nanoseconds they took. */
    private static long[] loop(ViewerTokens tokens, String token, long seconds) {
        long start = System.nanoTime();
        long end = start + seconds * 1_000_000_000L;
        long count = 0;
        long signedIn = 0;
        long now;
        do {
            for (int i = 0; i < 100; i++) {
                try {
                    signedIn += tokens.identify(token) == null ? 0 : 1;
                } catch (ViewerTokens.Invalid refused) {
                    signedIn--;
                }
            }
            count += 100;
            now = System.nanoTime();
        } while (now < end);
        if (signedIn != count && signedIn != -count) {
            throw new IllegalStateException("a token was both valid and refused");
        }
        return new long[]{count, now - start};
    }

    private static KeyPair pair(String algorithm, String curve) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
        if (curve == null) {
            generator.initialize(2048);
        } else {
            generator.initialize(new ECGenParameterSpec(curve));
        }
        return generator.generateKeyPair();
    }

    private static String token(JWSSigner signer, JWSAlgorithm algorithm) throws JOSEException {
        SignedJWT jwt = new SignedJWT(new JWSHeader(algorithm), new JWTClaimsSet.Builder().subject("user-12345")
                .claim("name", "A Viewer").expirationTime(Date.from(Instant.now().plusSeconds(3600))).build());
        jwt.sign(signer);
        return jwt.serialize();
    }
}
