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
    /** The masters of a Redis Cluster the servers share, when started on one; else empty. */
    final List<ServerProcess> shards = new ArrayList<>();

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

    /**
     * Gavel nodes on a Redis Cluster of {@code shardCount} masters (no replicas: the bench measures how the work
     * spreads, not failover), made a cluster by {@code redis-cli --cluster create}.
     */
    static Deployment startOnCluster(Context context, Target target, int replicas, int shardCount, Map<String, String> extraEnv) {
        Deployment deployment = new Deployment(target);
        try {
            List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
            for (int i = 0; i < shardCount; i++) {
                ServerProcess shard = ServerProcess.redisClusterNode(context.logDir(target), "shard-" + i);
                deployment.shards.add(shard);
                create.add("127.0.0.1:" + shard.port);
            }
            create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
            Process cli = new ProcessBuilder(create).redirectErrorStream(true)
                    .redirectOutput(context.logDir(target).resolve("redis-cli.log").toFile()).start();
            if (!cli.waitFor(60, java.util.concurrent.TimeUnit.SECONDS) || cli.exitValue() != 0) {
                cli.destroyForcibly();
                throw new IllegalStateException("redis-cli --cluster create failed; see " + context.logDir(target).resolve("redis-cli.log"));
            }
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (!deployment.shards.stream().allMatch(shard ->
                    ServerProcess.redisCommand(shard.port, "CLUSTER", "INFO").contains("cluster_state:ok"))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the Redis Cluster did not become ok within 30 s");
                }
                ServerProcess.sleep(100);
            }
            String seeds = String.join(",", deployment.shards.stream().map(shard -> "127.0.0.1:" + shard.port).toList());
            for (int i = 0; i < replicas; i++) {
                Map<String, String> env = new HashMap<>(context.serverEnv());
                env.putAll(extraEnv);
                env.put("REDIS_CLUSTER", seeds);
                deployment.servers.add(ServerProcess.gavel(context.gavelJar(), target.label() + "-" + i, env,
                        context.serverJvmOptions(), context.logDir(target)));
            }
            return deployment;
        } catch (java.io.IOException e) {
            deployment.close();
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            deployment.close();
            throw new IllegalStateException(e);
        } catch (RuntimeException e) {
            deployment.close();
            throw e;
        }
    }

    /** The Redis processes the servers share: the one Redis, or the masters of the cluster. */
    List<ServerProcess> redisProcesses() {
        if (!shards.isEmpty()) {
            return shards;
        }
        return redis == null ? List.of() : List.of(redis);
    }

    /** Commands each Redis process has processed so far ({@code INFO stats total_commands_processed}). */
    long[] redisCommands() {
        return redisProcesses().stream().mapToLong(r -> ServerProcess.redisInfo(r.port, "stats", "total_commands_processed")).toArray();
    }

    /** Calls by command ({@code INFO commandstats}), summed over every Redis process. */
    Map<String, Long> redisCommandCalls() {
        Map<String, Long> calls = new java.util.TreeMap<>();
        for (ServerProcess redis : redisProcesses()) {
            for (String line : ServerProcess.redisCommand(redis.port, "INFO", "commandstats").split("\r?\n")) {
                if (line.startsWith("cmdstat_")) {
                    String name = line.substring("cmdstat_".length(), line.indexOf(':'));
                    String rest = line.substring(line.indexOf("calls=") + "calls=".length());
                    calls.merge(name, Long.parseLong(rest.substring(0, rest.indexOf(','))), Long::sum);
                }
            }
        }
        return calls;
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
        return redisProcesses().stream().mapToLong(ServerProcess::cpuMillis).sum();
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
        shards.forEach(ServerProcess::stop);
    }
}
