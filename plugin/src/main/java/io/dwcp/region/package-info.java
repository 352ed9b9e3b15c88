/**
 * The control plane of a region, on ZooKeeper through Curator: one leader per region, the host
 * registry, link measurements, the baseline catalogue, migration records and VM locks, every read
 * stamped with its age and checked against a staleness bound. Across regions the leaders gossip
 * ({@link io.dwcp.gossip}). Off unless {@code region.name} is set ({@link io.dwcp.region.RegionModule}).
 *
 * <h2>Pieces</h2>
 * <ul>
 * <li>{@link io.dwcp.region.RegionConfig} ({@code region.*}, with the reasoning behind the
 * timeouts), {@link io.dwcp.region.CuratorClients}, {@link io.dwcp.region.EmbeddedZooKeeper}.</li>
 * <li>{@link io.dwcp.region.RegionLeader}: LeaderLatch, SUSPENDED = lost, a {@link
 * io.dwcp.region.LeaderTerm} per leadership taken by a CAS on the term znode; leader writes are
 * transactions that check it ({@link io.dwcp.region.NotLeaderException} once deposed).</li>
 * <li>{@link io.dwcp.region.RegionMetadata} (layout in {@link io.dwcp.region.RegionPaths},
 * records in {@link io.dwcp.region.Records}), {@link io.dwcp.region.Stamped} reads and
 * {@link io.dwcp.region.StaleMetadataException}; {@link io.dwcp.region.VmLock} and
 * {@link io.dwcp.region.VmLockedException}; {@link io.dwcp.region.VmLocks}, what the control
 * socket takes a VM's lock through.</li>
 * <li>{@link io.dwcp.region.ControlPlane}: what dwcpd starts and closes; {@link
 * io.dwcp.region.RegionStatus} for the control socket's {@code GET /v1/regions};
 * {@link io.dwcp.region.RegionStats}.</li>
 * <li>{@link io.dwcp.region.RegionRecords}: what the data path publishes (links, baselines,
 * migrations; dwcpd wires it), written by {@link io.dwcp.region.RegionPublisher};
 * {@link io.dwcp.region.RegionView}: the metadata as decisions read it, within the bound;
 * {@link io.dwcp.region.DestinationChooser}: where a VM goes in the region; {@link
 * io.dwcp.region.HeldBaselines}: which hosts hold a baseline of which VMs, by the catalogue (what
 * {@code dwcp evacuate} plans with; stateless). The control plane is
 * also the tunnel's {@link io.dwcp.session.PeerDirectory} (hosts of the region as peers).</li>
 * <li>{@link io.dwcp.region.MigrationRecordPruner}: on the leader, deletes old migration records
 * ({@code region.migration-retention}, {@code region.migration-records-max}, running records of a
 * source that died), fenced by its term ({@link io.dwcp.region.RegionLeader#delete}).</li>
 * </ul>
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>{@code dwcp-region-leader-*} (one per {@link io.dwcp.region.RegionLeader}, owned and ended
 * by it): latch callbacks, the term CAS, the leader listeners. The current term is a volatile
 * field written there; Curator's event thread only sets the volatile "suspended" flag.</li>
 * <li>{@code dwcp-gossip} (owned by {@link io.dwcp.region.ControlPlane}): the gossip node, its
 * rounds, publishing the region's summary, storing other regions' summaries, and the status
 * snapshot (volatile fields, read by the control socket's {@code dwcp-control-api} thread without I/O).</li>
 * <li>{@code dwcp-region-publish} (one per {@link io.dwcp.region.RegionPublisher}, owned by the
 * {@link io.dwcp.region.ControlPlane}, closed with it before its ZooKeeper client): the writes
 * of links, baselines and migration records, and the periodic sampling of the open migrations'
 * links. Callers (event loops, the baseline jobs' thread) only queue; the pending links and their
 * last write times are guarded by the publisher. The leader's pruning of migration records
 * ({@link io.dwcp.region.MigrationRecordPruner}) runs here too, every minute and 5 s after this
 * host takes a term (the leader thread only schedules that pass); its cache of ended records is
 * confined to this thread.</li>
 * <li>{@link io.dwcp.region.ControlPlane#peer} runs on the tunnel's event loops: it reads the
 * hosts last read (a concurrent map) and does no I/O.</li>
 * <li>{@link io.dwcp.region.RegionView} reads, {@link io.dwcp.region.DestinationChooser} and
 * {@link io.dwcp.region.HeldBaselines} block on ZooKeeper: the control socket's {@code
 * dwcp-control-api} thread.</li>
 * <li>Curator's own threads run its recipes (latch, the host's {@code PersistentNode}).</li>
 * <li>{@link io.dwcp.region.RegionMetadata} is thread-safe and blocks its caller on ZooKeeper:
 * never call it on an event loop. Its cache of last reads is a concurrent map. VM locks are taken
 * and let go of on the control socket's {@code dwcp-control-api} thread.</li>
 * </ul>
 */
package io.dwcp.region;
