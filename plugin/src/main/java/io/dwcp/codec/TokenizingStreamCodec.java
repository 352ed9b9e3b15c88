package io.dwcp.codec;

import io.dwcp.migration.stream.MigrationStreamTokenizer;
import io.dwcp.migration.stream.StreamStatistics;
import io.dwcp.migration.stream.TokenizerOptions;
import io.netty.buffer.ByteBuf;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pass-through with the source side routed through the qemu-migration tokenizer: the tunnel
 * carries QEMU's bytes unchanged (the tokenizer is lossless, but the original buffers are what is
 * sent, so a tokenizer fault cannot corrupt a migration), while the tokens tell what the stream
 * holds (channel kind, pages, zero pages, sections). This is where HDE's page encoding plugs in.
 * A tokenizer failure is logged once and that channel goes on untokenized.
 */
public final class TokenizingStreamCodec implements StreamCodec {
    private static final Logger log = LoggerFactory.getLogger(TokenizingStreamCodec.class);
    private static final int SCRATCH = 64 * 1024;

    private final IdentityStreamCodec identity = new IdentityStreamCodec();

    @Override
    public StreamEncoder newEncoder(int channel) {
        return new TokenizingEncoder(channel);
    }

    @Override
    public StreamDecoder newDecoder(int channel) {
        return identity.newDecoder(channel);
    }

    private static final class TokenizingEncoder implements StreamEncoder {
        private final int channel;
        private final MigrationStreamTokenizer tokenizer = new MigrationStreamTokenizer(TokenizerOptions.lenient());
        private final byte[] scratch = new byte[SCRATCH];
        private boolean failed;

        private TokenizingEncoder(int channel) {
            this.channel = channel;
        }

        @Override
        public void encode(ByteBuf raw, Consumer<ByteBuf> out) {
            if (!failed) {
                try {
                    tokenize(raw);
                } catch (RuntimeException e) {
                    failed = true;
                    log.warn(
                            "QEMU connection {}: the migration stream tokenizer failed at stream offset {}, passing the rest through untokenized: {}",
                            channel,
                            tokenizer.position(),
                            e.toString());
                }
            }
            out.accept(raw);
        }

        private void tokenize(ByteBuf raw) {
            int index = raw.readerIndex();
            int end = raw.writerIndex();
            while (index < end) {
                int length = Math.min(SCRATCH, end - index);
                raw.getBytes(index, scratch, 0, length);
                tokenizer.feed(scratch, 0, length);
                while (tokenizer.next() != null) {
                    // pass-through: the tokens are only counted (statistics)
                }
                index += length;
            }
        }

        @Override
        public void flush(Consumer<ByteBuf> out) {}

        @Override
        public String summary() {
            StreamStatistics statistics = tokenizer.statistics();
            return "kind " + tokenizer.channelKind() + ", " + statistics.bytes() + " bytes, " + statistics.pages()
                    + " pages ("
                    + statistics.zeroPages() + " zero), " + statistics.sections() + " sections, "
                    + statistics.multifdPackets()
                    + " multifd packets, " + statistics.literalBytes() + " literal bytes"
                    + (failed ? " (tokenizer failed: partial)" : "");
        }
    }
}
