package io.dwcp.amst;

/**
 * The AMST frame grammar. All integers are big-endian.
 *
 * <pre>
 * Frame =&gt;
 *   Length    =&gt; int32   bytes after this field: 20 + length of Payload
 *   Crc       =&gt; uint32  CRC32C (Castagnoli) of every byte from Magic to the end of Payload
 *   Magic     =&gt; int8    1 (the frame format version)
 *   Type      =&gt; int8    a {@link FrameType} code
 *   Flags     =&gt; int16   0 (reserved; a receiver refuses any other value)
 *   Sequence  =&gt; int64   session-level sequence number of sequenced types, 0 otherwise
 *   Channel   =&gt; int32   QEMU connection index within the session (0 = the main channel),
 *                          0 for frames that are not about one channel
 *   Payload   =&gt; bytes   Length - 20 bytes, at most the configured maximum payload
 *
 * Payloads by type (each record's javadoc is its grammar; {@link AmstFrameReader} reads them all,
 * and also checks the Sequence and Channel each type allows):
 *   HELLO        =&gt; {@link AmstHello}       PING, PONG =&gt; {@link AmstPing}, {@link AmstPong}
 *   ACK          =&gt; {@link AmstAck}         ABORT      =&gt; {@link AmstAbort}
 *   OPEN         =&gt; {@link AmstOpen}        ACCEPT     =&gt; {@link AmstAccept}
 *   CHECKPOINT   =&gt; {@link AmstCheckpoint}  FIN        =&gt; {@link AmstFin}
 *   CHANNEL_OPEN =&gt; empty (the channel is in the header; channels open in sequence order)
 *   DATA         =&gt; the channel's bytes (as produced by the stream encoder)
 * </pre>
 *
 * A receiver reads the 4 bytes of Length first and refuses a frame whose Length is below 20 or
 * whose payload would exceed its maximum before buffering anything more, so a peer cannot make it
 * hold more than one maximum-size frame per stream.
 */
public final class FrameCodec {
    public static final int LENGTH_OFFSET = 0;
    public static final int LENGTH_LENGTH = 4;
    public static final int CRC_OFFSET = LENGTH_OFFSET + LENGTH_LENGTH;
    public static final int CRC_LENGTH = 4;
    public static final int MAGIC_OFFSET = CRC_OFFSET + CRC_LENGTH;
    public static final int MAGIC_LENGTH = 1;
    public static final int TYPE_OFFSET = MAGIC_OFFSET + MAGIC_LENGTH;
    public static final int TYPE_LENGTH = 1;
    public static final int FLAGS_OFFSET = TYPE_OFFSET + TYPE_LENGTH;
    public static final int FLAGS_LENGTH = 2;
    public static final int SEQUENCE_OFFSET = FLAGS_OFFSET + FLAGS_LENGTH;
    public static final int SEQUENCE_LENGTH = 8;
    public static final int CHANNEL_OFFSET = SEQUENCE_OFFSET + SEQUENCE_LENGTH;
    public static final int CHANNEL_LENGTH = 4;
    public static final int HEADER_LENGTH = CHANNEL_OFFSET + CHANNEL_LENGTH;
    /** The smallest Length: everything after the Length field except the payload. */
    public static final int LENGTH_WITHOUT_PAYLOAD = HEADER_LENGTH - LENGTH_LENGTH;

    public static final byte MAGIC = 1;
    /** Hard limit of any decoder, whatever the configuration says. */
    public static final int MAX_PAYLOAD_LIMIT = 16 * 1024 * 1024;
    /** Window credit of a frame beyond its payload, so that empty frames are bounded too. */
    public static final int FRAME_COST_OVERHEAD = 256;

    private FrameCodec() {}

    /** The window credit a sequenced frame takes until the receiver has consumed it. */
    public static long frameCost(int payloadLength) {
        return (long) payloadLength + FRAME_COST_OVERHEAD;
    }
}
