package io.dwcp.control;

import static java.util.Objects.requireNonNull;

import io.dwcp.config.Printable;
import io.dwcp.hde.BaselineJobs;
import io.dwcp.hde.BaselineStore;
import io.dwcp.session.PeerConfig;
import io.dwcp.session.Session;
import io.dwcp.session.SessionManager;
import jakarta.inject.Inject;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the control socket was told: incoming migrations the libvirt hook announced (this host is
 * their destination), and outgoing migrations {@code dwcp migrate} announced. An outgoing
 * migration has its own socket ({@link #attachListener}, {@code <run-dir>/peer/<peer>/<id>.sock}),
 * and is bound to the one source session that came through it ({@link Session#migrationId()});
 * sessions through the per-peer socket carry no announced migration. Records are forgotten after
 * {@code control.expectation-timeout} (a running session's record is kept while it runs), and
 * at most {@code control.max-records} are kept.
 *
 * <p>It also tells {@link BaselineJobs} which VM a session carried, so that the baseline it leaves
 * is labelled: a source session's VM is the outgoing migration bound to it (domain name only). A
 * destination session's is the one its OPEN names ({@link Session#vm()}, the domain its source
 * announced), with the UUID of the incoming announcement of that domain if the hook made one; so
 * concurrent migrations each label their own baseline. A session whose OPEN names no VM (a
 * migration through the peer's socket, not announced at the source) gets the oldest incoming
 * announcement not yet taken by another destination session: a first-come guess, right when such
 * migrations arrive one at a time. The newest {@value #KEPT_OWNERS} sessions' VMs are remembered.
 * Thread-safe.
 *
 * <p>An outgoing migration holds its socket's listener and may hold its VM's lock in the region
 * ({@link #attachLock}): both held while the migration is announced and while its session runs,
 * let go when the session ends, when the record is forgotten ({@link #forget}, expiry, a new
 * announcement of the domain replacing one that never started) or cleared. Letting go of a lock
 * blocks on ZooKeeper and closing a listener waits for its event loop, so the registry never does
 * it under its monitor: what it let go of waits in {@link #takeReleased} for the caller to close.
 */
public final class MigrationRegistry {
    private static final Logger log = LoggerFactory.getLogger(MigrationRegistry.class);

    public enum Outcome {
        ACCEPTED,
        ALREADY_KNOWN,
        FULL
    }

    public record Incoming(String domain, String uuid, long createdMillis, long expiresNanos) {}

    /** An outgoing migration; {@link #session()} is empty until its source session starts. */
    public static final class Outgoing {
        private final String id;
        private final String domain;
        private final PeerConfig peer;
        private final long createdMillis;
        private final long expiresNanos;
        private volatile Session session;
        private AutoCloseable lock; // guarded by the registry
        private AutoCloseable listener; // guarded by the registry

        private Outgoing(String id, String domain, PeerConfig peer, long createdMillis, long expiresNanos) {
            this.id = id;
            this.domain = domain;
            this.peer = peer;
            this.createdMillis = createdMillis;
            this.expiresNanos = expiresNanos;
        }

        public String id() {
            return id;
        }

        public String domain() {
            return domain;
        }

        public PeerConfig peer() {
            return peer;
        }

        public long createdMillis() {
            return createdMillis;
        }

        public Optional<Session> session() {
            return Optional.ofNullable(session);
        }
    }

    public record Announcement(Outcome outcome, Optional<Outgoing> migration) {}

    private final ControlConfig config;
    private final SecureRandom random = new SecureRandom();
    private final Map<String, Incoming> incoming = new LinkedHashMap<>();
    private final Map<String, Outgoing> outgoing = new LinkedHashMap<>();
    static final int KEPT_OWNERS = 256;
    // the VM each recent session carried, by session id (both roles)
    private final Map<Long, BaselineStore.Owner> owners = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, BaselineStore.Owner> eldest) {
            return size() > KEPT_OWNERS;
        }
    };
    // incoming announcements already taken by a destination session
    private final Set<Incoming> takenIncoming = Collections.newSetFromMap(new IdentityHashMap<>());
    private final List<AutoCloseable> released = new ArrayList<>();

    @Inject
    public MigrationRegistry(ControlConfig config, SessionManager sessions, BaselineJobs baselineJobs) {
        this.config = requireNonNull(config, "config is null");
        requireNonNull(sessions, "sessions is null").addSessionListener(this::sessionStarted);
        sessions.addOpenListener(this::destinationOpened);
        requireNonNull(baselineJobs, "baselineJobs is null").setOwners(this::ownerOf);
    }

    /** The VM the session carried, if this host was told (dwcp migrate at the source, the libvirt hook at the destination). */
    public synchronized Optional<BaselineStore.Owner> ownerOf(long sessionId) {
        return Optional.ofNullable(owners.get(sessionId));
    }

    /** The hook's announcement: this host is about to receive the domain. */
    public synchronized Outcome expectIncoming(String domain, String uuid) {
        expire();
        for (Incoming existing : incoming.values()) {
            if (existing.domain().equals(domain) || existing.uuid().equalsIgnoreCase(uuid)) {
                return Outcome.ALREADY_KNOWN;
            }
        }
        if (incoming.size() + outgoing.size() >= config.getMaxRecords()) {
            return Outcome.FULL;
        }
        incoming.put(
                domain,
                new Incoming(
                        domain,
                        uuid,
                        System.currentTimeMillis(),
                        System.nanoTime() + config.getExpectationTimeout().toNanos()));
        log.info("[domain={} uuid={}] incoming migration expected", domain, uuid);
        return Outcome.ACCEPTED;
    }

    /** dwcp migrate's announcement: the domain is about to migrate to the peer through this dwcpd. */
    public synchronized Announcement announceOutgoing(String domain, PeerConfig peer) {
        expire();
        for (Iterator<Outgoing> iterator = outgoing.values().iterator(); iterator.hasNext(); ) {
            Outgoing existing = iterator.next();
            if (!existing.domain().equals(domain)) {
                continue;
            }
            if (existing.session != null && existing.session.state() == Session.State.OPEN) {
                return new Announcement(Outcome.ALREADY_KNOWN, Optional.of(existing));
            }
            if (existing.session == null) {
                // announced, but its migration never started (libvirt refused it): a new attempt replaces it
                iterator.remove();
                letGo(existing);
            }
        }
        if (incoming.size() + outgoing.size() >= config.getMaxRecords()) {
            return new Announcement(Outcome.FULL, Optional.empty());
        }
        String id = String.format("%016x", random.nextLong());
        Outgoing migration = new Outgoing(
                id,
                domain,
                peer,
                System.currentTimeMillis(),
                System.nanoTime() + config.getExpectationTimeout().toNanos());
        outgoing.put(id, migration);
        log.info("[domain={} migration={}] outgoing migration to {} announced", domain, id, peer.name());
        return new Announcement(Outcome.ACCEPTED, Optional.of(migration));
    }

    /**
     * Gives the announced migration its VM's lock; false (and the caller closes the lock) when the
     * record is gone meanwhile.
     */
    public synchronized boolean attachLock(String id, AutoCloseable lock) {
        requireNonNull(lock, "lock is null");
        Outgoing migration = outgoing.get(id);
        if (migration == null) {
            return false;
        }
        letGo(migration);
        migration.lock = lock;
        return true;
    }

    /**
     * Gives the announced migration the listener of its own socket; false (and the caller closes
     * the listener) when the record is gone meanwhile, or its session already ended.
     */
    public synchronized boolean attachListener(String id, AutoCloseable listener) {
        requireNonNull(listener, "listener is null");
        Outgoing migration = outgoing.get(id);
        if (migration == null || (migration.session != null && migration.session.state() != Session.State.OPEN)) {
            return false;
        }
        if (migration.listener != null) {
            released.add(migration.listener);
        }
        migration.listener = listener;
        return true;
    }

    /** Forgets the outgoing migration (dwcp migrate is done with it); its lock and listener wait in {@link #takeReleased}. */
    public synchronized Optional<Outgoing> forget(String id) {
        Outgoing migration = outgoing.remove(id);
        if (migration != null) {
            letGo(migration);
            log.info("[domain={} migration={}] outgoing migration forgotten", migration.domain(), id);
        }
        return Optional.ofNullable(migration);
    }

    /** What {@link #forgetUnlessRunning} did. */
    public enum Forgotten {
        FORGOTTEN,
        RUNNING,
        UNKNOWN
    }

    /** {@link #forget}s the outgoing migration unless its session runs. */
    public synchronized Forgotten forgetUnlessRunning(String id) {
        Outgoing migration = outgoing.get(id);
        if (migration == null) {
            return Forgotten.UNKNOWN;
        }
        if (migration.session != null && migration.session.state() == Session.State.OPEN) {
            return Forgotten.RUNNING;
        }
        forget(id);
        return Forgotten.FORGOTTEN;
    }

    /** The locks and listeners let go of since the last call, for the caller to close off the registry's monitor. */
    public synchronized List<AutoCloseable> takeReleased() {
        expire();
        List<AutoCloseable> locks = List.copyOf(released);
        released.clear();
        return locks;
    }

    public synchronized Optional<Outgoing> outgoing(String id) {
        expire();
        return Optional.ofNullable(outgoing.get(id));
    }

    public synchronized List<Incoming> incoming() {
        expire();
        return List.copyOf(incoming.values());
    }

    public synchronized List<Outgoing> outgoing() {
        expire();
        return List.copyOf(outgoing.values());
    }

    /** A destination session's OPEN arrived: the VM it names, or else a first-come guess. */
    private synchronized void destinationOpened(Session session) {
        expire();
        Optional<String> vm = session.vm();
        if (vm.isPresent()) {
            Incoming announced = incoming.get(vm.get());
            if (announced != null) {
                takenIncoming.add(announced);
            }
            Optional<String> uuid = Optional.ofNullable(announced).map(Incoming::uuid);
            owners.put(session.id(), new BaselineStore.Owner(vm.get(), uuid));
            // the name comes from the peer: quoted, as every outside text in a log
            log.info(
                    "[domain={} uuid={} migration={}] {} carries it",
                    Printable.of(vm.get(), 200),
                    uuid.orElse("not announced here"),
                    session.migrationId().orElse("none"),
                    session.context());
            return;
        }
        for (Incoming expected : incoming.values()) {
            if (takenIncoming.add(expected)) {
                owners.put(session.id(), new BaselineStore.Owner(expected.domain(), Optional.of(expected.uuid())));
                log.info(
                        "[domain={} uuid={}] {} carries it, as far as this host can tell",
                        expected.domain(),
                        expected.uuid(),
                        session.context());
                return;
            }
        }
    }

    private synchronized void sessionStarted(Session session) {
        if (session.role() != Session.Role.SOURCE) {
            return; // its VM is known once its OPEN arrives (destinationOpened)
        }
        // only the session that came through the migration's own socket carries it
        Outgoing migration = session.migrationId().map(outgoing::get).orElse(null);
        if (migration != null
                && migration.session == null
                && migration.peer().name().equals(session.peer().name())) {
            migration.session = session;
            owners.put(session.id(), new BaselineStore.Owner(migration.domain(), Optional.empty()));
            log.info("[domain={} migration={}] {} carries it", migration.domain(), migration.id(), session.context());
        }
    }

    private void expire() {
        long now = System.nanoTime();
        incoming.values().removeIf(record -> now - record.expiresNanos() > 0);
        takenIncoming.retainAll(incoming.values());
        for (Iterator<Outgoing> iterator = outgoing.values().iterator(); iterator.hasNext(); ) {
            Outgoing migration = iterator.next();
            boolean running = migration.session != null && migration.session.state() == Session.State.OPEN;
            if (!running && now - migration.expiresNanos > 0) {
                iterator.remove();
                letGo(migration);
            } else if (migration.session != null && !running) {
                // its session ended: the VM may migrate again
                letGo(migration);
            }
        }
    }

    /** Forgets every record (the daemon stops). */
    public synchronized void clear() {
        incoming.clear();
        outgoing.values().forEach(this::letGo);
        outgoing.clear();
        takenIncoming.clear();
        owners.clear();
    }

    private void letGo(Outgoing migration) {
        if (migration.listener != null) {
            released.add(migration.listener);
            migration.listener = null;
        }
        if (migration.lock != null) {
            released.add(migration.lock);
            migration.lock = null;
        }
    }
}
