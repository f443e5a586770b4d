package dev.gavel.redis;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.redis.client.Redis;
import io.vertx.redis.client.RedisConnection;
import io.vertx.redis.client.Request;
import io.vertx.redis.client.Response;
import io.vertx.redis.client.impl.types.BulkType;
import io.vertx.redis.client.impl.types.ErrorType;
import io.vertx.redis.client.impl.types.MultiType;
import io.vertx.redis.client.impl.types.NumberType;
import io.vertx.redis.client.impl.types.SimpleStringType;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;

/**
 * The transport under the router and the subscriber link, for their own logic: a node that answers each command by a
 * function the test gives, records what it got, and can refuse connections or lose them. Not a Redis: what the backend
 * does with Redis is tested on real {@code redis-server} processes (the contract suites in testkit).
 */
final class FakeNode {

    /** How a node answers a command on a connection: a reply, an {@link ErrorType} to fail it, or null for nil. */
    interface Answer extends BiFunction<Connection, Request, Response> {
    }

    final String hostPort;
    volatile Answer answer;
    /** Connections refused ("the shard is down"). */
    volatile boolean down;
    final List<Connection> connections = new CopyOnWriteArrayList<>();
    /** Every command received, as {@link #describe} writes it ("GET k"), batches included. */
    final List<String> received = new CopyOnWriteArrayList<>();
    /** How many connections were asked for, refused ones included. */
    volatile int attempts;
    /** How many pipelines ({@link RedisConnection#batch}) it got. */
    volatile int batches;

    FakeNode(String hostPort, Answer answer) {
        this.hostPort = hostPort;
        this.answer = answer;
    }

    /** A client of this node: its connections, closed with it. */
    Redis client() {
        return new Redis() {
            private final List<Connection> mine = new CopyOnWriteArrayList<>();
            private volatile boolean closed;

            @Override
            public Future<RedisConnection> connect() {
                attempts++;
                if (down || closed) {
                    return Future.failedFuture(new java.net.ConnectException("Connection refused: " + hostPort));
                }
                Connection connection = new Connection();
                connections.add(connection);
                mine.add(connection);
                return Future.succeededFuture(connection);
            }

            @Override
            public Future<Void> close() {
                closed = true;
                mine.forEach(Connection::close);
                return Future.succeededFuture();
            }

            @Override
            public Future<Response> send(Request command) {
                return connect().compose(conn -> conn.send(command).eventually(conn::close));
            }

            @Override
            public Future<List<Response>> batch(List<Request> commands) {
                return connect().compose(conn -> conn.batch(commands).eventually(conn::close));
            }
        };
    }

    /** The connections open now. */
    long open() {
        return connections.stream().filter(connection -> !connection.closed).count();
    }

    /** How many of the received commands are {@code command} (e.g. "CLUSTER SLOTS", "GET k"). */
    long count(String command) {
        return received.stream().filter(command::equals).count();
    }

    /** The command as it would be typed: its name and arguments, space-separated. */
    static String describe(Request command) {
        StringBuilder text = new StringBuilder(command.command().toString().toUpperCase());
        for (byte[] arg : ((io.vertx.redis.client.impl.RequestImpl) command).getArgs()) {
            text.append(' ').append(new String(arg, StandardCharsets.UTF_8));
        }
        return text.toString();
    }

    static Response bulk(String text) {
        return BulkType.create(Buffer.buffer(text), false);
    }

    static Response ok() {
        return SimpleStringType.OK;
    }

    static Response error(String message) {
        return ErrorType.create(message);
    }

    /** {@code CLUSTER SLOTS}' answer: {@code [from, to, [host, port, id]]} per range. */
    static Response slots(List<Object[]> ranges) {
        MultiType reply = MultiType.create(ranges.size(), false);
        for (Object[] range : ranges) {
            MultiType entry = MultiType.create(3, false);
            entry.add(NumberType.create((Integer) range[0]));
            entry.add(NumberType.create((Integer) range[1]));
            String hostPort = (String) range[2];
            MultiType master = MultiType.create(3, false);
            master.add(bulk(hostPort.substring(0, hostPort.lastIndexOf(':'))));
            master.add(NumberType.create(Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1))));
            master.add(bulk("id-" + hostPort));
            entry.add(master);
            reply.add(entry);
        }
        return reply;
    }

    /** One connection to the node. */
    final class Connection implements RedisConnection {

        private Handler<Response> handler;
        private Handler<Throwable> exceptionHandler;
        private Handler<Void> endHandler;
        volatile boolean closed;
        /** Free for the answer to use (e.g. "ASKING was sent"). */
        volatile boolean asking;

        @Override
        public Future<Response> send(Request command) {
            if (closed) {
                return Future.failedFuture(new IllegalStateException("Connection is closed"));
            }
            Response reply = answer.apply(this, command);
            // counted once answered: a test that waits for a command to be received sees its answer made
            received.add(describe(command));
            return reply instanceof ErrorType error ? Future.failedFuture(error) : Future.succeededFuture(reply);
        }

        @Override
        public Future<List<Response>> batch(List<Request> commands) {
            if (closed) {
                return Future.failedFuture(new IllegalStateException("Connection is closed"));
            }
            batches++;
            List<Response> replies = new ArrayList<>();
            for (Request command : commands) {
                Response reply = answer.apply(this, command);
                received.add(describe(command));
                if (reply instanceof ErrorType error) {
                    // as vertx-redis-client: a batch with an error reply fails whole, with that error
                    return Future.failedFuture(error);
                }
                replies.add(reply);
            }
            return Future.succeededFuture(replies);
        }

        FakeNode node() {
            return FakeNode.this;
        }

        /** A message or other push from the node. */
        void push(Response push) {
            handler.handle(push);
        }

        /** The node went away: the connection ends. */
        void lose() {
            closed = true;
            if (endHandler != null) {
                endHandler.handle(null);
            }
        }

        @Override
        public Future<Void> close() {
            closed = true;
            return Future.succeededFuture();
        }

        @Override
        public RedisConnection handler(Handler<Response> handler) {
            this.handler = handler;
            return this;
        }

        @Override
        public RedisConnection exceptionHandler(Handler<Throwable> handler) {
            this.exceptionHandler = handler;
            return this;
        }

        @Override
        public RedisConnection endHandler(Handler<Void> handler) {
            this.endHandler = handler;
            return this;
        }

        @Override
        public RedisConnection pause() {
            return this;
        }

        @Override
        public RedisConnection resume() {
            return this;
        }

        @Override
        public RedisConnection fetch(long amount) {
            return this;
        }

        @Override
        public boolean pendingQueueFull() {
            return false;
        }
    }

}
