package io.dwcp.cli;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A hand-written libvirt for the CLI's tests: domains by name, each with a scripted migration (a
 * list of job statistics handed out one per poll, then the migration completes or fails), and a
 * record of every call.
 */
final class FakeLibvirt
        implements Libvirt
{
    final List<String> calls = new CopyOnWriteArrayList<>();
    final Map<String, FakeDomain> domains = new HashMap<>();
    String refuseConnection;

    FakeDomain add(String name)
    {
        FakeDomain domain = new FakeDomain(name);
        domains.put(name, domain);
        return domain;
    }

    @Override
    public Connection open(String uri)
            throws LibvirtException
    {
        calls.add("open " + uri);
        if (refuseConnection != null) {
            throw new LibvirtException("cannot connect to " + uri + ": " + refuseConnection);
        }
        return new Connection()
        {
            @Override
            public Domain domain(String name)
                    throws LibvirtException
            {
                FakeDomain domain = domains.get(name);
                if (domain == null) {
                    throw new LibvirtException("no domain '" + name + "': Domain not found: no domain with matching name '" + name + "'");
                }
                return domain;
            }

            @Override
            public void close()
            {
                calls.add("close " + uri);
            }
        };
    }

    enum Ending
    {
        COMPLETE, FAIL, NEVER
    }

    final class FakeDomain
            implements Domain
    {
        final String name;
        boolean active = true;
        Ending ending = Ending.COMPLETE;
        final Deque<JobStats> script = new ArrayDeque<>();
        Runnable onSecondPoll = () -> {};
        private int polls;
        private boolean aborted;
        private boolean scriptDone;
        String destinationUri;
        MigrationParameters parameters;
        int flags = -1;

        FakeDomain(String name)
        {
            this.name = name;
        }

        @Override
        public boolean isActive()
        {
            return active;
        }

        @Override
        public void migrate(String destinationUri, MigrationParameters parameters, int flags)
                throws LibvirtException
        {
            calls.add("migrate " + name);
            this.destinationUri = destinationUri;
            this.parameters = parameters;
            this.flags = flags;
            synchronized (this) {
                while (!aborted && !(scriptDone && ending != Ending.NEVER)) {
                    try {
                        wait();
                    }
                    catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new LibvirtException("interrupted");
                    }
                }
                if (aborted) {
                    throw new LibvirtException("migration of '" + name + "' to " + destinationUri + ": operation aborted: migration out job: canceled by client");
                }
            }
            if (ending == Ending.FAIL) {
                throw new LibvirtException("migration of '" + name + "' to " + destinationUri + ": operation failed: migration out job: unexpectedly failed");
            }
        }

        @Override
        public synchronized JobStats jobStats()
        {
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
        public synchronized void abortJob()
        {
            calls.add("abortJob " + name);
            aborted = true;
            notifyAll();
        }
    }
}
