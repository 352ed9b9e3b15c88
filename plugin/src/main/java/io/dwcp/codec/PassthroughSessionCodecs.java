package io.dwcp.codec;

import static java.util.Objects.requireNonNull;

import jakarta.inject.Inject;

/** {@link CodecMode#PASSTHROUGH}: the bound {@link StreamCodec} in both directions, no parameters, no answer awaited. */
public final class PassthroughSessionCodecs implements SessionCodecs {
    private static final byte[] NOTHING = new byte[0];

    private final StreamCodec codec;

    @Inject
    public PassthroughSessionCodecs(StreamCodec codec) {
        this.codec = requireNonNull(codec, "codec is null");
    }

    @Override
    public SourceCodec newSource(long sessionId, String context) {
        return new SourceCodec() {
            @Override
            public CodecMode mode() {
                return CodecMode.PASSTHROUGH;
            }

            @Override
            public byte[] offer() {
                return NOTHING;
            }

            @Override
            public boolean awaitsAnswer() {
                return false;
            }

            @Override
            public void answer(byte[] answer) {}

            @Override
            public StreamEncoder newEncoder(int channel) {
                return codec.newEncoder(channel);
            }

            @Override
            public StreamDecoder newDecoder(int channel) {
                return codec.newDecoder(channel);
            }
        };
    }

    @Override
    public DestinationCodec newDestination(long sessionId, String context, byte[] offer) {
        if (offer.length != 0) {
            throw new CodecException("passthrough offer: expected no parameters, found " + offer.length + " bytes");
        }
        return new DestinationCodec() {
            @Override
            public CodecMode mode() {
                return CodecMode.PASSTHROUGH;
            }

            @Override
            public byte[] answer() {
                return NOTHING;
            }

            @Override
            public StreamDecoder newDecoder(int channel) {
                return codec.newDecoder(channel);
            }

            @Override
            public StreamEncoder newEncoder(int channel) {
                return codec.newEncoder(channel);
            }
        };
    }
}
