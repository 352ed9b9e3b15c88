package io.dwcp.cli;

import org.libvirt.Connect;
import org.libvirt.DomainJobStats;
import org.libvirt.TypedIntParameter;
import org.libvirt.TypedLongParameter;
import org.libvirt.TypedParameter;
import org.libvirt.TypedStringParameter;
import org.libvirt.TypedUintParameter;
import org.libvirt.TypedUlongParameter;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static java.util.Objects.requireNonNull;

/** {@link Libvirt} through libvirt-java (org.libvirt, JNA): needs libvirt.so.0 on the host. */
public final class LibvirtJava
        implements Libvirt
{
    // libvirt prints every error on stderr unless an error callback is set: dwcp reports them itself
    private static final org.libvirt.ErrorCallback QUIET = new org.libvirt.ErrorCallback();

    @Override
    public Connection open(String uri)
            throws LibvirtException
    {
        try {
            Connect.setErrorCallback(QUIET);
            return new JavaConnection(new Connect(uri, false));
        }
        catch (org.libvirt.LibvirtException e) {
            throw wrap("cannot connect to " + uri, e);
        }
        catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new LibvirtException("cannot load libvirt (libvirt.so.0; Debian: libvirt0, RHEL: libvirt-libs): " + e.getMessage(), e);
        }
    }

    private static LibvirtException wrap(String what, org.libvirt.LibvirtException e)
    {
        String message = e.getError() != null && e.getError().getMessage() != null ? e.getError().getMessage() : e.getMessage();
        return new LibvirtException(what + ": " + message, e);
    }

    private static final class JavaConnection
            implements Connection
    {
        private final Connect connect;

        private JavaConnection(Connect connect)
        {
            this.connect = requireNonNull(connect, "connect is null");
        }

        @Override
        public Domain domain(String name)
                throws LibvirtException
        {
            try {
                return new JavaDomain(name, connect.domainLookupByName(name));
            }
            catch (org.libvirt.LibvirtException e) {
                throw wrap("no domain '" + name + "'", e);
            }
        }

        @Override
        public void close()
        {
            try {
                connect.close();
            }
            catch (org.libvirt.LibvirtException e) {
                // closing a connection that libvirtd already dropped: nothing is left to release
            }
        }
    }

    private record JavaDomain(String name, org.libvirt.Domain domain)
            implements Domain
    {
        @Override
        public boolean isActive()
                throws LibvirtException
        {
            try {
                return domain.isActive() == 1;
            }
            catch (org.libvirt.LibvirtException e) {
                throw wrap("domain '" + name + "'", e);
            }
        }

        @Override
        public void migrate(String destinationUri, MigrationParameters parameters, int flags)
                throws LibvirtException
        {
            List<TypedParameter> typed = new ArrayList<>();
            typed.add(new TypedStringParameter(org.libvirt.Domain.DomainMigrateParameters.VIR_MIGRATE_PARAM_URI, parameters.migrateUri()));
            parameters.parallelConnections().ifPresent(connections ->
                    typed.add(new TypedIntParameter(org.libvirt.Domain.DomainMigrateParameters.VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS, connections)));
            parameters.bandwidthMiB().ifPresent(mib ->
                    typed.add(new TypedUlongParameter(org.libvirt.Domain.DomainMigrateParameters.VIR_MIGRATE_PARAM_BANDWIDTH, mib)));
            try {
                domain.migrateToURI(destinationUri, typed.toArray(TypedParameter[]::new), flags);
            }
            catch (org.libvirt.LibvirtException e) {
                throw wrap("migration of '" + name + "' to " + destinationUri, e);
            }
        }

        @Override
        public JobStats jobStats()
                throws LibvirtException
        {
            DomainJobStats stats;
            try {
                stats = domain.getJobStats(0);
            }
            catch (org.libvirt.LibvirtException e) {
                throw wrap("job statistics of '" + name + "'", e);
            }
            Map<String, Long> fields = new HashMap<>();
            for (TypedParameter parameter : stats.stats == null ? new TypedParameter[0] : stats.stats) {
                if (parameter instanceof TypedUlongParameter value) {
                    fields.put(parameter.field, value.value);
                }
                else if (parameter instanceof TypedLongParameter value) {
                    fields.put(parameter.field, value.value);
                }
                else if (parameter instanceof TypedUintParameter value) {
                    fields.put(parameter.field, Integer.toUnsignedLong(value.value));
                }
                else if (parameter instanceof TypedIntParameter value) {
                    fields.put(parameter.field, (long) value.value);
                }
            }
            return JobStats.of(stats.type, fields);
        }

        @Override
        public void abortJob()
                throws LibvirtException
        {
            try {
                domain.abortJob();
            }
            catch (org.libvirt.LibvirtException e) {
                throw wrap("cannot abort the job of '" + name + "'", e);
            }
        }
    }
}
