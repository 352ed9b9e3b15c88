package io.dwcp.cli;

import java.util.List;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What {@code dwcp migrate} and {@code dwcp evacuate} need of libvirt, and no more: tests use a hand-written fake,
 * {@link LibvirtJava} is the real one (libvirt-java over JNA).
 */
public interface Libvirt {
    /** Opens a connection to the libvirt URI, e.g. {@code qemu:///system}. */
    Connection open(String uri) throws LibvirtException;

    interface Connection extends AutoCloseable {
        /** The domain by name; fails when there is none. */
        Domain domain(String name) throws LibvirtException;

        /** The names of the running (active) domains, sorted. */
        List<String> runningDomains() throws LibvirtException;

        @Override
        void close();
    }

    interface Domain {
        boolean isActive() throws LibvirtException;

        /**
         * Migrates the domain (peer-to-peer: libvirtd talks to the destination itself) and returns
         * when the migration ended; throws when it failed or was aborted.
         */
        void migrate(String destinationUri, MigrationParameters parameters, int flags) throws LibvirtException;

        /** The running job's statistics (type NONE when there is no job). */
        JobStats jobStats() throws LibvirtException;

        void abortJob() throws LibvirtException;

        /** The guest's current memory in bytes (what a migration's first round sends). */
        long memoryBytes() throws LibvirtException;

        /**
         * Starts QEMU's dirty-rate measurement over {@code seconds} (QMP {@code calc-dirty-rate});
         * {@link #dirtyRate} gives its result once it is done.
         */
        void startDirtyRate(int seconds) throws LibvirtException;

        /** The measured dirty rate in bytes per second, or empty while the measurement runs (QMP {@code query-dirty-rate}). */
        OptionalDouble dirtyRate() throws LibvirtException;
    }

    /** virDomainMigrateToURI3's parameters that dwcp sets. */
    record MigrationParameters(String migrateUri, OptionalInt parallelConnections, OptionalLong bandwidthMiB) {}

    /** libvirt refused or failed; the message is libvirt's own. */
    final class LibvirtException extends Exception {
        public LibvirtException(String message, Throwable cause) {
            super(message, cause);
        }

        public LibvirtException(String message) {
            super(message);
        }
    }
}
