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

    /**
     * The stream offset at which QEMU's switch-over began (it stopped the guest and writes its last
     * pages and the devices' state), once the encoder saw it in the stream; -1 before, and always
     * for an encoder that does not parse the stream. Only a hint for the session: correctness never
     * depends on it.
     */
    default long switchoverOffset() {
        return -1;
    }

    /** One line about the stream for the log at its end (what it carried), or null. */
    default String summary() {
        return null;
    }
}
