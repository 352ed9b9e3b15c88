package io.dwcp.cli;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A hand-written libvirt for the CLI's tests: domains by name, each with a scripted migration (a
 * list of job statistics handed out one per poll, then the migration completes or fails), and a
 * record of every call.
 */
final class FakeLibvirt implements Libvirt {
    final List<String> calls = new CopyOnWriteArrayList<>();
    final Map<String, FakeDomain> domains = new HashMap<>();
    String refuseConnection;
    /** Migrations running now, and the most that ever ran at once. */
    final java.util.concurrent.atomic.AtomicInteger running = new java.util.concurrent.atomic.AtomicInteger();

    final java.util.concurrent.atomic.AtomicInteger maxRunning = new java.util.concurrent.atomic.AtomicInteger();

    FakeDomain add(String name) {
        FakeDomain domain = new FakeDomain(name);
        domains.put(name, domain);
        return domain;
    }

    /** A running domain whose migration lasts {@code polls} progress samples. */
    FakeDomain addMigrating(String name, long memory, double dirtyBytesPerSecond, int polls) {
        FakeDomain domain = add(name);
        domain.memoryBytes = memory;
        domain.dirtyBytesPerSecond = dirtyBytesPerSecond;
        for (int i = 1; i <= polls; i++) {
            domain.script.add(new JobStats(
                    JobStats.Type.UNBOUNDED,
                    100L * i,
                    memory,
                    memory * i / polls,
                    memory - memory * i / polls,
                    java.util.OptionalLong.of(1),
                    java.util.OptionalLong.empty(),
                    java.util.OptionalLong.empty(),
                    java.util.OptionalLong.empty()));
        }
        return domain;
    }

    @Override
    public Connection open(String uri) throws LibvirtException {
        calls.add("open " + uri);
        if (refuseConnection != null) {
            throw new LibvirtException("cannot connect to " + uri + ": " + refuseConnection);
        }
        return new Connection() {
            @Override
            public Domain domain(String name) throws LibvirtException {
                FakeDomain domain = domains.get(name);
                if (domain == null) {
                    throw new LibvirtException(
                            "no domain '" + name + "': Domain not found: no domain with matching name '" + name + "'");
                }
                return domain;
            }

            @Override
            public List<String> runningDomains() throws LibvirtException {
                calls.add("list " + uri);
                return domains.values().stream()
                        .filter(domain -> domain.active)
                        .map(domain -> domain.name)
                        .sorted()
                        .toList();
            }

            @Override
            public void close() {
                calls.add("close " + uri);
            }
        };
    }

    enum Ending {
        COMPLETE,
        FAIL,
        NEVER
    }

    final class FakeDomain implements Domain {
        final String name;
        boolean active = true;
        Ending ending = Ending.COMPLETE;
        final Deque<JobStats> script = new ArrayDeque<>();
        Runnable onSecondPoll = () -> {};
        private int polls;
        private boolean aborted;
        private boolean scriptDone;
        long memoryBytes = 1L << 30;
        double dirtyBytesPerSecond;
        String dirtyRateFailure;
        private int dirtyRateSeconds;
        volatile String destinationUri;
        MigrationParameters parameters;
        int flags = -1;

        FakeDomain(String name) {
            this.name = name;
        }

        @Override
        public boolean isActive() {
            return active;
        }

        @Override
        public void migrate(String destinationUri, MigrationParameters parameters, int flags) throws LibvirtException {
            calls.add("migrate " + name);
            maxRunning.accumulateAndGet(running.incrementAndGet(), Math::max);
            try {
                migrateScripted(destinationUri, parameters, flags);
            } finally {
                running.decrementAndGet();
            }
        }

        private void migrateScripted(String destinationUri, MigrationParameters parameters, int flags)
                throws LibvirtException {
            this.destinationUri = destinationUri;
            this.parameters = parameters;
            this.flags = flags;
            synchronized (this) {
                while (!aborted && !(scriptDone && ending != Ending.NEVER)) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new LibvirtException("interrupted");
                    }
                }
                if (aborted) {
                    throw new LibvirtException("migration of '" + name + "' to " + destinationUri
                            + ": operation aborted: migration out job: canceled by client");
                }
            }
            if (ending == Ending.FAIL) {
                throw new LibvirtException("migration of '" + name + "' to " + destinationUri
                        + ": operation failed: migration out job: unexpectedly failed");
            }
        }

        @Override
        public synchronized JobStats jobStats() {
            polls++;
            if (polls == 2) {
                onSecondPoll.run();
            }
            JobStats next = script.poll();
            if (script.isEmpty()) {
                scriptDone = true;
                notifyAll();
            }
            return next == null ? JobStats.NONE : next;
        }

        @Override
        public long memoryBytes() {
            return memoryBytes;
        }

        @Override
        public synchronized void startDirtyRate(int seconds) throws LibvirtException {
            calls.add("calc-dirty-rate " + name + " " + seconds);
            if (dirtyRateFailure != null) {
                throw new LibvirtException("QEMU monitor of '" + name + "': " + dirtyRateFailure);
            }
            dirtyRateSeconds = seconds;
        }

        /** Measuring for one query after the start, then measured. */
        @Override
        public synchronized OptionalDouble dirtyRate() throws LibvirtException {
            if (dirtyRateSeconds == 0) {
                throw new LibvirtException("dirty rate of '" + name + "': QEMU's measurement is unstarted");
            }
            if (dirtyRateSeconds > 0) {
                dirtyRateSeconds = -1;
                return OptionalDouble.empty();
            }
            return OptionalDouble.of(dirtyBytesPerSecond);
        }

        @Override
        public synchronized void abortJob() {
            calls.add("abortJob " + name);
            aborted = true;
            notifyAll();
        }
    }
}
