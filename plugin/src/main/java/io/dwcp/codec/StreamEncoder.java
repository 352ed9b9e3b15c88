package io.dwcp.codec;

import io.netty.buffer.ByteBuf;
import java.util.function.Consumer;

/**
 * Turns the bytes one QEMU connection wrote into what the tunnel carries (HDE page encoding plugs
 * in here). Called on one thread, in stream order. Owns the buffers it is given.
 */
public interface StreamEncoder {
    /** Encodes the next bytes of the stream; hands on zero or more encoded buffers. */
    void encode(ByteBuf raw, Consumer<ByteBuf> out);

    /**
     * Hands on everything needed to decode all bytes given so far: called before every digest
     * checkpoint and at the end of the stream.
     */
    void flush(Consumer<ByteBuf> out);

    /** One line about the stream for the log at its end (what it carried), or null. */
    default String summary() {
        return null;
    }
}
