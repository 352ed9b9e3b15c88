package io.dwcp.codec;

/**
 * The codec of each migration session. The source picks it ({@link SourceCodec#offer}, sent in
 * the session's OPEN), the destination sets up the same one from that offer or refuses it, and
 * answers (e.g. the baselines it holds) before the source encodes anything.
 *
 * <p>Offer grammar (the rest of the OPEN payload): {@code u8 mode ({@link CodecMode#code})
 * mode-parameters}; parameters of {@code hde} are in {@code io.dwcp.hde.HdeSessionCodecs}.
 */
public interface SessionCodecs {
    /** A session starts at this host as the source; {@code sessionId} names it here and at the peer. */
    SourceCodec newSource(long sessionId, String context);

    /**
     * A session starts at this host as the destination, with the source's offer.
     *
     * @throws CodecException naming why this host cannot decode what the source offers
     */
    DestinationCodec newDestination(long sessionId, String context, byte[] offer);
}
