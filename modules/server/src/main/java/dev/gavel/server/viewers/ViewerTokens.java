package dev.gavel.server.viewers;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import com.nimbusds.jwt.proc.ExpiredJWTException;

import javax.crypto.SecretKey;
import java.security.Key;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.text.ParseException;
import java.time.Clock;
import java.util.Date;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Verifies viewer tokens: JWTs that the team's backend signs for its signed-in users, with {@code sub} (the user id),
 * optional {@code name} and {@code exp}. Verification is Connect2id's nimbus-jose-jwt over the JDK's crypto; what is
 * decided here is which algorithm each configured key may verify, and nothing else:
 *
 * <ul>
 *   <li>an HMAC secret ({@code VIEWER_TOKEN_SECRET}) verifies HS256 only; an RSA public key RS256 only; a P-256 public
 *       key ES256 only ({@code VIEWER_TOKEN_PUBLIC_KEY}). A token whose header names any other algorithm, {@code none}
 *       included, has no key and is refused; so is an HS256 token "signed" with a public key, which is never a
 *       secret here.</li>
 *   <li>{@code sub} and {@code exp} are required; {@code exp} and {@code nbf} are checked with
 *       {@value #MAX_CLOCK_SKEW_SECONDS} s of clock skew, against the clock this is given.</li>
 *   <li>several keys may be configured at once (rotation): a token is valid when any one of them verifies it.</li>
 *   <li>a token over {@value #MAX_TOKEN_CHARS} characters is refused before it is parsed.</li>
 * </ul>
 *
 * <p>Nothing here logs, and no refusal carries any part of the token: a token is a credential. Thread-safe.
 */
public final class ViewerTokens {

    /** {@code VIEWER_TOKENS}: whether viewers may, must or may not present a token. */
    public enum Mode {
        /** Tokens are not looked at: every viewer is anonymous. */
        OFF,
        /** A viewer with a token is signed in if the token verifies and refused if not; one without is anonymous. */
        OPTIONAL,
        /** Every viewer must present a token that verifies. */
        REQUIRED
    }

    /**
     * The node's token configuration.
     *
     * @param keys HMAC secrets ({@link SecretKey}) or public keys ({@link RSAPublicKey}, P-256 {@link ECPublicKey});
     *             empty only with {@link Mode#OFF}
     */
    public record Settings(Mode mode, List<Key> keys) {

        public static final Settings OFF = new Settings(Mode.OFF, List.of());

        public Settings {
            keys = List.copyOf(keys);
            if (mode != Mode.OFF && keys.isEmpty()) {
                throw new IllegalArgumentException("viewer tokens " + mode + " need a key");
            }
        }

        /** For logs: the mode and the number and kind of keys, never a key. */
        @Override
        public String toString() {
            return mode.name().toLowerCase(Locale.ROOT) + (keys.isEmpty() ? "" : " (" + keys.size() + " key" + (keys.size() == 1 ? "" : "s")
                    + ": " + String.join(", ", keys.stream().map(key -> algorithm(key).getName()).toList()) + ")");
        }
    }

    /** Why a token was refused: {@code missing}, {@code expired} or {@code invalid}; never more about the token. */
    public static final class Invalid extends RuntimeException {
        private final String reason;

        Invalid(String reason) {
            super("invalid token: " + reason, null, false, false);
            this.reason = reason;
        }

        /** {@code missing} (a token is required), {@code expired} or {@code invalid}. */
        public String reason() {
            return reason;
        }
    }

    /**
     * Several times an RS256 token with a sub, a name and the usual registered claims (about 700 characters), and below
     * what carries it: a request line and a Socket.IO message are taken up to 4 KiB, so a longer token is refused here,
     * as a token, on every transport.
     */
    public static final int MAX_TOKEN_CHARS = 3072;
    public static final int MAX_CLOCK_SKEW_SECONDS = 30;
    /** The longest {@code sub} or {@code name} taken. */
    public static final int MAX_CLAIM_CHARS = 256;

    private final Mode mode;
    private final DefaultJWTProcessor<SecurityContext> processor;

    public ViewerTokens(Settings settings, Clock clock) {
        this.mode = settings.mode();
        List<Key> keys = settings.keys();
        processor = new DefaultJWTProcessor<>();
        // only keys whose algorithm is the one the token names: the header chooses among the configured keys, never
        // the algorithm a key is used with
        processor.setJWSKeySelector((header, context) -> keys.stream()
                .filter(key -> algorithm(key).equals(header.getAlgorithm())).toList());
        DefaultJWTClaimsVerifier<SecurityContext> claims = new DefaultJWTClaimsVerifier<>(null, Set.of("sub", "exp")) {
            @Override
            protected Date currentTime() {
                return new Date(clock.millis());
            }
        };
        claims.setMaxClockSkew(MAX_CLOCK_SKEW_SECONDS);
        processor.setJWTClaimsSetVerifier(claims);
    }

    /**
     * Who the viewer presenting {@code token} is.
     *
     * @param token the token as the viewer sent it; null or empty when it sent none
     * @return the verified identity, or null for an anonymous viewer (no token, or {@link Mode#OFF})
     * @throws Invalid when the token does not verify, has expired or is malformed, or when none was sent with
     *                 {@link Mode#REQUIRED}
     */
    public ViewerIdentity identify(String token) {
        if (mode == Mode.OFF) {
            return null;
        }
        if (token == null || token.isEmpty()) {
            if (mode == Mode.REQUIRED) {
                throw new Invalid("missing");
            }
            return null;
        }
        if (token.length() > MAX_TOKEN_CHARS) {
            throw new Invalid("invalid");
        }
        Map<String, Object> claims;
        try {
            // a JWS only: "alg": "none" (an unsecured JWT) and encrypted JWTs do not parse as one
            SignedJWT jwt = SignedJWT.parse(token);
            processor.process(jwt, null);
            // the claims as sent: the library's claims set reads a numeric sub as its decimal text
            claims = jwt.getPayload().toJSONObject();
        } catch (ExpiredJWTException e) {
            throw new Invalid("expired");
        } catch (ParseException | BadJOSEException | JOSEException | RuntimeException e) {
            throw new Invalid("invalid");
        }
        if (!(claims.get("sub") instanceof String userId) || userId.isEmpty() || userId.length() > MAX_CLAIM_CHARS) {
            throw new Invalid("invalid");
        }
        Object name = claims.get("name");
        if (name != null && !(name instanceof String text && text.length() <= MAX_CLAIM_CHARS)) {
            throw new Invalid("invalid");
        }
        return new ViewerIdentity(userId, (String) name);
    }

    /** The one algorithm a key verifies. */
    private static JWSAlgorithm algorithm(Key key) {
        if (key instanceof SecretKey) {
            return JWSAlgorithm.HS256;
        }
        if (key instanceof RSAPublicKey) {
            return JWSAlgorithm.RS256;
        }
        if (key instanceof ECPublicKey) {
            return JWSAlgorithm.ES256;
        }
        throw new IllegalArgumentException("not a viewer token key: " + key.getAlgorithm());
    }
}
