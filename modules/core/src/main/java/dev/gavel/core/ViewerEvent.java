package dev.gavel.core;

import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;

/**
 * One event sent to viewers: a name and its payload as JSON text. An event fanned out to many viewers is
 * encoded once per wire format, not once per viewer; the encodings are memoised here. The event loops of a
 * replica share one event: the String memos are immutable, and {@link #encoding}s are published safely.
 */
public final class ViewerEvent {

    public static final String VIEWER_COUNT_UPDATE = "viewerCountUpdate";
    public static final String PLAYER_BIDDING_UPDATE = "playerBiddingUpdate";
    public static final String PLAYER_SOLD_UPDATE = "playerSoldUpdate";
    public static final String HEARTBEAT_ACK = "heartbeat-ack";
    public static final String ERROR = "error";
    public static final String RECOVERY = "recovery";
    /** How many wire formats may keep an {@link #encoding} of an event. */
    public static final int WIRE_FORMATS = 4;

    private final String name;
    private final String dataJson;
    private final long publishedAtMillis;
    /** Where the event stands in its auction's log; null for an event that was not published. */
    private final EventOffset offset;
    private String jsonFrame;
    private String socketIoPacket;
    /** Published safely: another event loop reads an encoding only once it is complete. */
    private final AtomicReferenceArray<Object> encodings = new AtomicReferenceArray<>(WIRE_FORMATS);

    private ViewerEvent(String name, String dataJson, long publishedAtMillis, EventOffset offset) {
        this.name = name;
        this.dataJson = dataJson;
        this.publishedAtMillis = publishedAtMillis;
        this.offset = offset;
    }

    /**
     * An event made on this replica for its own viewers (a count, an answer to a viewer's frame): it was not
     * published, so it has no {@link #publishedAtMillis}.
     *
     * @param name     an event name of the contract; it is put into JSON unescaped, so it must not need escaping
     * @param dataJson the payload, already valid JSON text
     */
    public static ViewerEvent of(String name, String dataJson) {
        return new ViewerEvent(name, dataJson, 0, null);
    }

    /**
     * An event published for an auction's viewers, with the time it was published (wall clock, milliseconds since
     * the epoch): the replicas that deliver it measure the publish-to-delivery lag from it.
     */
    public static ViewerEvent published(String name, String dataJson, long publishedAtMillis) {
        return new ViewerEvent(name, dataJson, publishedAtMillis, null);
    }

    /** This published event as its auction's log holds it: at {@code offset}. */
    public ViewerEvent at(EventOffset offset) {
        return new ViewerEvent(name, dataJson, publishedAtMillis, offset);
    }

    /**
     * The {@code recovery} event that a viewer coming back with an offset gets first: how many events it missed, or
     * that they could not be found ({@code missed} is then left out).
     */
    public static ViewerEvent recovery(boolean recovered, int missed) {
        return of(RECOVERY, recovered ? "{\"recovered\":true,\"missed\":" + missed + "}" : "{\"recovered\":false}");
    }

    /** An {@code error} event with code {@code bad_frame}. */
    public static ViewerEvent badFrame(String message) {
        return of(ERROR, "{\"code\":\"bad_frame\",\"message\":" + Json.quote(message) + "}");
    }

    public String name() {
        return name;
    }

    /** True for a {@code viewerCountUpdate}: a newer one makes it worthless. */
    public boolean isCount() {
        return VIEWER_COUNT_UPDATE.equals(name);
    }

    /** True for a {@code playerBiddingUpdate}: the bid a joiner is shown. */
    public boolean isBid() {
        return PLAYER_BIDDING_UPDATE.equals(name);
    }

    /** Where the event stands in its auction's log, or null for an event that was not published. */
    public EventOffset offset() {
        return offset;
    }

    /** Roughly what the event weighs on any wire, in characters. */
    public int weight() {
        return name.length() + dataJson.length() + 16;
    }

    public String dataJson() {
        return dataJson;
    }

    /** When the event was published, by the publishing replica's clock; 0 for an event that was not published. */
    public long publishedAtMillis() {
        return publishedAtMillis;
    }

    /** The WebSocket and SockJS frame: {@code {"event":NAME,"data":PAYLOAD}}, with {@code "offset"} when it has one. */
    public String jsonFrame() {
        String frame = jsonFrame;
        if (frame == null) {
            frame = "{\"event\":\"" + name + "\",\"data\":" + dataJson
                    + (offset == null ? "}" : ",\"offset\":\"" + offset + "\"}");
            jsonFrame = frame;
        }
        return frame;
    }

    /**
     * The Socket.IO EVENT packet in the default namespace, with the Engine.IO MESSAGE prefix: {@code 42["NAME",PAYLOAD]},
     * and the offset as the last argument when it has one, as Socket.IO's connection state recovery does (the client
     * keeps it by itself and sends it back when it reconnects).
     */
    public String socketIoPacket() {
        String packet = socketIoPacket;
        if (packet == null) {
            packet = "42[\"" + name + "\"," + dataJson + (offset == null ? "]" : ",\"" + offset + "\"]");
            socketIoPacket = packet;
        }
        return packet;
    }

    /**
     * This event as a transport puts it on the wire, made by {@code encoder} the first time and kept: an event that
     * goes to many viewers is encoded once per wire format, whichever event loop asks. {@code format} is the
     * transport's own small number (0 to {@link #WIRE_FORMATS} - 1); the encoding must not be modified by its users.
     */
    @SuppressWarnings("unchecked")
    public <T> T encoding(int format, Function<ViewerEvent, T> encoder) {
        Object encoded = encodings.get(format);
        if (encoded == null) {
            Object made = encoder.apply(this);
            encoded = encodings.compareAndExchange(format, null, made);
            if (encoded == null) {
                encoded = made;
            }
        }
        return (T) encoded;
    }

    @Override
    public String toString() {
        return jsonFrame();
    }
}
