/**
 * AMST, the adaptive multi-stream transport: the frame format and its reading and writing, the
 * sending and receiving halves of a session's window, and the policies that tune the streams.
 *
 * <h2>The protocol, in one place</h2>
 * <ul>
 * <li>{@link io.dwcp.amst.FrameCodec}: the frame grammar (header, CRC, limits);
 * {@link io.dwcp.amst.FrameType}: the types, sequenced or per-stream.</li>
 * <li>One record per payload, each with its grammar in its javadoc, an {@code encode} and a
 * {@code decode} that refuses malformed input: {@link io.dwcp.amst.ControlPayload} and its
 * records ({@link io.dwcp.amst.AmstHello}, {@link io.dwcp.amst.AmstAck},
 * {@link io.dwcp.amst.AmstPing}, {@link io.dwcp.amst.AmstPong},
 * {@link io.dwcp.amst.AmstAbort}, {@link io.dwcp.amst.AmstOpen},
 * {@link io.dwcp.amst.AmstAccept}, {@link io.dwcp.amst.AmstCheckpoint},
 * {@link io.dwcp.amst.AmstFin}).</li>
 * <li>Reading: {@link io.dwcp.amst.FrameDecoder} (bytes to frames; a broken frame is a
 * {@link io.dwcp.amst.CorruptFrameException}: the stream closes, its frames are re-sent on
 * the others), then {@link io.dwcp.amst.AmstFrameReader} (frame to one typed call of an
 * {@link io.dwcp.amst.AmstFrameListener}; a payload that breaks its grammar is an
 * {@link io.dwcp.amst.AmstProtocolException}: the session fails).</li>
 * <li>A session's window, in two halves: {@link io.dwcp.amst.FrameSender} (below) and
 * {@link io.dwcp.amst.Receiver} (reordering, the peer held to its window, what an ACK
 * carries). Its streams: {@link io.dwcp.amst.StreamPool} (the source dials, re-dials and
 * drains them), {@link io.dwcp.amst.LinkMonitor} (TCP_INFO and ACKs to goodput, loss, RTT),
 * {@link io.dwcp.amst.StreamCountController} (how many), {@link io.dwcp.amst.RawWindow}
 * (how much raw stream in flight), {@link io.dwcp.amst.ReadPacer} (how fast QEMU is read).</li>
 * <li>Writing: {@link io.dwcp.amst.FrameSender} sends every frame of a session (sequenced
 * frames with window, striping and re-sending; control frames through its
 * {@link io.dwcp.amst.ControlWriter}), so {@code tunnelBytesSent} counts every byte;
 * {@link io.dwcp.amst.FrameEncoder} writes the header in the pipeline. What the sending side
 * counts is a {@link io.dwcp.amst.SenderStats}, which the tunnel's statistics extend.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>{@link io.dwcp.amst.FrameDecoder}: one per stream, on that stream's event loop.
 * {@link io.dwcp.amst.FrameEncoder} is stateless and shared.</li>
 * <li>{@link io.dwcp.amst.FrameSender}, {@link io.dwcp.amst.Receiver} (with its
 * {@link io.dwcp.amst.ReorderBuffer}), {@link io.dwcp.amst.StreamPool},
 * {@link io.dwcp.amst.LinkMonitor}, {@link io.dwcp.amst.RawWindow}, {@link io.dwcp.amst.ReadPacer},
 * {@link io.dwcp.amst.StreamCountController} and the
 * non-volatile fields of {@link io.dwcp.amst.TunnelStream}: the session's event loop only
 * (the sender's stream list is copy-on-write, and a stream's counters volatile, for the metrics
 * endpoint, which reads them from its own thread).</li>
 * <li>{@link io.dwcp.amst.ControlWriter}: no state but counters; a session's one is used on the
 * session's loop, the tunnel port's on the connection's loop.</li>
 * <li>{@link io.dwcp.amst.AmstFrameReader} and the payload records: stateless and immutable
 * (an {@link io.dwcp.amst.AmstAccept} holds a slice of a frame that its reader owns).</li>
 * <li>{@link io.dwcp.amst.SenderStats}: thread-safe counters and a histogram (frame delivery
 * times), added to from every session's loop and the tunnel port's connections, read by the
 * metrics exporter's thread at each scrape.</li>
 * <li>{@link io.dwcp.amst.AmstConfig}: set while the daemon is configured, read-only after.</li>
 * </ul>
 */
package io.dwcp.amst;
