/**
 * The codec interface between a session and what encodes its QEMU streams: the tunnel sees
 * {@link io.dwcp.codec.SessionCodecs} (one pair per session: {@link io.dwcp.codec.SourceCodec},
 * {@link io.dwcp.codec.DestinationCodec}, agreed through the offer in the OPEN), which hand out a
 * {@link io.dwcp.codec.StreamEncoder} or {@link io.dwcp.codec.StreamDecoder} per QEMU connection.
 * Each {@link io.dwcp.codec.CodecMode} has its session codecs bound in Guice by the package that
 * implements them: passthrough here ({@link io.dwcp.codec.PassthroughSessionCodecs} over the
 * {@link io.dwcp.codec.IdentityStreamCodec} or the {@link io.dwcp.codec.TokenizingStreamCodec}),
 * HDE in {@code io.dwcp.hde}. Depends on {@code io.dwcp.config} and the qemu-migration library only.
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>A stream's encoder or decoder: one task at a time, in stream order, on the session's codec
 * lane (the daemon's {@code dwcp-codec} threads, never an event loop; successive tasks may run on
 * different threads, one after the other); it owns the buffers it is given.</li>
 * <li>A session's source or destination codec: made, answered, measured, completed and closed on
 * the same lane, so it may block on files (baselines).</li>
 * <li>The session codecs of a mode and the stream codecs are shared by all sessions: stateless
 * here; {@link io.dwcp.codec.CodecConfig} is set while the daemon is configured, read-only after.</li>
 * </ul>
 */
package io.dwcp.codec;
