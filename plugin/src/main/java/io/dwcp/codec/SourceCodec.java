package io.dwcp.codec;

/** The source side of one session's codec: encoders of QEMU's streams, decoders of the return path. On the session's codec lane (one task at a time, never an event loop). */
public interface SourceCodec {
    CodecMode mode();

    /** What the destination needs to decode (see {@link SessionCodecs}). */
    byte[] offer();

    /** True when QEMU must not be read before the destination's {@link #answer}. */
    boolean awaitsAnswer();

    /** The destination's answer to the offer. @throws CodecException if it is malformed */
    void answer(byte[] answer);

    StreamEncoder newEncoder(int channel);

    StreamDecoder newDecoder(int channel);

    /** The link as measured now (periodically, and once before the answer is applied). */
    default void linkMeasured(LinkMeasurement link) {}

    /**
     * What this session's encoding reused of what the destination held before it began, for the
     * operator ({@code dwcp migrate}, the control socket); {@link Reuse#NONE} when the codec reuses
     * nothing. Any thread.
     */
    default Reuse reuse() {
        return Reuse.NONE;
    }

    /**
     * @param baselinePages pages the destination announced it holds
     * @param referencedPages pages sent as references to them (16 bytes instead of a page)
     * @param deltaPages pages sent as deltas against an earlier version of theirs
     */
    record Reuse(long baselinePages, long referencedPages, long deltaPages) {
        public static final Reuse NONE = new Reuse(0, 0, 0);
    }

    /** The destination verified every stream: the migration completed. */
    default void completed() {}

    /** The session ended (completed or failed): releases what the codec holds. */
    default void close() {}
}
