package dev.gavel.server.http;

import java.util.List;

/**
 * A node's limits per client address, shared by all its event loops: viewer connections held and opened per second
 * ({@code MAX_CONNECTIONS_PER_ADDRESS}, {@code MAX_NEW_CONNECTIONS_PER_ADDRESS_PER_SECOND}), HTTP API requests
 * per second ({@code MAX_API_REQUESTS_PER_ADDRESS_PER_SECOND}), with the client address as {@link ClientAddresses}
 * tells it, and TCP connections of any kind held open ({@code MAX_SOCKETS_PER_ADDRESS}), by TCP peer.
 */
public record NodeLimits(ClientAddresses addresses, AddressLimiter viewers, AddressLimiter api, AddressLimiter sockets) {

    /** How often the tables forget the addresses that hold nothing. */
    public static final long SWEEP_MILLIS = 1_000;

    /** Limits from the node's settings (see GavelConfig for each). */
    public static NodeLimits of(List<String> trustedProxies, int maxConnections, int maxNewConnectionsPerSecond,
                                int maxApiRequestsPerSecond, int maxSockets) {
        return new NodeLimits(ClientAddresses.trusting(trustedProxies),
                new AddressLimiter("address_rate", "address_connections", maxConnections, maxNewConnectionsPerSecond,
                        System::nanoTime),
                new AddressLimiter("api_rate", "api_rate", Integer.MAX_VALUE, maxApiRequestsPerSecond, System::nanoTime),
                // no rate: a browser opens its sockets in bursts, and what each does is limited where it is decided
                new AddressLimiter("address_sockets", "address_sockets", maxSockets, Integer.MAX_VALUE, System::nanoTime));
    }

    public void sweep() {
        viewers.sweep();
        api.sweep();
        sockets.sweep();
    }
}
