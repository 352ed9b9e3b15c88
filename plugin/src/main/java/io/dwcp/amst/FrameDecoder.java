package io.dwcp.amst;

import static io.dwcp.amst.FrameCodec.CHANNEL_OFFSET;
import static io.dwcp.amst.FrameCodec.CRC_OFFSET;
import static io.dwcp.amst.FrameCodec.FLAGS_OFFSET;
import static io.dwcp.amst.FrameCodec.HEADER_LENGTH;
import static io.dwcp.amst.FrameCodec.LENGTH_LENGTH;
import static io.dwcp.amst.FrameCodec.LENGTH_WITHOUT_PAYLOAD;
import static io.dwcp.amst.FrameCodec.MAGIC;
import static io.dwcp.amst.FrameCodec.MAGIC_OFFSET;
import static io.dwcp.amst.FrameCodec.MAX_PAYLOAD_LIMIT;
import static io.dwcp.amst.FrameCodec.SEQUENCE_OFFSET;
import static io.dwcp.amst.FrameCodec.TYPE_OFFSET;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Reads {@link Frame}s (grammar in {@link FrameCodec}): waits for the Length field and checks it
 * before buffering the rest, then waits for the whole frame, checks magic, type, flags and CRC,
 * and hands on the payload as a retained slice. Any violation raises a
 * {@link CorruptFrameException} naming the stream offset, the field, what was expected and found;
 * after that the decoder drops all input (the stream is being closed).
 */
public final class FrameDecoder extends ByteToMessageDecoder {
    private final int maxPayload;
    private long streamOffset;
    private boolean failed;

    public FrameDecoder(int maxPayload) {
        if (maxPayload < 0 || maxPayload > MAX_PAYLOAD_LIMIT) {
            throw new IllegalArgumentException(
                    "maxPayload must be between 0 and " + MAX_PAYLOAD_LIMIT + ": " + maxPayload);
        }
        this.maxPayload = maxPayload;
    }

    @Override
    protected void decode(ChannelHandlerContext context, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        Frame frame = decode(in);
        if (frame != null) {
            out.add(frame);
        }
    }

    /** Decodes one frame from the buffer, or returns null (consuming nothing) if it is not complete. */
    public Frame decode(ByteBuf in) {
        if (in.readableBytes() < LENGTH_LENGTH) {
            return null;
        }
        int start = in.readerIndex();
        long length = in.getUnsignedInt(start);
        if (length < LENGTH_WITHOUT_PAYLOAD) {
            throw fail("Length", "at least " + LENGTH_WITHOUT_PAYLOAD, Long.toString(length));
        }
        if (length > (long) LENGTH_WITHOUT_PAYLOAD + maxPayload) {
            throw fail("Length", "at most " + (LENGTH_WITHOUT_PAYLOAD + maxPayload), Long.toString(length));
        }
        if (in.readableBytes() < LENGTH_LENGTH + length) {
            return null;
        }
        int payloadLength = (int) length - LENGTH_WITHOUT_PAYLOAD;
        int magic = in.getByte(start + MAGIC_OFFSET);
        if (magic != MAGIC) {
            throw fail("Magic", Integer.toString(MAGIC), Integer.toString(magic));
        }
        int typeCode = in.getUnsignedByte(start + TYPE_OFFSET);
        FrameType type = FrameType.fromCode(typeCode);
        if (type == null) {
            throw fail("Type", "a known frame type", String.format("0x%02x", typeCode));
        }
        int flags = in.getUnsignedShort(start + FLAGS_OFFSET);
        if (flags != 0) {
            throw fail("Flags", "0x0000", String.format("0x%04x", flags));
        }
        CRC32C crc = new CRC32C();
        FrameEncoder.update(crc, in, start + MAGIC_OFFSET, (int) length - (MAGIC_OFFSET - LENGTH_LENGTH));
        long expectedCrc = in.getUnsignedInt(start + CRC_OFFSET);
        if (crc.getValue() != expectedCrc) {
            throw fail("Crc", String.format("0x%08x", expectedCrc), String.format("0x%08x (computed)", crc.getValue()));
        }
        long sequence = in.getLong(start + SEQUENCE_OFFSET);
        int channel = in.getInt(start + CHANNEL_OFFSET);
        if (channel < 0) {
            throw fail("Channel", "a non-negative channel index", Integer.toString(channel));
        }
        if (sequence < 0) {
            throw fail("Sequence", "a non-negative sequence number", Long.toString(sequence));
        }
        in.skipBytes(HEADER_LENGTH);
        ByteBuf payload = payloadLength == 0 ? in.alloc().buffer(0, 0) : in.readRetainedSlice(payloadLength);
        streamOffset += HEADER_LENGTH + payloadLength;
        return new Frame(type, sequence, channel, payload);
    }

    public long streamOffset() {
        return streamOffset;
    }

    private CorruptFrameException fail(String field, String expected, String found) {
        failed = true;
        return new CorruptFrameException(streamOffset, field, expected, found);
    }
}
