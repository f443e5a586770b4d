package dev.gavel.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.HdrHistogram.Histogram;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Who is watching and where, on replicas sharing one Redis: what an admin's {@code GET .../viewers} and
 * {@code GET .../countries} cost (latency, Redis commands and Redis time per call) with viewers spread over the
 * replicas, what the feature costs Redis at rest (nothing is asked), and what keeping the countries with the counts
 * instead would cost Redis on every heartbeat (the extra work of a report that writes its replica's per-country
 * entries, timed by Redis itself on the same Redis). Gavel only: the peer has no such calls.
 */
final class AudienceScenario implements Scenario {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The extra work "kept with the counts" would add to every report of an auction: the reporting replica writes one
     * lease entry per country its viewers are in ({@code k:<node>:<country>}), and the sum reads them back with the
     * rest of the hash, as report.lua reads its entries. KEYS[1] the auction's hash; ARGV[1] the node; ARGV[2] the
     * lease end; ARGV[3..] country codes.
     */
    private static final String KEPT_EXTRA = "local key, node, lease = KEYS[1], ARGV[1], ARGV[2]\n"
            + "for i = 3, #ARGV do redis.call('HSET', key, 'k:' .. node .. ':' .. ARGV[i], '7:' .. lease) end\n"
            + "local n = 0\n"
            + "local all = redis.call('HGETALL', key)\n"
            + "for i = 1, #all, 2 do if string.sub(all[i], 1, 2) == 'k:' then n = n + 1 end end\n"
            + "return n";

    @Override
    public String name() {
        return "audience";
    }

    @Override
    public String description() {
        return "who is watching and where, across replicas: latency and Redis cost of the viewers and countries calls,"
                + " Redis at rest, and what keeping countries with the counts would cost per heartbeat";
    }

    @Override
    public List<Options.Spec> options() {
        return List.of(
                new Options.Spec("viewers", "4000", "viewers, round-robin over the replicas, all in one auction"),
                new Options.Spec("replicas", "2", "Gavel processes sharing one Redis"),
                new Options.Spec("asks", "200", "calls of each kind"),
                new Options.Spec("limit", "100", "the viewer list's page size (also measured at 1000)"),
                new Options.Spec("countries", "30", "countries in a report, for the kept-with-counts alternative"),
                new Options.Spec("concurrency", "200", "connections being opened at once"));
    }

    @Override
    public List<Target> targets(Context context) {
        return List.of(Target.GAVEL);
    }

    @Override
    public Result run(Context context, Target target) throws Exception {
        Options o = context.options;
        int viewers = o.integer("viewers");
        int replicas = Math.max(2, o.integer("replicas"));
        int asks = o.integer("asks");
        int limit = o.integer("limit");
        Path database = context.gavelJar().resolveSibling("geoip").resolve("geo-whois-asn-country.mmdb");
        Map<String, String> env = Files.isRegularFile(database) ? Map.of("GEOIP_DB", database.toString()) : Map.of();
        Result result = new Result(name(), target.label());
        if (env.isEmpty()) {
            result.note("no country database at " + database + ": countries are all unknown, lookups not made");
        }
        try (Deployment deployment = Deployment.start(context, target, replicas, env);
             Workers workers = context.workers(viewers, deployment)) {
            Workers.Opened opened = workers.open(viewers, "audience", o.integer("concurrency"), 600_000);
            workers.all("await-quiet 3000 120000", 120_000);
            int port = deployment.ports().get(0);
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();

            // at rest: nobody asks, viewers only heartbeat
            long[] rest0 = deployment.redisCommands();
            long restStart = System.nanoTime();
            ServerProcess.sleep(10_000);
            double restSeconds = (System.nanoTime() - restStart) / 1e9;
            long restCommands = deployment.redisCommands()[0] - rest0[0];

            JsonNode first = get(http, port, "/api/v1/auctions/audience/viewers?limit=" + limit);
            result.put("replicas", replicas).put("viewers", viewers).put("opened", opened.opened())
                    .put("listedConnections", first.get("connections").asLong())
                    .put("listedMissing", first.get("missing").size())
                    .put("restRedisCommandsPerSecond", restCommands / restSeconds);

            measure(result, "countries", deployment, http, port, "/api/v1/auctions/audience/countries", asks);
            measure(result, "viewers" + limit, deployment, http, port, "/api/v1/auctions/audience/viewers?limit=" + limit, asks);
            measure(result, "viewers1000", deployment, http, port, "/api/v1/auctions/audience/viewers?limit=1000", asks);
            JsonNode last = get(http, port, "/api/v1/auctions/audience/viewers?limit=1000");
            result.put("pageOf1000Bytes", JSON.writeValueAsBytes(last).length);

            // the alternative: what each report would add if every replica wrote its countries into the counts hash
            int countries = o.integer("countries");
            int redisPort = deployment.redis.port;
            String sha = ServerProcess.redisCommand(redisPort, "SCRIPT", "LOAD", KEPT_EXTRA).trim();
            List<String> call = new ArrayList<>(List.of("EVALSHA", sha, "1", "gavel:{a:kept-bench}", "node-x",
                    Long.toString(System.currentTimeMillis() + 6000)));
            for (int i = 0; i < countries; i++) {
                call.add("C" + (char) ('A' + i % 26) + (i / 26));
            }
            String[] args = call.toArray(String[]::new);
            ServerProcess.redisCommand(redisPort, "CONFIG", "RESETSTAT");
            int reports = 2000;
            for (int i = 0; i < reports; i++) {
                ServerProcess.redisCommand(redisPort, args);
            }
            double extraMicros = usecPerCall(redisPort, "evalsha");
            ServerProcess.redisCommand(redisPort, "DEL", "gavel:{a:kept-bench}");
            result.put("keptCountries", countries).put("keptExtraRedisMicrosPerReport", extraMicros);
        }
        return result;
    }

    /** {@code asks} calls of one path, one after the other: latency, Redis commands and Redis time per call. */
    private static void measure(Result result, String name, Deployment deployment, HttpClient http, int port, String path,
                                int asks) throws Exception {
        int redisPort = deployment.redis.port;
        get(http, port, path);
        ServerProcess.redisCommand(redisPort, "CONFIG", "RESETSTAT");
        long commands0 = deployment.redisCommands()[0];
        Histogram latency = new Histogram(60_000_000L, 3);
        for (int i = 0; i < asks; i++) {
            long t0 = System.nanoTime();
            get(http, port, path);
            latency.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
        }
        // the commands counter includes the INFO and RESETSTAT of this measurement: two
        long commands = deployment.redisCommands()[0] - commands0 - 1;
        double redisMicros = 0;
        for (String command : List.of("hgetall", "publish")) {
            redisMicros += usecTotal(redisPort, command);
        }
        result.latency(name, latency);
        result.put(name + "RedisCommandsPerCall", (double) commands / asks)
                .put(name + "RedisMicrosPerCall", redisMicros / asks);
    }

    private static JsonNode get(HttpClient http, int port, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + ServerProcess.ADMIN_TOKEN).GET().build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(path + " answered " + response.statusCode() + ": " + response.body());
        }
        return JSON.readTree(response.body());
    }

    /** {@code usec_per_call} of a command since the last {@code CONFIG RESETSTAT}. */
    private static double usecPerCall(int port, String command) {
        String stats = stat(port, command);
        return stats == null ? 0 : Double.parseDouble(field(stats, "usec_per_call"));
    }

    /** {@code usec} (total) of a command since the last {@code CONFIG RESETSTAT}. */
    private static double usecTotal(int port, String command) {
        String stats = stat(port, command);
        return stats == null ? 0 : Double.parseDouble(field(stats, "usec"));
    }

    private static String stat(int port, String command) {
        for (String line : ServerProcess.redisCommand(port, "INFO", "commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_" + command + ":")) {
                return line;
            }
        }
        return null;
    }

    private static String field(String line, String name) {
        int start = line.indexOf(name + "=") + name.length() + 1;
        int end = line.indexOf(',', start);
        return line.substring(start, end < 0 ? line.length() : end);
    }
}
