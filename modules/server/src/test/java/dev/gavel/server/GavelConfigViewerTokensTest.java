package dev.gavel.server;

import dev.gavel.server.viewers.ViewerTokens;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.crypto.SecretKey;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code VIEWER_TOKENS}, {@code VIEWER_TOKEN_SECRET} and {@code VIEWER_TOKEN_PUBLIC_KEY}: the mode follows the key
 * unless given, the kind of key decides the algorithm, several keys for rotation, and every mistake stops the node
 * naming the variable, never echoing a secret.
 */
class GavelConfigViewerTokensTest {

    private static final String SECRET = "a-secret-of-at-least-32-bytes-for-hs256";
    private static final String NEXT = "the-next-secret-after-rotation-0123456789";

    private static Path pem(Path dir, String name, PublicKey key) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, "-----BEGIN PUBLIC KEY-----\n" + Base64.getMimeEncoder().encodeToString(key.getEncoded())
                + "\n-----END PUBLIC KEY-----\n");
        return file;
    }

    private static PublicKey rsa(int bits) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(bits);
        return generator.generateKeyPair().getPublic();
    }

    private static PublicKey ec(String curve) throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec(curve));
        return generator.generateKeyPair().getPublic();
    }

    private static String refusal(Map<String, String> env) {
        return assertThrows(ConfigException.class, () -> GavelConfig.fromEnv(env), env.toString()).getMessage();
    }

    @Test
    void noKeyMeansTokensAreOff() {
        ViewerTokens.Settings settings = GavelConfig.fromEnv(Map.of()).viewerTokens();
        assertEquals(ViewerTokens.Mode.OFF, settings.mode());
        assertTrue(settings.keys().isEmpty());
        assertEquals(ViewerTokens.Mode.OFF, GavelConfig.fromEnv(Map.of("VIEWER_TOKENS", "off")).viewerTokens().mode());
    }

    @Test
    void aKeyMakesThemOptionalUnlessTheModeIsGiven() {
        assertEquals(ViewerTokens.Mode.OPTIONAL,
                GavelConfig.fromEnv(Map.of("VIEWER_TOKEN_SECRET", SECRET)).viewerTokens().mode());
        assertEquals(ViewerTokens.Mode.REQUIRED, GavelConfig.fromEnv(Map.of("VIEWER_TOKEN_SECRET", SECRET,
                "VIEWER_TOKENS", "Required")).viewerTokens().mode());
        assertEquals(ViewerTokens.Mode.OFF, GavelConfig.fromEnv(Map.of("VIEWER_TOKEN_SECRET", SECRET,
                "VIEWER_TOKENS", "off")).viewerTokens().mode());
    }

    @Test
    void secretsAreHmacKeysAndSeveralAreTakenForRotation() {
        List<?> keys = GavelConfig.fromEnv(Map.of("VIEWER_TOKEN_SECRET", NEXT + ", " + SECRET)).viewerTokens().keys();
        assertEquals(2, keys.size());
        assertEquals(NEXT, new String(assertInstanceOf(SecretKey.class, keys.get(0)).getEncoded()));
        assertEquals(SECRET, new String(assertInstanceOf(SecretKey.class, keys.get(1)).getEncoded()));
    }

    @Test
    void publicKeyFilesAreRsaOrP256Keys(@TempDir Path dir) throws Exception {
        Path rsa = pem(dir, "rsa.pem", rsa(2048));
        Path ec = pem(dir, "ec.pem", ec("secp256r1"));
        ViewerTokens.Settings settings = GavelConfig.fromEnv(Map.of("VIEWER_TOKEN_PUBLIC_KEY", rsa + "," + ec,
                "VIEWER_TOKENS", "required")).viewerTokens();
        assertEquals(ViewerTokens.Mode.REQUIRED, settings.mode());
        assertInstanceOf(RSAPublicKey.class, settings.keys().get(0));
        assertInstanceOf(ECPublicKey.class, settings.keys().get(1));
        assertEquals("required (2 keys: RS256, ES256)", settings.toString());
    }

    @Test
    void aBadModeOrAModeWithoutAKeyNamesTheVariable() {
        assertTrue(refusal(Map.of("VIEWER_TOKENS", "on")).startsWith("VIEWER_TOKENS: must be 'off', 'optional' or 'required'"));
        for (String mode : List.of("optional", "required")) {
            String message = refusal(Map.of("VIEWER_TOKENS", mode));
            assertTrue(message.startsWith("VIEWER_TOKENS: '" + mode + "' needs"), message);
            assertTrue(message.contains("VIEWER_TOKEN_SECRET or VIEWER_TOKEN_PUBLIC_KEY"), message);
        }
    }

    @Test
    void aShortSecretIsRefusedWithoutEchoingIt() {
        String shortSecret = "hunter2-is-short";
        String message = refusal(Map.of("VIEWER_TOKEN_SECRET", shortSecret));
        assertTrue(message.startsWith("VIEWER_TOKEN_SECRET: an HS256 secret must be at least 32 bytes, got 16"), message);
        assertFalse(message.contains("hunter2"), message);
        String second = refusal(Map.of("VIEWER_TOKEN_SECRET", SECRET + "," + shortSecret));
        assertTrue(second.contains("secret 2 of the list"), second);
        assertFalse(second.contains(SECRET) || second.contains("hunter2"), second);
        assertTrue(refusal(Map.of("VIEWER_TOKEN_SECRET", SECRET + ",,")).startsWith("VIEWER_TOKEN_SECRET: an empty item"));
    }

    @Test
    void atMostFourKeys() {
        String five = String.join(",", List.of(SECRET + 1, SECRET + 2, SECRET + 3, SECRET + 4, SECRET + 5));
        assertTrue(refusal(Map.of("VIEWER_TOKEN_SECRET", five)).startsWith("VIEWER_TOKEN_SECRET: at most 4 keys"));
        assertEquals(4, GavelConfig.fromEnv(Map.of("VIEWER_TOKEN_SECRET", five.substring(0, five.lastIndexOf(','))))
                .viewerTokens().keys().size());
    }

    @Test
    void aSecretAndAPublicKeyTogetherAreRefused(@TempDir Path dir) throws Exception {
        String message = refusal(Map.of("VIEWER_TOKEN_SECRET", SECRET,
                "VIEWER_TOKEN_PUBLIC_KEY", pem(dir, "rsa.pem", rsa(2048)).toString()));
        assertTrue(message.startsWith("VIEWER_TOKEN_PUBLIC_KEY: set only one of"), message);
        assertFalse(message.contains(SECRET), message);
    }

    @Test
    void aPublicKeyFileThatIsNotAUsableKeyNamesTheVariableAndTheFile(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.pem");
        Path notPem = Files.writeString(dir.resolve("text.pem"), "hello");
        Path certificate = Files.writeString(dir.resolve("cert.pem"), "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
        Path garbage = Files.writeString(dir.resolve("garbage.pem"), "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
        Path weakRsa = pem(dir, "rsa1024.pem", rsa(1024));
        Path p384 = pem(dir, "p384.pem", ec("secp384r1"));
        for (Path file : List.of(missing, notPem, certificate, garbage, weakRsa, p384)) {
            String message = refusal(Map.of("VIEWER_TOKEN_PUBLIC_KEY", file.toString()));
            assertTrue(message.startsWith("VIEWER_TOKEN_PUBLIC_KEY: "), message);
            assertTrue(message.contains(file.toString()), message);
        }
        assertTrue(refusal(Map.of("VIEWER_TOKEN_PUBLIC_KEY", weakRsa.toString())).contains("at least 2048 bits, got 1024"));
        assertTrue(refusal(Map.of("VIEWER_TOKEN_PUBLIC_KEY", p384.toString())).contains("must be on P-256"));
    }

    @Test
    void theConfigurationsTextShowsTheModeAndKindsOfKeysNeverASecret() {
        GavelConfig config = GavelConfig.fromEnv(Map.of("VIEWER_TOKEN_SECRET", NEXT + "," + SECRET));
        assertTrue(config.toString().contains("viewerTokens=optional (2 keys: HS256, HS256)"), config.toString());
        assertFalse(config.toString().contains(SECRET) || config.toString().contains(NEXT), config.toString());
    }
}
