package io.dwcp.gossip;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class GossipCodecTest {
    private static final long SEED = Long.getLong("dwcp.test.seed", 0xC0DECL);

    @Test
    void digestGoldenBytes() throws GossipCodecException {
        GossipMessage digest = new GossipMessage.Digest("eu", VectorClock.of(Map.of("eu", 3L, "us", 300L)));
        byte[] expected = {
            1, // version
            1, // type DIGEST
            2,
            'e',
            'u', // sender
            2, // clock count
            2,
            'e',
            'u',
            3, // eu:3
            2,
            'u',
            's',
            (byte) 0xAC,
            0x02, // us:300 (varint)
        };
        assertArrayEquals(expected, GossipCodec.encode(digest));
        assertEquals(digest, GossipCodec.decode(expected));
    }

    @Test
    void randomMessagesRoundTrip() throws GossipCodecException {
        Random random = new Random(SEED);
        for (int i = 0; i < 500; i++) {
            List<GossipUpdate> updates = new java.util.ArrayList<>();
            int count = random.nextInt(4);
            for (int j = 0; j < count; j++) {
                Crdt delta =
                        random.nextBoolean() ? CrdtLawsTest.randomRegister(random) : CrdtLawsTest.randomSet(random);
                updates.add(new GossipUpdate(
                        new Dot("r" + random.nextInt(3), 1 + random.nextInt(1000)), "key" + random.nextInt(5), delta));
            }
            GossipMessage.Snapshot snapshot = null;
            if (random.nextBoolean()) {
                TreeMap<String, Crdt> entries = new TreeMap<>();
                entries.put("leader/eu", CrdtLawsTest.randomRegister(random));
                entries.put("hosts/eu", CrdtLawsTest.randomSet(random));
                snapshot = new GossipMessage.Snapshot(CrdtLawsTest.randomClock(random), entries);
            }
            GossipMessage.Payload payload = new GossipMessage.Payload(updates, snapshot);
            GossipMessage message = switch (random.nextInt(3)) {
                case 0 -> new GossipMessage.Digest("node-" + i, CrdtLawsTest.randomClock(random));
                case 1 -> new GossipMessage.Reply("node-" + i, CrdtLawsTest.randomClock(random), payload);
                default -> new GossipMessage.Push("node-" + i, payload);
            };
            assertEquals(message, GossipCodec.decode(GossipCodec.encode(message)), "case " + i + ", seed " + SEED);
        }
    }

    @Test
    void malformedInputNamesOffsetFieldAndValues() {
        assertEquals(
                "malformed gossip message at offset 0: version: expected 1, found 2",
                assertThrows(GossipCodecException.class, () -> GossipCodec.decode(new byte[] {2, 1}))
                        .getMessage());
        assertEquals(
                "malformed gossip message at offset 1: type: expected 1 (DIGEST), 2 (REPLY) or 3 (PUSH), found 9",
                assertThrows(GossipCodecException.class, () -> GossipCodec.decode(new byte[] {1, 9, 1, 'a'}))
                        .getMessage());
        // a clock of 100 entries in a 7-byte message
        assertEquals(
                "malformed gossip message at offset 4: clock count: expected at most 1 (bytes left: 3), found 100",
                assertThrows(
                                GossipCodecException.class,
                                () -> GossipCodec.decode(new byte[] {1, 1, 1, 'a', 100, 0, 0, 0}))
                        .getMessage());
        // a string longer than the message
        assertEquals(
                "malformed gossip message at offset 2: sender length: expected at most 1 (bytes left), found 5",
                assertThrows(GossipCodecException.class, () -> GossipCodec.decode(new byte[] {1, 1, 5, 'a'}))
                        .getMessage());
        // clock replicas out of order
        assertEquals(
                "malformed gossip message at offset 8: clock replica: expected a name after 'b', found 'a'",
                assertThrows(
                                GossipCodecException.class,
                                () -> GossipCodec.decode(new byte[] {1, 1, 1, 'x', 2, 1, 'b', 1, 1, 'a', 1}))
                        .getMessage());
        // trailing bytes
        assertEquals(
                "malformed gossip message at offset 5: end of message: expected no more bytes, found 1 bytes",
                assertThrows(GossipCodecException.class, () -> GossipCodec.decode(new byte[] {1, 1, 1, 'x', 0, 7}))
                        .getMessage());
    }
}
