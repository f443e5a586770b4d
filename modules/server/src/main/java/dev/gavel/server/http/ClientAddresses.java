package dev.gavel.server.http;

import io.netty.util.NetUtil;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;

/**
 * Who is behind a request, for the per-address limits: the TCP peer, or, when the peer is a trusted proxy
 * ({@code TRUSTED_PROXIES}), the right-most address of {@code X-Forwarded-For} that is not itself a trusted
 * proxy (what is left of it was written by the client and proves nothing). An IPv6 client is its /64: one host
 * may hold a whole /64, so single IPv6 addresses would not limit anything.
 *
 * <p>Immutable; safe on every event loop.
 */
public final class ClientAddresses {

    private final List<Cidr> trusted;

    private ClientAddresses(List<Cidr> trusted) {
        this.trusted = trusted;
    }

    public static ClientAddresses trusting(List<String> proxies) {
        return new ClientAddresses(proxies.stream().map(Cidr::parse).toList());
    }

    /**
     * Parses {@code TRUSTED_PROXIES}: comma-separated addresses and CIDR blocks.
     *
     * @throws IllegalArgumentException naming the first entry that is not an address or a block
     */
    public static List<String> parse(String raw) {
        List<String> entries = raw == null ? List.of()
                : Arrays.stream(raw.split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList();
        entries.forEach(Cidr::parse);
        return entries;
    }

    /** The client's address as a key for the limits: its address, or its /64 for IPv6. */
    public String of(HttpServerRequest request) {
        return of(request.remoteAddress(), request.headers());
    }

    public String of(SocketAddress peer, MultiMap headers) {
        byte[] address = peer == null || peer.hostAddress() == null ? null : bytes(peer.hostAddress());
        if (address == null) {
            // not an IP peer (a Unix socket): one key for all of them
            return peer == null ? "unknown" : String.valueOf(peer);
        }
        return key(resolve(address, headers));
    }

    /**
     * The client's whole address (not its /64), for a country lookup; null for a peer that is not an IP address. Not
     * kept by anyone: see docs/privacy.md.
     */
    public InetAddress client(SocketAddress peer, MultiMap headers) {
        byte[] address = peer == null || peer.hostAddress() == null ? null : bytes(peer.hostAddress());
        if (address == null) {
            return null;
        }
        try {
            return InetAddress.getByAddress(resolve(address, headers));
        } catch (UnknownHostException e) {
            return null;
        }
    }

    /** Whether the request's TCP peer is a trusted proxy, whose headers ({@code X-Forwarded-For} and others) count. */
    public boolean isTrustedProxy(SocketAddress peer) {
        byte[] address = peer == null || peer.hostAddress() == null ? null : bytes(peer.hostAddress());
        return address != null && isTrusted(address);
    }

    /** The client behind a peer: the peer itself, or what trusted proxies forwarded for (see the class comment). */
    private byte[] resolve(byte[] peer, MultiMap headers) {
        byte[] address = peer;
        if (isTrusted(address)) {
            List<String> forwarded = headers.getAll("X-Forwarded-For");
            for (int i = forwarded.size() - 1; i >= 0; i--) {
                String[] hops = forwarded.get(i).split(",");
                for (int j = hops.length - 1; j >= 0; j--) {
                    byte[] hop = bytes(hops[j].trim());
                    if (hop == null) {
                        // garbage where an address should be: the proxy in front of it vouches for no more
                        return address;
                    }
                    address = hop;
                    if (!isTrusted(hop)) {
                        return hop;
                    }
                }
            }
        }
        return address;
    }

    /**
     * The key of a TCP peer for the limits on open sockets, or null for a trusted proxy (whose connections carry many
     * clients; the proxy limits them) and for a peer that is not an IP address.
     */
    String untrustedPeer(java.net.SocketAddress peer) {
        if (!(peer instanceof java.net.InetSocketAddress inet) || inet.getAddress() == null) {
            return null;
        }
        byte[] address = inet.getAddress().getAddress();
        if (address.length == 16 && isIpv4Mapped(address)) {
            address = Arrays.copyOfRange(address, 12, 16);
        }
        return isTrusted(address) ? null : key(address);
    }

    private boolean isTrusted(byte[] address) {
        for (Cidr cidr : trusted) {
            if (cidr.contains(address)) {
                return true;
            }
        }
        return false;
    }

    private static String key(byte[] address) {
        if (address.length == 16) {
            byte[] prefix = Arrays.copyOf(address, 16);
            Arrays.fill(prefix, 8, 16, (byte) 0);
            return NetUtil.bytesToIpAddress(prefix) + "/64";
        }
        return NetUtil.bytesToIpAddress(address);
    }

    /** An IP literal's bytes (IPv4-mapped IPv6 as IPv4), or null for anything else: never a name lookup. */
    private static byte[] bytes(String literal) {
        String bare = literal.startsWith("[") && literal.endsWith("]") ? literal.substring(1, literal.length() - 1) : literal;
        byte[] address = NetUtil.createByteArrayFromIpAddressString(bare);
        if (address != null && address.length == 16 && isIpv4Mapped(address)) {
            return Arrays.copyOfRange(address, 12, 16);
        }
        return address;
    }

    private static boolean isIpv4Mapped(byte[] address) {
        for (int i = 0; i < 10; i++) {
            if (address[i] != 0) {
                return false;
            }
        }
        return address[10] == (byte) 0xff && address[11] == (byte) 0xff;
    }

    private record Cidr(byte[] network, int prefix) {

        public static Cidr parse(String entry) {
            int slash = entry.indexOf('/');
            byte[] network = bytes(slash < 0 ? entry : entry.substring(0, slash));
            if (network == null) {
                throw new IllegalArgumentException("not an address or CIDR block: '" + entry + "'");
            }
            int prefix = network.length * 8;
            if (slash >= 0) {
                try {
                    prefix = Integer.parseInt(entry.substring(slash + 1));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("not an address or CIDR block: '" + entry + "'");
                }
                if (prefix < 0 || prefix > network.length * 8) {
                    throw new IllegalArgumentException("prefix out of range: '" + entry + "'");
                }
            }
            return new Cidr(network, prefix);
        }

        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            int full = prefix / 8;
            for (int i = 0; i < full; i++) {
                if (address[i] != network[i]) {
                    return false;
                }
            }
            int rest = prefix % 8;
            if (rest == 0) {
                return true;
            }
            int mask = 0xff << (8 - rest);
            return (address[full] & mask) == (network[full] & mask);
        }
    }
}
