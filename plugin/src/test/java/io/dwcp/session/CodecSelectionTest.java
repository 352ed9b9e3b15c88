package io.dwcp.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dwcp.codec.CodecException;
import io.dwcp.codec.CodecMode;
import io.dwcp.codec.DestinationCodec;
import io.dwcp.codec.IdentityStreamCodec;
import io.dwcp.codec.PassthroughSessionCodecs;
import io.dwcp.codec.SessionCodecs;
import io.dwcp.codec.SourceCodec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CodecSelectionTest {
    /** Session codecs that only note what they were asked for. */
    private static final class Recording implements SessionCodecs {
        final List<String> calls = new ArrayList<>();
        byte[] parameters;

        @Override
        public SourceCodec newSource(long sessionId, String context) {
            calls.add("source " + sessionId);
            return new PassthroughSessionCodecs(new IdentityStreamCodec()).newSource(sessionId, context);
        }

        @Override
        public DestinationCodec newDestination(long sessionId, String context, byte[] offer) {
            calls.add("destination " + sessionId);
            parameters = offer;
            return null;
        }
    }

    @Test
    void theSourceStartsInTheConfiguredModeAndTheDestinationInTheOfferedOne() {
        Recording passthrough = new Recording();
        Recording hde = new Recording();
        CodecSelection selection = new CodecSelection(
                CodecMode.PASSTHROUGH, Map.of(CodecMode.PASSTHROUGH, passthrough, CodecMode.HDE, hde));
        assertEquals(CodecMode.PASSTHROUGH, selection.mode());

        SourceCodec source = selection.newSource(7, "test");
        assertEquals(List.of("source 7"), passthrough.calls);
        assertArrayEquals(new byte[] {0}, CodecSelection.offer(source), "the mode's code, no parameters");

        // the source's choice wins: an HDE offer reaches HDE's codecs, without the mode byte
        selection.newDestination(8, "test", new byte[] {(byte) CodecMode.HDE.code(), 5, 6});
        assertEquals(List.of("destination 8"), hde.calls);
        assertArrayEquals(new byte[] {5, 6}, hde.parameters);
        assertEquals(List.of("source 7"), passthrough.calls);
    }

    @Test
    void refusesAnOfferItCannotDecode() {
        CodecSelection selection = new CodecSelection(
                CodecMode.HDE, Map.of(CodecMode.PASSTHROUGH, new Recording(), CodecMode.HDE, new Recording()));
        assertEquals(
                "the source named no codec",
                assertThrows(CodecException.class, () -> selection.newDestination(1, "test", new byte[0]))
                        .getMessage());
        assertEquals(
                "the source asks for codec 9, which this host does not know (it knows hde and passthrough)",
                assertThrows(CodecException.class, () -> selection.newDestination(1, "test", new byte[] {9}))
                        .getMessage());
    }

    @Test
    void everyModeNeedsItsCodecs() {
        IllegalArgumentException missing = assertThrows(
                IllegalArgumentException.class,
                () -> new CodecSelection(CodecMode.PASSTHROUGH, Map.of(CodecMode.PASSTHROUGH, new Recording())));
        assertEquals("no session codecs for codec mode hde", missing.getMessage());
    }
}
