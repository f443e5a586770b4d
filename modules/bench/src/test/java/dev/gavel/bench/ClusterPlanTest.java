package dev.gavel.bench;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The cluster scenario's audience: sizes, transports and workers add up to exactly the viewers asked for. */
class ClusterPlanTest {

    @Test
    void sizesAddUpWithTheHotShareAndAZipfTail() {
        int[] sizes = ClusterScenario.Plan.sizes(100_000, 1000, 0.3, 1.0);
        assertEquals(100_000, Arrays.stream(sizes).sum());
        assertEquals(30_000, sizes[0]);
        for (int k = 2; k < sizes.length; k++) {
            assertTrue(sizes[k] <= sizes[k - 1], "rank " + k + " is no bigger than rank " + (k - 1));
        }
        // Zipf with s = 1: rank 1 holds twice rank 2's viewers, up to rounding
        assertEquals(2.0, (double) sizes[1] / sizes[2], 0.01);
    }

    @Test
    void workerPlansSplitEveryAuctionAndTransportExactly() {
        Options options = Options.parse("cluster", new ClusterScenario().options(),
                new String[] {"--viewers", "10001", "--auctions", "37", "--ws-share", "0.1", "--polling-share", "0.2"});
        ClusterScenario.Plan plan = ClusterScenario.Plan.of(options);
        List<String> plans = plan.workerPlans(plan.sizes(), 3);
        Map<String, Integer> byAuction = new HashMap<>();
        Map<String, Integer> byTransport = new HashMap<>();
        int[] byWorker = new int[3];
        for (int w = 0; w < 3; w++) {
            for (String entry : plans.get(w).split(",")) {
                if (!entry.isEmpty()) {
                    String[] parts = entry.split(":");
                    int n = Integer.parseInt(parts[2]);
                    byAuction.merge(parts[0], n, Integer::sum);
                    byTransport.merge(parts[1], n, Integer::sum);
                    byWorker[w] += n;
                }
            }
        }
        for (int a = 0; a < 37; a++) {
            assertEquals(plan.sizes()[a], byAuction.getOrDefault(plan.name(a), 0), "auction " + plan.name(a));
        }
        assertEquals(1000, byTransport.get("ws"), 1);
        assertEquals(2000, byTransport.get("sio-polling"), 1);
        assertEquals(10001, byTransport.values().stream().mapToInt(Integer::intValue).sum());
        for (int w = 0; w < 3; w++) {
            assertEquals(10001 / 3.0, byWorker[w], 40, "workers get even shares");
        }
    }

    @Test
    void churnDrawsFollowTheSizes() {
        int[] sizes = ClusterScenario.Plan.sizes(1000, 10, 0.5, 1.0);
        ClusterScenario.Plan plan = new ClusterScenario.Plan(1000, List.of("hot", "a", "b", "c", "d", "e", "f", "g", "h", "i"),
                sizes, 0, 0, List.of(0), List.of(0));
        int[] drawn = plan.draw(20_000, new Random(3));
        assertEquals(20_000, Arrays.stream(drawn).sum());
        assertEquals(10_000, drawn[0], 300, "half to the hot auction");
    }
}
