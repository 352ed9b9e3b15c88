package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.codec.CodecException;
import io.dwcp.codec.DestinationCodec;
import io.dwcp.codec.SourceCodec;
import io.dwcp.codec.StreamDecoder;
import io.dwcp.codec.StreamEncoder;
import io.dwcp.config.DataSize;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each end's {@link CacheBudget} bounds a session's caches: the handshake settles on the lesser of
 * what both ends reserved, the source's connections take their caches out of it in turn, the
 * destination refuses a START frame asking for more, and both budgets are whole again once the
 * session ends.
 */
class SessionCachesTest {
    // 8 MiB caches: 2,048 pages each for the first connection, 256 for each of the next eight
    private static HdeConfig config() {
        return new HdeConfig()
                .setTier(3)
                .setBaselineRecord("none")
                .setDeltaCacheSize(DataSize.ofMiB(8))
                .setHashCacheSize(DataSize.ofMiB(8));
    }

    @TempDir
    Path baselines;

    @Test
    void theSessionHoldsTheLesserOfWhatBothEndsReserved() throws Exception {
        List<byte[]> channels =
                HdeFixtureTest.channels(HdeFixtureTest.fixturesRoot().resolve("qemu-7.2-multifd"));
        assertTrue(channels.size() >= 3, "a main channel and at least two multifd channels");
        CacheBudget sourceBudget = new CacheBudget(1L << 30);
        // the destination has room for the first connection's caches and 100 pages more of each
        CacheBudget destinationBudget = new CacheBudget(CacheBudget.End.DESTINATION.bytes(2148, 2148));
        HdeConfig config = config().setBaselineDirectory(baselines);
        BaselineStore store = new BaselineStore(config);
        try (BaselineJobs jobs = new BaselineJobs(config, store)) {
            SourceCodec source = new HdeSessionCodecs(config, new HdeStats(), store, jobs, sourceBudget, Runnable::run)
                    .newSource(1, "[source]");
            // the source asks for every connection's share: 2,048 + 8 x 256 pages of each cache
            ByteBuffer offer = ByteBuffer.wrap(source.offer());
            assertEquals(HdeSessionCodecs.OFFER_LENGTH, offer.remaining());
            assertEquals(4096, offer.getInt(13));
            assertEquals(4096, offer.getInt(17));
            DestinationCodec destination = new HdeSessionCodecs(
                            config, new HdeStats(), store, jobs, destinationBudget, Runnable::run)
                    .newDestination(1, "[destination]", source.offer());
            assertEquals(destinationBudget.capacity(), destinationBudget.reserved());
            source.answer(destination.answer());
            // the source keeps no more than the destination granted
            assertEquals(CacheBudget.End.SOURCE.bytes(2148, 2148), sourceBudget.reserved());

            List<int[]> asked = new ArrayList<>();
            for (int channel = 0; channel < channels.size(); channel++) {
                byte[] stream = channels.get(channel);
                StreamEncoder encoder = source.newEncoder(channel);
                StreamDecoder decoder = destination.newDecoder(channel);
                ByteArrayOutputStream decoded = new ByteArrayOutputStream();
                List<ByteBuf> frames = new ArrayList<>();
                encoder.encode(Unpooled.wrappedBuffer(stream), frames::add);
                encoder.flush(frames::add);
                asked.add(startCaches(frames.get(0)));
                for (ByteBuf frame : frames) {
                    decoder.decode(frame, bytes -> {
                        byte[] copy = new byte[bytes.readableBytes()];
                        bytes.readBytes(copy);
                        bytes.release();
                        decoded.writeBytes(copy);
                    });
                }
                assertArrayEquals(stream, decoded.toByteArray(), "channel " + channel);
            }
            // first come: the main channel its whole share, the next one what was left, the others none
            assertArrayEquals(new int[] {2048, 2048}, asked.get(0));
            assertArrayEquals(new int[] {100, 100}, asked.get(1));
            assertArrayEquals(new int[] {0, 0}, asked.get(2));

            source.close();
            destination.close();
            assertEquals(0, sourceBudget.reserved());
            assertEquals(0, destinationBudget.reserved());
            assertEquals(0, destinationBudget.grants());
        }
    }

    @Test
    void aStartFrameAskingForMoreThanTheSessionReservedIsRefused() throws Exception {
        byte[] stream = new byte[8192];
        new java.util.Random(7).nextBytes(stream);
        List<byte[]> frames = new ArrayList<>();
        try (HdeEncoder encoder = new HdeEncoder(config(), new HdeStats(), List.of(), frames::add, Runnable::run)) {
            encoder.raw(stream, 0, stream.length);
            encoder.flush();
        }
        HdeDecoder decoder = new HdeDecoder(
                config(), new HdeStats(), List.of(), new DiscardingSink(), 0, new SessionCaches(1000, 1000));
        HdeDecodeException e =
                assertThrows(HdeDecodeException.class, () -> decoder.feed(frames.get(0), 0, frames.get(0).length));
        assertTrue(
                e.getMessage().contains("1000 delta and 1000 hash cache pages left of the session's 1000 and 1000"),
                e.getMessage());
        decoder.close();
    }

    @Test
    void anAnswerGrantingMoreThanOfferedIsRefused() throws Exception {
        HdeConfig config = config().setBaselineDirectory(baselines);
        BaselineStore store = new BaselineStore(config);
        CacheBudget budget = new CacheBudget(1L << 30);
        try (BaselineJobs jobs = new BaselineJobs(config, store)) {
            SourceCodec source = new HdeSessionCodecs(config, new HdeStats(), store, jobs, budget, Runnable::run)
                    .newSource(1, "[source]");
            byte[] answer = ByteBuffer.allocate(HdeSessionCodecs.ANSWER_CACHES_LENGTH + 7)
                    .putInt(4097)
                    .putInt(0)
                    .putInt(BaselineAnnouncement.MAGIC)
                    .put((byte) BaselineAnnouncement.VERSION)
                    .putShort((short) 0)
                    .array();
            CodecException e = assertThrows(CodecException.class, () -> source.answer(answer));
            assertTrue(
                    e.getMessage().contains("caches of 4097 + 0 pages, more than the 4096 + 4096 offered"),
                    e.getMessage());
            source.close();
            assertEquals(0, budget.reserved());
        }
    }

    /** The caches a START frame asks for: {@code [delta, hash]}. */
    private static int[] startCaches(ByteBuf frame) {
        int at = frame.readerIndex();
        assertEquals(HdeFrame.TYPE_START, frame.getByte(at + HdeFrame.TYPE_OFFSET));
        assertEquals(HdeFrame.CODEC_NONE, frame.getByte(at + HdeFrame.CODEC_OFFSET));
        int body = at + HdeFrame.HEADER_LENGTH;
        assertEquals(HdeFrame.FORMAT_VERSION, frame.getInt(body));
        return new int[] {frame.getInt(body + 4), frame.getInt(body + 8)};
    }

    private static final class DiscardingSink implements HdeDecoder.Sink {
        @Override
        public void page(byte[] header, int headerOffset, int headerLength, byte[] content, int contentOffset) {}

        @Override
        public void raw(byte[] bytes, int offset, int length) {}
    }
}
