package io.dwcp.codec;

/** Creates the encoder (sending side) and decoder (receiving side) of each channel and direction. */
public interface StreamCodec {
    StreamEncoder newEncoder(int channel);

    StreamDecoder newDecoder(int channel);
}
