package dev.gavel.bench;

import java.util.List;
import java.util.Map;

/** What a scenario runs against: Gavel (optionally with extra environment) or the Node.js Socket.IO peer. */
record Target(String label, boolean gavel, Map<String, String> env) {

    static final Target GAVEL = new Target("gavel", true, Map.of());
    static final Target PEER = new Target("peer", false, Map.of());

    static List<Target> parse(String value) {
        return switch (value) {
            case "gavel" -> List.of(GAVEL);
            case "peer" -> List.of(PEER);
            case "both" -> List.of(GAVEL, PEER);
            default -> throw new Options.UsageException("--target must be gavel, peer or both, got '" + value + "'");
        };
    }
}
