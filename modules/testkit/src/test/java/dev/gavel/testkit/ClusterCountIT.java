package dev.gavel.testkit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Three nodes on one real Redis: viewers spread over them all see the same counts. */
class ClusterCountIT {

    @RegisterExtension
    static final ClusterExtension gavel = new ClusterExtension(3, Map.of("NODE_TTL_MS", "2000"));

    @Test
    void viewersSpreadOverNodesAllSeeTheSameCount() {
        List<TestViewer> viewers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            viewers.add(gavel.watch(i % 3, "spread"));
        }
        viewers.forEach(v -> v.awaitCount(6, 6));
    }

    @Test
    void aViewerLeavingDropsTheCountEverywhereAndPeakHolds() {
        TestViewer a = gavel.watch(0, "leave");
        TestViewer b = gavel.watch(1, "leave");
        TestViewer c = gavel.watch(2, "leave");
        List.of(a, b, c).forEach(v -> v.awaitCount(3, 3));
        b.close();
        a.awaitCount(2, 3);
        c.awaitCount(2, 3);
    }

    @Test
    void aReplicaIsSubscribedToAnAuctionOnlyWhileItHasViewersThere() {
        String channel = "gavel:{a:subs}:events";
        TestViewer a = gavel.watch(0, "subs");
        TestViewer b = gavel.watch(1, "subs");
        a.awaitCount(2, 2);
        await().atMost(TestViewer.PATIENCE).until(() -> subscribers(channel) == 2);
        a.close();
        b.close();
        await().atMost(TestViewer.PATIENCE).until(() -> subscribers(channel) == 0);
    }

    private static long subscribers(String channel) {
        // The reply is a RESP array [channel, count]; the count is the last line, as ":<n>".
        String reply = gavel.redis().command("PUBSUB NUMSUB " + channel);
        String[] lines = reply.split("\r\n");
        return Long.parseLong(lines[lines.length - 1].substring(1));
    }

    @Test
    void twoAuctionsCountIndependently() {
        TestViewer x1 = gavel.watch(0, "x");
        TestViewer x2 = gavel.watch(1, "x");
        TestViewer y1 = gavel.watch(2, "y");
        x1.awaitCount(2, 2);
        x2.awaitCount(2, 2);
        y1.awaitCount(1, 1);
        assertEquals(1, y1.lastCount().getLong("current"));
    }
}
