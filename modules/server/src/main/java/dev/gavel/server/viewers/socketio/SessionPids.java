package dev.gavel.server.viewers.socketio;

import dev.gavel.core.AuctionId;
import dev.gavel.core.EventOffset;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Socket.IO's private session ids ({@code pid}), which connection state recovery hands to a client in its CONNECT
 * answer and the client sends back when it reconnects. Socket.IO keeps the session on the server that held it; here
 * any replica must restore it, also when the one that held it was killed and wrote nothing. So the pid carries the
 * session itself, signed: the auction and the offset the viewer joined at (a client that got no event since sends no
 * offset of its own), with an HMAC-SHA256 under a key that every replica derives from the admin token they share.
 *
 * <p>A pid cannot be forged without the key, and it names its auction: one made for another auction is refused, so it
 * cannot be replayed into it. Replaying a pid into its own auction gains nothing: the events it recovers are the
 * auction's public events (see {@code GET /api/v1/auctions/{id}/events}). Thread-safe.
 */
final class SessionPids {

    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder DECODER = Base64.getUrlDecoder();
    private static final int MAC_BYTES = 16;
    private static final int MAX_PID_LENGTH = 256;

    private final byte[] key;
    /** One initialised MAC per thread (event loop): made once, not per connection. */
    private final ThreadLocal<Mac> macs = ThreadLocal.withInitial(this::newMac);

    /** @param secret what the replicas share (the admin token): the key is derived from it, never it */
    SessionPids(String secret) {
        try {
            this.key = MessageDigest.getInstance("SHA-256")
                    .digest(("gavel socket.io session pid\n" + secret).getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A pid for a viewer of {@code auction} that joined at {@code position} (null: before the auction's first event). */
    String issue(AuctionId auction, EventOffset position) {
        byte[] payload = (auction.value() + " " + (position == null ? "" : position)).getBytes(StandardCharsets.UTF_8);
        return ENCODER.encodeToString(payload) + "." + ENCODER.encodeToString(mac(payload));
    }

    /** What a verified pid of {@code auction} says: the offset its viewer joined at, or null when it had none. */
    record Claim(EventOffset position) {
    }

    /** The claim of a pid made for {@code auction} by a replica that shares the key, or null for any other text. */
    Claim verify(String pid, AuctionId auction) {
        if (pid == null || pid.length() > MAX_PID_LENGTH) {
            return null;
        }
        int dot = pid.indexOf('.');
        if (dot <= 0) {
            return null;
        }
        byte[] payload;
        byte[] mac;
        try {
            payload = DECODER.decode(pid.substring(0, dot));
            mac = DECODER.decode(pid.substring(dot + 1));
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (!MessageDigest.isEqual(mac, mac(payload))) {
            return null;
        }
        String text = new String(payload, StandardCharsets.UTF_8);
        int space = text.indexOf(' ');
        if (space < 0 || !text.substring(0, space).equals(auction.value())) {
            return null;
        }
        String position = text.substring(space + 1);
        return new Claim(position.isEmpty() ? null : EventOffset.parse(position));
    }

    private byte[] mac(byte[] payload) {
        // doFinal resets the MAC for its next use
        return Arrays.copyOf(macs.get().doFinal(payload), MAC_BYTES);
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
