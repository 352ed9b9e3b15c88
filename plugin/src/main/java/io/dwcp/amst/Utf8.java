package io.dwcp.amst;

import io.netty.buffer.ByteBuf;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Strict UTF-8 for AMST payload fields: malformed input is refused, never replaced. */
final class Utf8 {
    private Utf8() {}

    /** Reads {@code length} bytes of the payload as UTF-8 (the caller checked they are there). */
    static String decode(FrameType type, String field, ByteBuf payload, int length) {
        byte[] bytes = new byte[length];
        payload.readBytes(bytes);
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new AmstProtocolException(type, field, "UTF-8", "malformed UTF-8 (" + e.getMessage() + ")");
        }
    }
}
