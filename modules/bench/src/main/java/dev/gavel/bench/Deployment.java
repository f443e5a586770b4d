package dev.gavel.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The servers of one target in one run: one or several Gavel nodes or peer processes, and the Redis they share
 * when there are several. Stopping it stops every process it started.
 */
final class Deployment implements AutoCloseable {

    final Target target;
    final List<ServerProcess> servers = new ArrayList<>();
    ServerProcess redis;

    private Deployment(Target target) {
        this.target = target;
    }

    static Deployment start(Context context, Target target, int replicas, Map<String, String> extraEnv) {
        Deployment deployment = new Deployment(target);
        try {
            String redisUrl = null;
            if (replicas > 1) {
                redisUrl = context.redisUrl();
                if (redisUrl == null) {
                    deployment.redis = ServerProcess.redis(context.logDir(target));
                    redisUrl = "redis://127.0.0.1:" + deployment.redis.port;
                }
            }
            for (int i = 0; i < replicas; i++) {
                Map<String, String> env = new HashMap<>();
                if (redisUrl != null) {
                    env.put("REDIS_URL", redisUrl);
                }
                if (target.gavel()) {
                    env.putAll(context.serverEnv());
                    env.putAll(extraEnv);
                    deployment.servers.add(ServerProcess.gavel(context.gavelJar(), target.label() + "-" + i, env,
                            context.serverJvmOptions(), context.logDir(target)));
                } else {
                    deployment.servers.add(ServerProcess.peer(context.peerDir(), target.label() + "-" + i, env,
                            context.logDir(target)));
                }
            }
            return deployment;
        } catch (RuntimeException e) {
            deployment.close();
            throw e;
        }
    }

    List<Integer> ports() {
        return servers.stream().map(s -> s.port).toList();
    }

    long cpuMillis() {
        return servers.stream().mapToLong(ServerProcess::cpuMillis).sum();
    }

    long rssKb() {
        return servers.stream().mapToLong(ServerProcess::rssKb).sum();
    }

    /** The live heap of every Gavel node after a full GC, summed; -1 for the peer (Node.js: RSS only). */
    long liveHeapKb() {
        return target.gavel() ? servers.stream().mapToLong(ServerProcess::liveHeapKb).sum() : -1;
    }

    long redisCpuMillis() {
        return redis == null ? 0 : redis.cpuMillis();
    }

    /** Per-thread CPU milliseconds of every server process, keyed "replica/thread#tid". */
    Map<String, Long> threadCpuMillis() {
        Map<String, Long> threads = new HashMap<>();
        for (ServerProcess server : servers) {
            ProcStats.threadCpuMillis(server.pid()).forEach((name, ms) -> threads.put(server.name + "/" + name, ms));
        }
        return threads;
    }

    @Override
    public void close() {
        for (ServerProcess server : servers) {
            server.stop();
        }
        if (redis != null) {
            redis.stop();
        }
    }
}
