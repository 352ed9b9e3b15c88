package io.dwcp.gossip;

/** A gossip frame that does not follow {@link GossipCodec}'s grammar: names the offset, the field, what was expected and found. */
public final class GossipCodecException extends Exception {
    public GossipCodecException(int offset, String field, String expected, String found) {
        super("malformed gossip message at offset " + offset + ": " + field + ": expected " + expected + ", found "
                + found);
    }
}
