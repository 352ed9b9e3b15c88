package io.dwcp.gossip;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The gossip message body, version 1 (a transport frames it: {@link io.dwcp.gossip.netty} puts a
 * 4-byte big-endian length in front). Integers marked {@code var} are unsigned LEB128 varints,
 * strings are {@code var} byte length + UTF-8.
 * <pre>
 * message  = version:u8 (=1) type:u8 sender:str body
 * type     = 1 DIGEST | 2 REPLY | 3 PUSH
 * DIGEST   : clock
 * REPLY    : clock payload
 * PUSH     : payload
 * clock    = count:var (replica:str counter:var)*        replicas in ascending order, counters &gt; 0
 * payload  = updateCount:var update* snapshotFlag:u8 (0 | 1 clock entryCount:var (key:str crdt)*)
 * update   = replica:str counter:var key:str crdt
 * crdt     = kind:u8 (1 LWW: value:str timestamp:var writer:str
 *                   | 2 OR-set: elementCount:var (element:str dotCount:var dot*)* removedCount:var dot*)
 * dot      = replica:str counter:var
 * </pre>
 * Decoding never allocates more than the message's own length implies: every count is checked
 * against the bytes left before anything is built.
 */
public final class GossipCodec {
    public static final int VERSION = 1;
    static final int DIGEST = 1;
    static final int REPLY = 2;
    static final int PUSH = 3;
    static final int LWW = 1;
    static final int OR_SET = 2;

    private GossipCodec() {}

    public static byte[] encode(GossipMessage message) {
        Writer out = new Writer();
        out.u8(VERSION);
        // Java 17: the sealed hierarchy by instanceof (no pattern switch)
        if (message instanceof GossipMessage.Digest digest) {
            out.u8(DIGEST);
            out.string(digest.sender());
            clock(out, digest.clock());
        } else if (message instanceof GossipMessage.Reply reply) {
            out.u8(REPLY);
            out.string(reply.sender());
            clock(out, reply.clock());
            payload(out, reply.payload());
        } else if (message instanceof GossipMessage.Push push) {
            out.u8(PUSH);
            out.string(push.sender());
            payload(out, push.payload());
        } else {
            throw new IllegalArgumentException("unknown message " + message);
        }
        return out.toByteArray();
    }

    private static void clock(Writer out, VectorClock clock) {
        out.var(clock.counters().size());
        clock.counters().forEach((replica, counter) -> {
            out.string(replica);
            out.var(counter);
        });
    }

    private static void payload(Writer out, GossipMessage.Payload payload) {
        out.var(payload.updates().size());
        for (GossipUpdate update : payload.updates()) {
            dot(out, update.dot());
            out.string(update.key());
            crdt(out, update.delta());
        }
        if (payload.snapshot() == null) {
            out.u8(0);
            return;
        }
        out.u8(1);
        clock(out, payload.snapshot().clock());
        out.var(payload.snapshot().entries().size());
        payload.snapshot().entries().forEach((key, value) -> {
            out.string(key);
            crdt(out, value);
        });
    }

    private static void dot(Writer out, Dot dot) {
        out.string(dot.replica());
        out.var(dot.counter());
    }

    private static void crdt(Writer out, Crdt value) {
        if (value instanceof LwwRegister register) {
            out.u8(LWW);
            out.string(register.value());
            out.var(register.timestamp());
            out.string(register.writer());
        } else if (value instanceof OrSet set) {
            out.u8(OR_SET);
            out.var(set.adds().size());
            set.adds().forEach((element, dots) -> {
                out.string(element);
                out.var(dots.size());
                dots.forEach(dot -> dot(out, dot));
            });
            out.var(set.removed().size());
            set.removed().forEach(dot -> dot(out, dot));
        } else {
            throw new IllegalArgumentException("unknown CRDT " + value);
        }
    }

    public static GossipMessage decode(byte[] bytes) throws GossipCodecException {
        Reader in = new Reader(ByteBuffer.wrap(bytes));
        int version = in.u8("version");
        if (version != VERSION) {
            throw new GossipCodecException(0, "version", Integer.toString(VERSION), Integer.toString(version));
        }
        int typeOffset = in.offset();
        int type = in.u8("type");
        String sender = in.string("sender");
        GossipMessage message = switch (type) {
            case DIGEST -> new GossipMessage.Digest(sender, clock(in));
            case REPLY -> new GossipMessage.Reply(sender, clock(in), payload(in));
            case PUSH -> new GossipMessage.Push(sender, payload(in));
            default ->
                throw new GossipCodecException(
                        typeOffset, "type", "1 (DIGEST), 2 (REPLY) or 3 (PUSH)", Integer.toString(type));
        };
        if (in.remaining() != 0) {
            throw new GossipCodecException(in.offset(), "end of message", "no more bytes", in.remaining() + " bytes");
        }
        return message;
    }

    private static VectorClock clock(Reader in) throws GossipCodecException {
        int count = in.count("clock count", 2);
        TreeMap<String, Long> counters = new TreeMap<>();
        String previous = null;
        for (int i = 0; i < count; i++) {
            int offset = in.offset();
            String replica = in.string("clock replica");
            if (previous != null && replica.compareTo(previous) <= 0) {
                throw new GossipCodecException(
                        offset, "clock replica", "a name after '" + previous + "'", "'" + replica + "'");
            }
            offset = in.offset();
            long counter = in.var("clock counter");
            if (counter == 0) {
                throw new GossipCodecException(offset, "clock counter", "> 0", "0");
            }
            counters.put(replica, counter);
            previous = replica;
        }
        return VectorClock.of(counters);
    }

    private static GossipMessage.Payload payload(Reader in) throws GossipCodecException {
        int count = in.count("update count", 4);
        List<GossipUpdate> updates = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            Dot dot = dot(in, "update dot");
            String key = in.string("update key");
            updates.add(new GossipUpdate(dot, key, crdt(in)));
        }
        int offset = in.offset();
        int flag = in.u8("snapshot flag");
        GossipMessage.Snapshot snapshot = switch (flag) {
            case 0 -> null;
            case 1 -> {
                VectorClock clock = clock(in);
                int entries = in.count("snapshot entry count", 3);
                TreeMap<String, Crdt> map = new TreeMap<>();
                for (int i = 0; i < entries; i++) {
                    String key = in.string("snapshot key");
                    map.put(key, crdt(in));
                }
                yield new GossipMessage.Snapshot(clock, map);
            }
            default -> throw new GossipCodecException(offset, "snapshot flag", "0 or 1", Integer.toString(flag));
        };
        return new GossipMessage.Payload(updates, snapshot);
    }

    private static Dot dot(Reader in, String field) throws GossipCodecException {
        String replica = in.string(field + " replica");
        int offset = in.offset();
        long counter = in.var(field + " counter");
        if (counter == 0) {
            throw new GossipCodecException(offset, field + " counter", "> 0", "0");
        }
        return new Dot(replica, counter);
    }

    private static Crdt crdt(Reader in) throws GossipCodecException {
        int offset = in.offset();
        int kind = in.u8("crdt kind");
        return switch (kind) {
            case LWW ->
                new LwwRegister(
                        in.string("register value"), in.var("register timestamp"), in.string("register writer"));
            case OR_SET -> {
                int elements = in.count("set element count", 2);
                TreeMap<String, SortedSet<Dot>> adds = new TreeMap<>();
                for (int i = 0; i < elements; i++) {
                    String element = in.string("set element");
                    int dots = in.count("set dot count", 2);
                    TreeSet<Dot> set = new TreeSet<>();
                    for (int j = 0; j < dots; j++) {
                        set.add(dot(in, "set dot"));
                    }
                    adds.put(element, set);
                }
                int removedCount = in.count("set removed count", 2);
                TreeSet<Dot> removed = new TreeSet<>();
                for (int i = 0; i < removedCount; i++) {
                    removed.add(dot(in, "set removed dot"));
                }
                yield OrSet.of(adds, removed);
            }
            default ->
                throw new GossipCodecException(offset, "crdt kind", "1 (LWW) or 2 (OR-set)", Integer.toString(kind));
        };
    }

    private static final class Writer {
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);

        void u8(int value) {
            bytes.write(value);
        }

        void var(long value) {
            if (value < 0) {
                throw new IllegalArgumentException("negative varint: " + value);
            }
            while ((value & ~0x7FL) != 0) {
                bytes.write((int) ((value & 0x7F) | 0x80));
                value >>>= 7;
            }
            bytes.write((int) value);
        }

        void string(String value) {
            byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
            var(utf8.length);
            bytes.write(utf8, 0, utf8.length);
        }

        byte[] toByteArray() {
            return bytes.toByteArray();
        }
    }

    private static final class Reader {
        private final ByteBuffer buffer;

        Reader(ByteBuffer buffer) {
            this.buffer = buffer;
        }

        int offset() {
            return buffer.position();
        }

        int remaining() {
            return buffer.remaining();
        }

        int u8(String field) throws GossipCodecException {
            if (!buffer.hasRemaining()) {
                throw new GossipCodecException(offset(), field, "1 byte", "end of message");
            }
            return buffer.get() & 0xFF;
        }

        long var(String field) throws GossipCodecException {
            int start = offset();
            long value = 0;
            for (int shift = 0; shift < 64; shift += 7) {
                if (!buffer.hasRemaining()) {
                    throw new GossipCodecException(start, field, "a varint", "end of message");
                }
                int b = buffer.get() & 0xFF;
                value |= (long) (b & 0x7F) << shift;
                if ((b & 0x80) == 0) {
                    if (value < 0) {
                        throw new GossipCodecException(start, field, "a varint below 2^63", "a negative value");
                    }
                    return value;
                }
            }
            throw new GossipCodecException(start, field, "a varint of at most 10 bytes", "more");
        }

        /** A count of items each at least {@code minimumItemBytes} long: no larger than the bytes left allow. */
        int count(String field, int minimumItemBytes) throws GossipCodecException {
            int start = offset();
            long count = var(field);
            if (count > remaining() / minimumItemBytes) {
                throw new GossipCodecException(
                        start,
                        field,
                        "at most " + remaining() / minimumItemBytes + " (bytes left: " + remaining() + ")",
                        Long.toString(count));
            }
            return (int) count;
        }

        String string(String field) throws GossipCodecException {
            int start = offset();
            long length = var(field + " length");
            if (length > remaining()) {
                throw new GossipCodecException(
                        start, field + " length", "at most " + remaining() + " (bytes left)", Long.toString(length));
            }
            byte[] utf8 = new byte[(int) length];
            buffer.get(utf8);
            return new String(utf8, StandardCharsets.UTF_8);
        }
    }

    /** Bytes of the message as encoded (what a transport counts). */
    public static int size(GossipMessage message) {
        return encode(message).length;
    }
}
