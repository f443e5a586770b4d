package dev.gavel.redis;

import io.vertx.redis.client.Command;
import io.vertx.redis.client.Request;

import java.util.List;

/**
 * The pub/sub commands of a topology. On one Redis (standalone, or the master a Sentinel set names) a message reaches
 * every subscriber of the server: {@code PUBLISH}, {@code SUBSCRIBE}. On a Redis Cluster plain pub/sub would copy
 * every message to every node; sharded pub/sub keeps it on the shard that serves its channel's slot:
 * {@code SPUBLISH}, {@code SSUBSCRIBE}.
 */
enum PubSub {

    PLAIN("PUBLISH", Command.SUBSCRIBE, Command.UNSUBSCRIBE, true),
    SHARDED("SPUBLISH", Command.SSUBSCRIBE, Command.SUNSUBSCRIBE, false);

    private final String publish;
    private final Command subscribe;
    private final Command unsubscribe;
    /** Several channels in one subscribe; the channels of one {@code SSUBSCRIBE} must share a slot, so never there. */
    private final boolean manyPerSubscribe;

    PubSub(String publish, Command subscribe, Command unsubscribe, boolean manyPerSubscribe) {
        this.publish = publish;
        this.subscribe = subscribe;
        this.unsubscribe = unsubscribe;
        this.manyPerSubscribe = manyPerSubscribe;
    }

    /** The publish command, as the scripts take it in their ARGV. */
    String publish() {
        return publish;
    }

    Request subscribe(String channel) {
        return Request.cmd(subscribe).arg(channel);
    }

    /** The commands that subscribe to all of {@code channels}: as few as the kind allows; none for none. */
    List<Request> subscribe(List<String> channels) {
        if (!manyPerSubscribe || channels.isEmpty()) {
            return channels.stream().map(this::subscribe).toList();
        }
        Request all = Request.cmd(subscribe);
        channels.forEach(all::arg);
        return List.of(all);
    }

    Request unsubscribe(String channel) {
        return Request.cmd(unsubscribe).arg(channel);
    }
}
