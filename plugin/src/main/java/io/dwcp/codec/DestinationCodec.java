package io.dwcp.codec;

/** The destination side of one session's codec: decoders of QEMU's streams, encoders of the return path. On the session's codec lane (one task at a time, never an event loop). */
public interface DestinationCodec {
    CodecMode mode();

    /** Sent back to the source before it encodes anything (may be empty). */
    byte[] answer();

    StreamDecoder newDecoder(int channel);

    StreamEncoder newEncoder(int channel);

    /** Every stream was decoded and verified against the source's final digest. */
    default void completed() {}

    /** The session ended (completed or failed): releases what the codec holds. */
    default void close() {}
}
