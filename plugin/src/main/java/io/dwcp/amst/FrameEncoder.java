package io.dwcp.amst;

import static io.dwcp.amst.FrameCodec.CHANNEL_OFFSET;
import static io.dwcp.amst.FrameCodec.HEADER_LENGTH;
import static io.dwcp.amst.FrameCodec.LENGTH_WITHOUT_PAYLOAD;
import static io.dwcp.amst.FrameCodec.MAGIC;
import static io.dwcp.amst.FrameCodec.MAGIC_OFFSET;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler.Sharable;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToMessageEncoder;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.zip.CRC32C;

/** Writes {@link Frame}s as their header followed by the payload itself (no copy). */
@Sharable
public final class FrameEncoder extends MessageToMessageEncoder<Frame> {
    public FrameEncoder() {
        super(Frame.class);
    }

    @Override
    protected void encode(ChannelHandlerContext context, Frame frame, List<Object> out) {
        ByteBuf header = context.alloc().ioBuffer(HEADER_LENGTH);
        writeHeader(header, frame);
        out.add(header);
        if (frame.payloadLength() > 0) {
            out.add(frame.payload().retain());
        }
    }

    /** Writes the 24-byte header of a frame, with its CRC over header fields and payload. */
    public static void writeHeader(ByteBuf header, Frame frame) {
        int start = header.writerIndex();
        ByteBuf payload = frame.payload();
        header.writeInt(LENGTH_WITHOUT_PAYLOAD + payload.readableBytes());
        header.writeInt(0);
        header.writeByte(MAGIC);
        header.writeByte(frame.type().code());
        header.writeShort(0);
        header.writeLong(frame.sequence());
        header.writeInt(frame.channel());
        CRC32C crc = new CRC32C();
        update(crc, header, start + MAGIC_OFFSET, CHANNEL_OFFSET + 4 - MAGIC_OFFSET);
        update(crc, payload, payload.readerIndex(), payload.readableBytes());
        header.setInt(start + FrameCodec.CRC_OFFSET, (int) crc.getValue());
    }

    static void update(CRC32C crc, ByteBuf buffer, int index, int length) {
        if (length == 0) {
            return;
        }
        if (buffer.nioBufferCount() == 1) {
            crc.update(buffer.nioBuffer(index, length));
            return;
        }
        for (ByteBuffer part : buffer.nioBuffers(index, length)) {
            crc.update(part);
        }
    }
}
