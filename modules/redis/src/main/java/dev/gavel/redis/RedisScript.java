package dev.gavel.redis;

import io.vertx.core.Future;
import io.vertx.redis.client.Command;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/** A Lua script of this package's resources, called by its SHA-1 and loaded again when Redis lost it. */
final class RedisScript {

    private final String text;
    private final String sha;

    private RedisScript(String text) {
        this.text = text;
        this.sha = sha1(text);
    }

    static RedisScript load(String resource) {
        try (InputStream in = RedisScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("missing script resource " + resource);
            }
            return new RedisScript(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An EVALSHA of this script with {@code keys}; add its ARGV to the request. */
    Request call(String... keys) {
        Request request = Request.cmd(Command.EVALSHA).arg(sha).arg(keys.length);
        for (String key : keys) {
            request.arg(key);
        }
        return request;
    }

    /**
     * An {@code EVAL} of this script's text with {@code keys}; add its ARGV to the request. For a script whose calls must
     * run in the order they were sent on one connection: an {@code EVALSHA} answered NOSCRIPT (Redis restarted, or a
     * new master) is sent again after the load, behind the calls sent meanwhile, which did find the script.
     */
    Request eval(String... keys) {
        Request request = Request.cmd(Command.EVAL).arg(text).arg(keys.length);
        for (String key : keys) {
            request.arg(key);
        }
        return request;
    }

    /** Sends a pipeline (not a transaction), loading the script first if Redis answers NOSCRIPT. */
    Future<List<Response>> batch(Redis redis, List<Request> requests) {
        return redis.batch(requests).recover(error -> {
            if (error.getMessage() == null || !error.getMessage().contains("NOSCRIPT")) {
                return Future.failedFuture(error);
            }
            return redis.send(Request.cmd(Command.SCRIPT).arg("LOAD").arg(text)).compose(loaded -> redis.batch(requests));
        });
    }

    private static String sha1(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
