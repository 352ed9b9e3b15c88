/**
 * AMST, the adaptive multi-stream transport: the frame format and its reading and writing, the
 * sending and receiving halves of a session's window, and the policies that tune the streams.
 *
 * <h2>The protocol, in one place</h2>
 * <ul>
 * <li>{@link io.dwcp.transport.FrameCodec}: the frame grammar (header, CRC, limits);
 * {@link io.dwcp.transport.FrameType}: the types, sequenced or per-stream.</li>
 * <li>One record per payload, each with its grammar in its javadoc, an {@code encode} and a
 * {@code decode} that refuses malformed input: {@link io.dwcp.transport.ControlPayload} and its
 * records ({@link io.dwcp.transport.AmstHello}, {@link io.dwcp.transport.AmstAck},
 * {@link io.dwcp.transport.AmstPing}, {@link io.dwcp.transport.AmstPong},
 * {@link io.dwcp.transport.AmstAbort}, {@link io.dwcp.transport.AmstOpen},
 * {@link io.dwcp.transport.AmstAccept}, {@link io.dwcp.transport.AmstCheckpoint},
 * {@link io.dwcp.transport.AmstFin}).</li>
 * <li>Reading: {@link io.dwcp.transport.FrameDecoder} (bytes to frames; a broken frame is a
 * {@link io.dwcp.transport.CorruptFrameException}: the stream closes, its frames are re-sent on
 * the others), then {@link io.dwcp.transport.AmstFrameReader} (frame to one typed call of an
 * {@link io.dwcp.transport.AmstFrameListener}; a payload that breaks its grammar is an
 * {@link io.dwcp.transport.AmstProtocolException}: the session fails).</li>
 * <li>A session's window, in two halves: {@link io.dwcp.transport.FrameSender} (below) and
 * {@link io.dwcp.transport.Receiver} (reordering, the peer held to its window, what an ACK
 * carries). Its streams: {@link io.dwcp.transport.StreamPool} (the source dials, re-dials and
 * drains them), {@link io.dwcp.transport.LinkMonitor} (TCP_INFO and ACKs to goodput, loss, RTT),
 * {@link io.dwcp.transport.StreamCountController} (how many), {@link io.dwcp.transport.RawWindow}
 * (how much raw stream in flight).</li>
 * <li>Writing: {@link io.dwcp.transport.FrameSender} sends every frame of a session (sequenced
 * frames with window, striping and re-sending; control frames through its
 * {@link io.dwcp.transport.ControlWriter}), so {@code tunnelBytesSent} counts every byte;
 * {@link io.dwcp.transport.FrameEncoder} writes the header in the pipeline. What the sending side
 * counts is a {@link io.dwcp.transport.SenderStats}, which the tunnel's statistics extend.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>{@link io.dwcp.transport.FrameDecoder}: one per stream, on that stream's event loop.
 * {@link io.dwcp.transport.FrameEncoder} is stateless and shared.</li>
 * <li>{@link io.dwcp.transport.FrameSender}, {@link io.dwcp.transport.Receiver} (with its
 * {@link io.dwcp.transport.ReorderBuffer}), {@link io.dwcp.transport.StreamPool},
 * {@link io.dwcp.transport.LinkMonitor}, {@link io.dwcp.transport.RawWindow},
 * {@link io.dwcp.transport.StreamCountController} and the
 * non-volatile fields of {@link io.dwcp.transport.TunnelStream}: the session's event loop only
 * (the sender's stream list is copy-on-write, and a stream's counters volatile, for the metrics
 * endpoint, which reads them from its own thread).</li>
 * <li>{@link io.dwcp.transport.ControlWriter}: no state but counters; a session's one is used on the
 * session's loop, the tunnel port's on the connection's loop.</li>
 * <li>{@link io.dwcp.transport.AmstFrameReader} and the payload records: stateless and immutable
 * (an {@link io.dwcp.transport.AmstAccept} holds a slice of a frame that its reader owns).</li>
 * <li>{@link io.dwcp.transport.SenderStats}: thread-safe counters and a histogram (frame delivery
 * times), added to from every session's loop and the tunnel port's connections, read by the
 * metrics exporter's thread at each scrape.</li>
 * <li>{@link io.dwcp.transport.AmstConfig}: set while the daemon is configured, read-only after.</li>
 * </ul>
 */
package io.dwcp.transport;
