package io.dwcp.region;

import static java.util.Objects.requireNonNull;

import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongSupplier;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.api.transaction.CuratorOp;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The region's leader election: a Curator {@link LeaderLatch}, and a term per leadership.
 *
 * <p>On winning the latch the host takes a new term: it reads the term znode ({@code "epoch
 * leader"}, version v) and sets it to {@code epoch+1} with expected version v (a CAS). Its writes
 * to leader-owned metadata ({@link #write}) and its deletes ({@link #delete}, the pruning of
 * migration records) are Curator transactions that first check the term znode is still at version
 * v+1: once a successor took its term, a deposed leader's writes fail with {@link
 * NotLeaderException}, whatever it believes. SUSPENDED counts as lost leadership
 * (Curator's advice; the client's default {@code StandardConnectionStateErrorPolicy} makes the
 * latch drop it too): {@link #term()} is empty from the moment the connection is suspended.
 *
 * <p>{@code LATENT -> STARTED -> CLOSED}. Latch callbacks, the term CAS and the listeners run on
 * this object's single thread ({@code dwcp-region-leader}), which {@link #close()} ends.
 */
public final class RegionLeader implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(RegionLeader.class);
    /** Deletes per fenced transaction: small enough for ZooKeeper's request limit (jute.maxbuffer) with long paths. */
    static final int DELETES_PER_TRANSACTION = 100;

    public enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    /** Told about terms on the leader thread, in order. */
    public interface Listener {
        void acquired(LeaderTerm term);

        void lost(LeaderTerm term);
    }

    private final CuratorFramework client;
    private final RegionPaths paths;
    private final String host;
    private final RegionStats stats;
    private final LongSupplier clockMillis;
    private final LeaderLatch latch;
    private final ExecutorService executor;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);
    private final ConnectionStateListener connectionListener = this::connectionChanged;
    // written on the leader thread (term) and Curator's event thread (suspended); read anywhere
    private volatile LeaderTerm current;
    private volatile boolean suspended;
    // the term a suspension ended: never acted in again, even if the connection comes back before
    // the latch's own callback has run on the leader thread
    private volatile LeaderTerm revoked;
    private volatile long lostAtMillis = -1;

    public RegionLeader(
            CuratorFramework client, RegionPaths paths, String host, RegionStats stats, LongSupplier clockMillis) {
        this.client = requireNonNull(client, "client is null");
        this.paths = requireNonNull(paths, "paths is null");
        this.host = requireNonNull(host, "host is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.clockMillis = requireNonNull(clockMillis, "clockMillis is null");
        this.latch = new LeaderLatch(client, paths.latch(), host, LeaderLatch.CloseMode.NOTIFY_LEADER);
        this.executor = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "dwcp-region-leader-" + paths.region() + "-" + host);
            thread.setDaemon(true);
            return thread;
        });
    }

    public void addListener(Listener listener) {
        listeners.add(requireNonNull(listener, "listener is null"));
    }

    public void start() throws Exception {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("already started or closed");
        }
        client.createContainers(paths.base());
        try {
            client.create().forPath(paths.term(), "0 -".getBytes(StandardCharsets.UTF_8));
        } catch (KeeperException.NodeExistsException e) {
            // another host created it first
        }
        client.getConnectionStateListenable().addListener(connectionListener);
        latch.addListener(
                new LeaderLatchListener() {
                    @Override
                    public void isLeader() {
                        takeTerm();
                    }

                    @Override
                    public void notLeader() {
                        endTerm("the latch says so");
                    }
                },
                executor);
        latch.start();
    }

    public State state() {
        return state.get();
    }

    public String host() {
        return host;
    }

    /** The term this host acts in, or empty (not leader, or the connection is suspended). */
    public Optional<LeaderTerm> term() {
        LeaderTerm term = current;
        return suspended || term == revoked || state.get() != State.STARTED
                ? Optional.empty()
                : Optional.ofNullable(term);
    }

    /** Who holds the latch, as ZooKeeper sees it now (empty when nobody does). */
    public Optional<String> leaderName() throws Exception {
        String id = latch.getLeader().getId();
        return id.isEmpty() ? Optional.empty() : Optional.of(id);
    }

    /**
     * The region's latest term as the term znode records it ({@code "epoch leader"}): the epoch
     * and the host that took it, whoever that is; empty before any term was taken. Blocks on
     * ZooKeeper.
     */
    public Optional<LeaderTerm> regionTerm() throws Exception {
        Stat stat = new Stat();
        String[] fields = new String(client.getData().storingStatIn(stat).forPath(paths.term()), StandardCharsets.UTF_8)
                .split(" ", 2);
        long epoch = Long.parseLong(fields[0]);
        if (epoch == 0 || fields.length < 2) {
            return Optional.empty();
        }
        return Optional.of(new LeaderTerm(paths.region(), epoch, stat.getVersion(), fields[1], stat.getMtime()));
    }

    /** When this host last lost (or gave up) leadership, local clock; -1 if never. */
    public long lostAtMillis() {
        return lostAtMillis;
    }

    /** Writes leader-owned data (create or replace) in a transaction fenced by the term. */
    public void write(LeaderTerm term, String path, byte[] data) throws NotLeaderException, Exception {
        requireNonNull(term, "term is null");
        List<CuratorOp> operations = new ArrayList<>();
        operations.add(
                client.transactionOp().check().withVersion(term.termVersion()).forPath(paths.term()));
        if (client.checkExists().forPath(path) == null) {
            String parent = path.substring(0, path.lastIndexOf('/'));
            client.createContainers(parent);
            operations.add(client.transactionOp().create().forPath(path, data));
        } else {
            operations.add(client.transactionOp().setData().forPath(path, data));
        }
        try {
            client.transaction().forOperations(operations);
            stats.leaderWrite(true);
        } catch (KeeperException.BadVersionException e) {
            throw refused(term, "write to " + path);
        }
    }

    /** Counts a fenced operation the term refused, and says why. */
    private NotLeaderException refused(LeaderTerm term, String what) {
        stats.leaderWrite(false);
        return new NotLeaderException("region " + paths.region() + ": " + what + " refused: term " + term.epoch()
                + " of " + term.leader() + " is over (a later leader took the term znode past version "
                + term.termVersion() + ")");
    }

    /** A znode to delete, if it is still at {@code version} ({@code -1}: whatever its version). */
    public record Versioned(String path, int version) {
        public Versioned {
            requireNonNull(path, "path is null");
        }
    }

    /**
     * Deletes a znode in a transaction fenced by the term, like {@link #write}: refused with
     * {@link NotLeaderException} once a successor took the term. False when the znode is already
     * gone, or no longer at {@code version} (it changed since it was read: left as it is).
     */
    public boolean delete(LeaderTerm term, String path, int version) throws NotLeaderException, Exception {
        return delete(term, List.of(new Versioned(path, version))) == 1;
    }

    /**
     * Deletes the znodes in transactions fenced by the term, up to {@value #DELETES_PER_TRANSACTION}
     * per transaction; a transaction that fails on a znode already gone or changed is done again one
     * znode at a time. How many were deleted; {@link NotLeaderException} once a successor took the
     * term (the transactions before it stay done).
     */
    public int delete(LeaderTerm term, List<Versioned> znodes) throws NotLeaderException, Exception {
        requireNonNull(term, "term is null");
        int deleted = 0;
        for (int from = 0; from < znodes.size(); from += DELETES_PER_TRANSACTION) {
            List<Versioned> batch = znodes.subList(from, Math.min(znodes.size(), from + DELETES_PER_TRANSACTION));
            if (deleteAtOnce(term, batch)) {
                deleted += batch.size();
            } else if (batch.size() > 1) {
                for (Versioned znode : batch) {
                    if (deleteAtOnce(term, List.of(znode))) {
                        deleted++;
                    }
                }
            }
        }
        return deleted;
    }

    /** True when the transaction deleted them all; false (nothing deleted) when one was gone or changed. */
    private boolean deleteAtOnce(LeaderTerm term, List<Versioned> znodes) throws NotLeaderException, Exception {
        List<CuratorOp> operations = new ArrayList<>();
        operations.add(
                client.transactionOp().check().withVersion(term.termVersion()).forPath(paths.term()));
        for (Versioned znode : znodes) {
            operations.add(
                    client.transactionOp().delete().withVersion(znode.version()).forPath(znode.path()));
        }
        try {
            client.transaction().forOperations(operations);
            stats.leaderWrite(true);
            return true;
        } catch (KeeperException e) {
            if (termRefused(term, e)) {
                throw refused(
                        term,
                        "delete of " + znodes.get(0).path()
                                + (znodes.size() > 1 ? " and " + (znodes.size() - 1) + " more" : ""));
            }
            if (e instanceof KeeperException.NoNodeException || e instanceof KeeperException.BadVersionException) {
                return false;
            }
            throw e;
        }
    }

    /** Whether a fenced transaction failed on the term's check (rather than on one of its other operations). */
    private boolean termRefused(LeaderTerm term, KeeperException e) throws Exception {
        List<OpResult> results = e.getResults();
        if (results != null && !results.isEmpty()) {
            // ZooKeeper reports every operation: the first one that failed carries its error, those before it OK
            return results.get(0) instanceof OpResult.ErrorResult error
                    && error.getErr() != KeeperException.Code.OK.intValue();
        }
        if (!(e instanceof KeeperException.BadVersionException)) {
            return false;
        }
        // no per-operation results: the term znode says whether it moved on
        return client.checkExists().forPath(paths.term()).getVersion() != term.termVersion();
    }

    private void connectionChanged(CuratorFramework ignored, ConnectionState newState) {
        switch (newState) {
            case SUSPENDED, LOST -> {
                if (!suspended && current != null) {
                    lostAtMillis = clockMillis.getAsLong();
                    log.warn(
                            "[region={} host={}] ZooKeeper connection {}: acting as leader stops (term {})",
                            paths.region(),
                            host,
                            newState,
                            current.epoch());
                }
                suspended = true;
                revoked = current;
                if (newState == ConnectionState.LOST) {
                    stats.sessionLost();
                } else {
                    stats.suspended();
                }
            }
            case CONNECTED, RECONNECTED -> suspended = false;
            case READ_ONLY -> {
                suspended = true;
                revoked = current;
            }
        }
    }

    /** On the leader thread: CAS the term znode while the latch still says we lead. */
    private void takeTerm() {
        long started = clockMillis.getAsLong();
        while (state.get() == State.STARTED && latch.hasLeadership()) {
            try {
                Stat stat = new Stat();
                String[] fields = new String(
                                client.getData().storingStatIn(stat).forPath(paths.term()), StandardCharsets.UTF_8)
                        .split(" ", 2);
                long epoch = Long.parseLong(fields[0]) + 1;
                Stat written = client.setData()
                        .withVersion(stat.getVersion())
                        .forPath(paths.term(), (epoch + " " + host).getBytes(StandardCharsets.UTF_8));
                LeaderTerm term =
                        new LeaderTerm(paths.region(), epoch, written.getVersion(), host, clockMillis.getAsLong());
                if (!latch.hasLeadership()) {
                    // lost it while taking it: the term is spent, nobody acts in it
                    return;
                }
                current = term;
                stats.leadershipAcquired(term.sinceMillis() - started);
                log.info("[region={} host={}] leader, term {}", paths.region(), host, epoch);
                for (Listener listener : listeners) {
                    listener.acquired(term);
                }
                return;
            } catch (KeeperException.BadVersionException e) {
                log.info("[region={} host={}] term znode changed while taking a term: again", paths.region(), host);
            } catch (Exception e) {
                // ZooKeeper unreachable: the latch drops us on SUSPENDED; until then, try again
                log.warn("[region={} host={}] cannot take a term yet: {}", paths.region(), host, e.toString());
                try {
                    TimeUnit.MILLISECONDS.sleep(200);
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void endTerm(String why) {
        LeaderTerm term = current;
        current = null;
        if (term == null) {
            return;
        }
        if (lostAtMillis < term.sinceMillis()) {
            lostAtMillis = clockMillis.getAsLong();
        }
        stats.leadershipLost();
        log.info("[region={} host={}] no longer leader ({}), term {} over", paths.region(), host, why, term.epoch());
        for (Listener listener : listeners) {
            listener.lost(term);
        }
    }

    /** Leaves the election (a successor is elected at once) and ends the leader thread. */
    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) != State.STARTED) {
            executor.shutdownNow();
            return;
        }
        client.getConnectionStateListenable().removeListener(connectionListener);
        try {
            latch.close();
        } catch (IOException | IllegalStateException e) {
            log.warn("[region={} host={}] closing the latch: {}", paths.region(), host, e.toString());
        }
        executor.execute(() -> endTerm("closed"));
        executor.shutdown();
        try {
            if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
                log.warn("[region={} host={}] leader thread still busy after 10 s", paths.region(), host);
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            executor.shutdownNow();
        }
    }
}
