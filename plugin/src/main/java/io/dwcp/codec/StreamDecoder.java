package io.dwcp.codec;

import io.netty.buffer.ByteBuf;
import java.util.function.Consumer;

/** The inverse of {@link StreamEncoder}: rebuilds the exact bytes QEMU wrote. Owns its input buffers. */
public interface StreamDecoder {
    void decode(ByteBuf encoded, Consumer<ByteBuf> out);
}
