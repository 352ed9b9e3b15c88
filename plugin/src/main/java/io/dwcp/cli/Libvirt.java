package io.dwcp.cli;

import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What {@code dwcp migrate} needs of libvirt, and no more: tests use a hand-written fake,
 * {@link LibvirtJava} is the real one (libvirt-java over JNA).
 */
public interface Libvirt
{
    /** Opens a connection to the libvirt URI, e.g. {@code qemu:///system}. */
    Connection open(String uri)
            throws LibvirtException;

    interface Connection
            extends AutoCloseable
    {
        /** The domain by name; fails when there is none. */
        Domain domain(String name)
                throws LibvirtException;

        @Override
        void close();
    }

    interface Domain
    {
        boolean isActive()
                throws LibvirtException;

        /**
         * Migrates the domain (peer-to-peer: libvirtd talks to the destination itself) and returns
         * when the migration ended; throws when it failed or was aborted.
         */
        void migrate(String destinationUri, MigrationParameters parameters, int flags)
                throws LibvirtException;

        /** The running job's statistics (type NONE when there is no job). */
        JobStats jobStats()
                throws LibvirtException;

        void abortJob()
                throws LibvirtException;
    }

    /** virDomainMigrateToURI3's parameters that dwcp sets. */
    record MigrationParameters(String migrateUri, OptionalInt parallelConnections, OptionalLong bandwidthMiB) {}

    /** libvirt refused or failed; the message is libvirt's own. */
    final class LibvirtException
            extends Exception
    {
        public LibvirtException(String message, Throwable cause)
        {
            super(message, cause);
        }

        public LibvirtException(String message)
        {
            super(message);
        }
    }
}
