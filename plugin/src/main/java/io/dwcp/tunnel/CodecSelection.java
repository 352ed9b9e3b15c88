package io.dwcp.tunnel;

import io.dwcp.codec.CodecConfig;
import io.dwcp.codec.CodecException;
import io.dwcp.codec.CodecMode;
import io.dwcp.codec.DestinationCodec;
import io.dwcp.codec.PassthroughSessionCodecs;
import io.dwcp.codec.SessionCodecs;
import io.dwcp.codec.SourceCodec;
import io.dwcp.codec.StreamCodec;
import io.dwcp.hde.HdeSessionCodecs;
import jakarta.inject.Inject;

import java.util.Arrays;

import static java.util.Objects.requireNonNull;

/**
 * The session codec of this host: the source starts sessions in {@code codec.mode}; the destination
 * sets up whatever mode the source's offer names (the source's choice wins; the destination only
 * refuses parameters it cannot honour). The offer travels in the OPEN frame as {@code u8 mode}
 * followed by the mode's parameters (see {@link SessionCodecs}).
 */
public final class CodecSelection
{
    private final CodecMode mode;
    private final SessionCodecs passthrough;
    private final SessionCodecs hde;

    @Inject
    public CodecSelection(CodecConfig config, StreamCodec passthroughCodec, HdeSessionCodecs hde)
    {
        this(requireNonNull(config, "config is null").codecMode(), new PassthroughSessionCodecs(requireNonNull(passthroughCodec, "passthroughCodec is null")), hde);
    }

    /** With the session codecs of each mode given (tests wrap them). */
    public CodecSelection(CodecMode mode, SessionCodecs passthrough, SessionCodecs hde)
    {
        this.mode = requireNonNull(mode, "mode is null");
        this.passthrough = requireNonNull(passthrough, "passthrough is null");
        this.hde = requireNonNull(hde, "hde is null");
    }

    public CodecMode mode()
    {
        return mode;
    }

    SourceCodec newSource(long sessionId, String context)
    {
        return codecs(mode).newSource(sessionId, context);
    }

    /** The OPEN's offer: the mode's code, then its parameters. */
    static byte[] offer(SourceCodec source)
    {
        byte[] parameters = source.offer();
        byte[] offer = new byte[1 + parameters.length];
        offer[0] = (byte) source.mode().code();
        System.arraycopy(parameters, 0, offer, 1, parameters.length);
        return offer;
    }

    /** @throws CodecException naming what this host cannot decode */
    DestinationCodec newDestination(long sessionId, String context, byte[] offer)
    {
        if (offer.length == 0) {
            throw new CodecException("the source named no codec");
        }
        CodecMode offered = CodecMode.ofCode(offer[0] & 0xff);
        if (offered == null) {
            throw new CodecException("the source asks for codec " + (offer[0] & 0xff) + ", which this host does not know (it knows hde and passthrough)");
        }
        return codecs(offered).newDestination(sessionId, context, Arrays.copyOfRange(offer, 1, offer.length));
    }

    private SessionCodecs codecs(CodecMode mode)
    {
        return switch (mode) {
            case PASSTHROUGH -> passthrough;
            case HDE -> hde;
        };
    }
}
