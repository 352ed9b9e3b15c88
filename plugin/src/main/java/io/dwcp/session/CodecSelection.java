package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.codec.CodecConfig;
import io.dwcp.codec.CodecException;
import io.dwcp.codec.CodecMode;
import io.dwcp.codec.DestinationCodec;
import io.dwcp.codec.SessionCodecs;
import io.dwcp.codec.SourceCodec;
import jakarta.inject.Inject;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.Map;

/**
 * The session codec of this host: the source starts sessions in {@code codec.mode}; the destination
 * sets up whatever mode the source's offer names (the source's choice wins; the destination only
 * refuses parameters it cannot honour). The offer travels in the OPEN frame as {@code u8 mode}
 * followed by the mode's parameters (see {@link SessionCodecs}).
 *
 * <p>It knows the codecs only through {@link SessionCodecs}: each mode's are bound in a Guice map
 * by the module that owns them ({@code TunnelModule} passthrough, {@code HdeModule} HDE), and every
 * mode must have them, since a source may offer any.
 */
public final class CodecSelection {
    private final CodecMode mode;
    private final Map<CodecMode, SessionCodecs> codecs;

    @Inject
    public CodecSelection(CodecConfig config, Map<CodecMode, SessionCodecs> codecs) {
        this(requireNonNull(config, "config is null").codecMode(), codecs);
    }

    /** With the session codecs of each mode given (tests wrap them). */
    public CodecSelection(CodecMode mode, Map<CodecMode, SessionCodecs> codecs) {
        this.mode = requireNonNull(mode, "mode is null");
        this.codecs = new EnumMap<>(requireNonNull(codecs, "codecs is null"));
        for (CodecMode each : CodecMode.values()) {
            if (this.codecs.get(each) == null) {
                throw new IllegalArgumentException("no session codecs for codec mode " + each.configName());
            }
        }
    }

    public CodecMode mode() {
        return mode;
    }

    SourceCodec newSource(long sessionId, String context) {
        return codecs(mode).newSource(sessionId, context);
    }

    /** The OPEN's offer: the mode's code, then its parameters. */
    static byte[] offer(SourceCodec source) {
        byte[] parameters = source.offer();
        byte[] offer = new byte[1 + parameters.length];
        offer[0] = (byte) source.mode().code();
        System.arraycopy(parameters, 0, offer, 1, parameters.length);
        return offer;
    }

    /** @throws CodecException naming what this host cannot decode */
    DestinationCodec newDestination(long sessionId, String context, byte[] offer) {
        if (offer.length == 0) {
            throw new CodecException("the source named no codec");
        }
        CodecMode offered = CodecMode.ofCode(offer[0] & 0xff);
        if (offered == null) {
            throw new CodecException("the source asks for codec " + (offer[0] & 0xff)
                    + ", which this host does not know (it knows hde and passthrough)");
        }
        return codecs(offered).newDestination(sessionId, context, Arrays.copyOfRange(offer, 1, offer.length));
    }

    private SessionCodecs codecs(CodecMode mode) {
        return codecs.get(mode);
    }
}
