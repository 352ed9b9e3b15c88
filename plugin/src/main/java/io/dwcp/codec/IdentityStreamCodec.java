package io.dwcp.codec;

import io.netty.buffer.ByteBuf;
import java.util.function.Consumer;

/** Pass-through: the tunnel carries QEMU's bytes as they are. */
public final class IdentityStreamCodec implements StreamCodec {
    @Override
    public StreamEncoder newEncoder(int channel) {
        return new StreamEncoder() {
            @Override
            public void encode(ByteBuf raw, Consumer<ByteBuf> out) {
                out.accept(raw);
            }

            @Override
            public void flush(Consumer<ByteBuf> out) {}
        };
    }

    @Override
    public StreamDecoder newDecoder(int channel) {
        return (encoded, out) -> out.accept(encoded);
    }
}
