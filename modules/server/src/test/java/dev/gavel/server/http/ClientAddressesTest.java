package dev.gavel.server.http;

import io.vertx.core.MultiMap;
import io.vertx.core.net.SocketAddress;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class ClientAddressesTest {

    private static final ClientAddresses BEHIND_PROXIES = ClientAddresses.trusting(List.of("10.0.0.0/8", "192.168.1.7"));
    private static final ClientAddresses NO_PROXY = ClientAddresses.trusting(List.of());

    private static String client(ClientAddresses addresses, String peer, String... forwarded) {
        MultiMap headers = MultiMap.caseInsensitiveMultiMap();
        for (String value : forwarded) {
            headers.add("X-Forwarded-For", value);
        }
        return addresses.of(SocketAddress.inetSocketAddress(40000, peer), headers);
    }

    @Test
    void withoutATrustedProxyTheClientIsThePeerWhateverItForwards() {
        assertEquals("203.0.113.9", client(NO_PROXY, "203.0.113.9", "198.51.100.1"));
        assertEquals("203.0.113.9", client(BEHIND_PROXIES, "203.0.113.9", "198.51.100.1"));
    }

    @Test
    void behindTrustedProxiesTheClientIsTheRightMostUntrustedAddress() {
        assertEquals("198.51.100.1", client(BEHIND_PROXIES, "10.1.2.3", "198.51.100.1"));
        // the client wrote the left-most entry itself: it proves nothing
        assertEquals("198.51.100.1", client(BEHIND_PROXIES, "10.1.2.3", "6.6.6.6, 198.51.100.1, 192.168.1.7"));
        assertEquals("198.51.100.1", client(BEHIND_PROXIES, "10.1.2.3", "6.6.6.6", "198.51.100.1, 10.9.9.9"));
    }

    @Test
    void whenEveryHopIsTrustedTheLeftMostIsTheClient() {
        assertEquals("10.0.0.5", client(BEHIND_PROXIES, "10.1.2.3", "10.0.0.5, 192.168.1.7"));
        assertEquals("10.1.2.3", client(BEHIND_PROXIES, "10.1.2.3"));
    }

    @Test
    void garbageInTheHeaderStopsAtTheLastProxyThatVouchedForSomething() {
        assertEquals("10.1.2.3", client(BEHIND_PROXIES, "10.1.2.3", "evil.example"));
        assertEquals("10.9.9.9", client(BEHIND_PROXIES, "10.1.2.3", "198.51.100.1, junk, 10.9.9.9"));
    }

    @Test
    void anIpv6ClientIsItsSlash64AndMappedIpv4IsIpv4() {
        assertEquals(client(NO_PROXY, "2001:db8:1:2::1"), client(NO_PROXY, "2001:db8:1:2:ffff::9"));
        assertEquals("2001:db8:1:2::/64", client(NO_PROXY, "2001:db8:1:2::1"));
        assertEquals("127.0.0.1", client(NO_PROXY, "::ffff:127.0.0.1"));
    }

    @Test
    void aTcpPeerIsKeyedLikeAClientAndATrustedProxyOrANonIpPeerIsNotCounted() throws Exception {
        assertEquals("203.0.113.9", BEHIND_PROXIES.untrustedPeer(new java.net.InetSocketAddress(
                java.net.InetAddress.getByName("203.0.113.9"), 4000)));
        assertEquals("2001:db8:1:2::/64", NO_PROXY.untrustedPeer(new java.net.InetSocketAddress(
                java.net.InetAddress.getByName("2001:db8:1:2::77"), 4000)));
        assertEquals("127.0.0.1", NO_PROXY.untrustedPeer(new java.net.InetSocketAddress(
                java.net.InetAddress.getByName("::ffff:127.0.0.1"), 4000)));
        assertNull(BEHIND_PROXIES.untrustedPeer(new java.net.InetSocketAddress(java.net.InetAddress.getByName("10.1.2.3"), 4000)));
        assertNull(BEHIND_PROXIES.untrustedPeer(new java.net.InetSocketAddress(java.net.InetAddress.getByName("192.168.1.7"), 1)));
        assertNull(NO_PROXY.untrustedPeer(null));
    }
}
