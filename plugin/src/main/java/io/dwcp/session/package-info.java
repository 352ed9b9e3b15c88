/**
 * Migration sessions over the AMST tunnel: the QEMU connections of a migration at both ends, the
 * tunnel port and the streams of each session.
 *
 * <ul>
 * <li>{@link io.dwcp.session.SessionManager}: creates, finds and forgets sessions; as their
 * {@code SessionHost}, dials their streams (TLS, then the HELLO the session sends first) and the
 * destination QEMU; a stream takes a spare first ({@code SpareStreams}: connections to a peer
 * kept through TLS, PINGing, before a session needs them).</li>
 * <li>{@link io.dwcp.session.TunnelServer}: the tunnel port; a connection becomes a session's
 * stream after TLS and a HELLO it decodes with {@link io.dwcp.amst.AmstHello}, or is held as a
 * peer's spare while it PINGs instead.</li>
 * <li>{@link io.dwcp.session.Session}: one migration; reads the peer's frames through
 * {@link io.dwcp.amst.AmstFrameReader} (a malformed one fails the session with the reader's
 * message) and writes every frame through its {@link io.dwcp.amst.FrameSender}. What only
 * one role does lives in {@code SourceSide} (OPEN, the codec answer awaited, the stream pool and
 * controller, the head re-send) or {@code DestinationSide} (OPEN checked, the codec answered, QEMU
 * connections opened in order, the handshake timeout). Its own concerns live in small classes it
 * makes and hands what they need: {@code SessionTasks} (its loop and codec lane, tasks guarded so
 * that a failure fails the session, its timers), {@code SessionStreams} (streams up and down, the
 * keepalive PINGs, the reconnect timeout), {@code PeerFrames} (what each of the peer's frames
 * does), {@code AckScheduler} (the ACKs: credit consumed, bytes delivered per QEMU connection),
 * {@code QemuReadGate} (which QEMU connections are read: the session's window, the queue to the
 * codec lane, each connection's raw window, the read pace, whose pauses end on the session
 * loop's timer) and {@code QemuEndPolicy} (which QEMU connection may
 * end before its whole stream was delivered). Its pieces
 * are AMST's: {@link io.dwcp.amst.Receiver} (reorder, window, ACK),
 * {@link io.dwcp.amst.StreamPool} (the source's streams), {@link io.dwcp.amst.LinkMonitor}
 * (TCP_INFO to link figures). It gets what it needs at construction: {@code SessionSettings}
 * (configuration, counters, codecs) and a {@code SessionHost} (its owner, which dials for it and
 * hears that it ended), not the manager itself.</li>
 * <li>{@link io.dwcp.session.StreamPipeline}: a stream's pipeline at either end (socket tuning,
 * TLS, idle timeout, framing, write buffer marks).</li>
 * <li>{@code TunnelStreamHandler}, {@code QemuChannelHandler}: Netty glue that hands what arrives
 * to the session.</li>
 * <li>{@link io.dwcp.session.LinkSampler}: measures the links of the source sessions from the
 * outside (their byte counters, their streams' TCP_INFO), for the region's metadata;
 * {@link io.dwcp.session.PeerDirectory}: peers beyond the configured ones (the region's hosts), with
 * the certificate fingerprint a {@link io.dwcp.session.PeerConfig} may require.</li>
 * <li>{@link io.dwcp.session.CodecSelection}: a session's codec, picked from each mode's
 * {@link io.dwcp.codec.SessionCodecs} as bound in Guice (the tunnel imports no codec's
 * implementation).</li>
 * <li>{@link io.dwcp.session.TunnelStats}: the daemon's tunnel counters (extending what the AMST
 * sender counts); {@link io.dwcp.session.TunnelMetrics} puts them, their histograms, the sessions
 * and their streams on {@code /metrics}.</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>A {@link io.dwcp.session.Session}'s state, its {@code SourceSide} or {@code DestinationSide},
 * its {@code QemuChannel}s' connections and queues, its sender and
 * receiver, its {@code SessionStreams}, {@code PeerFrames}, {@code AckScheduler} and
 * {@code QemuReadGate} (whose queue count alone is also updated on a QEMU connection's own event
 * loop, atomically), its {@code SessionTasks}' timers: its own event loop ({@code Session.run} hops there from the stream and QEMU
 * handlers; tasks run guarded, so a failure fails the session).</li>
 * <li>A session's codec (made there: the source's at start, the destination's at OPEN, since
 * making one may open baseline files), its encoders and decoders, and each
 * {@code QemuChannel}'s two SHA-256 digests with their offsets: the session's <em>codec lane</em>
 * ({@code Session.onLane}, through its {@code SessionTasks}, which also keeps the lane's
 * codec-closed flag), a sequential executor on the daemon's {@link
 * io.dwcp.codec.CodecThreads} ({@code dwcp-codec-N}, {@code tunnel.codec-threads}), so that
 * encoding, decoding, digests and baseline reads never run on an event loop. The loop hands the
 * lane QEMU's bytes and the peer's frames in stream order; the lane hands back frames to send and
 * rebuilt bytes with {@code Session.run}, in the same order; an exception on the lane fails the
 * session on its loop. The lane closes the codec last (after every task given before), and a later
 * task only releases its buffers. Bytes read from QEMU count against the session's queue limit
 * until their frames reached the sender, so a slow lane stops QEMU's reads, not memory.
 * {@link io.dwcp.codec.CodecThreads} is started and closed by the daemon, after the sessions
 * and before the baseline jobs. Its byte counters, state and
 * failure are also read by the control socket and the metrics endpoint from their threads, and
 * so are its migration id and VM (volatile, set once: the source's at creation, the destination's
 * by OPEN on its loop, which then calls the session manager's open listeners there).</li>
 * <li>{@link io.dwcp.session.SessionManager}'s maps are concurrent; its stream set-up handlers run on
 * the new connection's event loop and hand the stream to the session's loop.</li>
 * <li>{@code SpareStreams} (the session manager's; closed with its sessions): a peer's spares are
 * guarded by the peer's lock (ready ones also in a concurrent queue any thread may take from);
 * a spare's handler, keepalive and priming (its PADs and their completions) run on its channel's
 * event loop, and so does its hand-over to a session (the taker queues it there), which then goes
 * on as in any dialled stream.</li>
 * <li>{@link io.dwcp.session.SessionManager}'s session listeners: the new session's creator (an event
 * loop); its end listeners: the ended session's event loop, once it let go of its streams. Both
 * only hand news on (never block).</li>
 * <li>{@link io.dwcp.session.TunnelServer}'s accept handler: the accepted connection's event loop;
 * it asks its {@link io.dwcp.session.PeerDirectory} (volatile, set before start) there, which never
 * blocks.</li>
 * <li>{@link io.dwcp.session.LinkSampler}: any thread (the region's publishing thread samples, a
 * session's end listener measures it); its per-session figures are guarded by its lock.</li>
 * <li>{@link io.dwcp.session.QemuListeners}: started and closed by the daemon; a listener's accept
 * handler (its session while that takes connections; the session's end, heard on the session's
 * loop through {@code Session.whenEnded}, hops back there to let it go) on that listener's event
 * loop. A {@link io.dwcp.session.MigrationListener}
 * is opened and closed off event loops (the control thread, or the daemon stopping; closing waits
 * for its event loop), its closed flag is atomic, and the set of open ones is concurrent.</li>
 * <li>{@link io.dwcp.session.TunnelStats} is thread-safe (its counters and its PING RTT histogram,
 * observed on the session's loop); the collectors {@link io.dwcp.session.TunnelMetrics} registers
 * run at each scrape on the metrics exporter's thread and read those counters, the session map,
 * the sessions' copy-on-write stream lists, the streams' volatile figures, and each sender's
 * in-flight credit (plain fields of the session's loop: a figure that may be a moment old).</li>
 * <li>{@link io.dwcp.session.CodecSelection}, {@code SessionSettings}, {@code QemuEndPolicy} and
 * {@link io.dwcp.session.StreamPipeline} are immutable.</li>
 * </ul>
 */
package io.dwcp.session;
