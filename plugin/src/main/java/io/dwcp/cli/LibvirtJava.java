package io.dwcp.cli;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalDouble;
import org.libvirt.Connect;
import org.libvirt.DomainJobStats;
import org.libvirt.TypedIntParameter;
import org.libvirt.TypedLongParameter;
import org.libvirt.TypedParameter;
import org.libvirt.TypedStringParameter;
import org.libvirt.TypedUintParameter;
import org.libvirt.TypedUlongParameter;

/** {@link Libvirt} through libvirt-java (org.libvirt, JNA): needs libvirt.so.0 on the host. */
public final class LibvirtJava implements Libvirt {
    // libvirt prints every error on stderr unless an error callback is set: dwcp reports them itself
    private static final org.libvirt.ErrorCallback QUIET = new org.libvirt.ErrorCallback();
    private static final ObjectMapper JSON = new ObjectMapper();
    /** virConnectListAllDomains' VIR_CONNECT_LIST_DOMAINS_ACTIVE. */
    private static final int LIST_ACTIVE = 1;

    @Override
    public Connection open(String uri) throws LibvirtException {
        try {
            Connect.setErrorCallback(QUIET);
            return new JavaConnection(new Connect(uri, false));
        } catch (org.libvirt.LibvirtException e) {
            throw wrap("cannot connect to " + uri, e);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new LibvirtException(
                    "cannot load libvirt (libvirt.so.0; Debian: libvirt0, RHEL: libvirt-libs): " + e.getMessage(), e);
        }
    }

    private static LibvirtException wrap(String what, org.libvirt.LibvirtException e) {
        String message = e.getError() != null && e.getError().getMessage() != null
                ? e.getError().getMessage()
                : e.getMessage();
        return new LibvirtException(what + ": " + message, e);
    }

    private static final class JavaConnection implements Connection {
        private final Connect connect;

        private JavaConnection(Connect connect) {
            this.connect = requireNonNull(connect, "connect is null");
        }

        @Override
        public Domain domain(String name) throws LibvirtException {
            try {
                return new JavaDomain(name, connect.domainLookupByName(name));
            } catch (org.libvirt.LibvirtException e) {
                throw wrap("no domain '" + name + "'", e);
            }
        }

        @Override
        public List<String> runningDomains() throws LibvirtException {
            List<String> names = new ArrayList<>();
            try {
                for (org.libvirt.Domain domain : connect.listAllDomains(LIST_ACTIVE)) {
                    names.add(domain.getName());
                }
            } catch (org.libvirt.LibvirtException e) {
                throw wrap("cannot list the running domains", e);
            }
            names.sort(null);
            return names;
        }

        @Override
        public void close() {
            try {
                connect.close();
            } catch (org.libvirt.LibvirtException e) {
                // closing a connection that libvirtd already dropped: nothing is left to release
            }
        }
    }

    private record JavaDomain(String name, org.libvirt.Domain domain) implements Domain {
        @Override
        public boolean isActive() throws LibvirtException {
            try {
                return domain.isActive() == 1;
            } catch (org.libvirt.LibvirtException e) {
                throw wrap("domain '" + name + "'", e);
            }
        }

        @Override
        public void migrate(String destinationUri, MigrationParameters parameters, int flags) throws LibvirtException {
            List<TypedParameter> typed = new ArrayList<>();
            typed.add(new TypedStringParameter(
                    org.libvirt.Domain.DomainMigrateParameters.VIR_MIGRATE_PARAM_URI, parameters.migrateUri()));
            parameters
                    .parallelConnections()
                    .ifPresent(connections -> typed.add(new TypedIntParameter(
                            org.libvirt.Domain.DomainMigrateParameters.VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS,
                            connections)));
            parameters
                    .bandwidthMiB()
                    .ifPresent(mib -> typed.add(new TypedUlongParameter(
                            org.libvirt.Domain.DomainMigrateParameters.VIR_MIGRATE_PARAM_BANDWIDTH, mib)));
            try {
                domain.migrateToURI(destinationUri, typed.toArray(TypedParameter[]::new), flags);
            } catch (org.libvirt.LibvirtException e) {
                throw wrap("migration of '" + name + "' to " + destinationUri, e);
            }
        }

        @Override
        public JobStats jobStats() throws LibvirtException {
            DomainJobStats stats;
            try {
                stats = domain.getJobStats(0);
            } catch (org.libvirt.LibvirtException e) {
                throw wrap("job statistics of '" + name + "'", e);
            }
            Map<String, Long> fields = new HashMap<>();
            for (TypedParameter parameter : stats.stats == null ? new TypedParameter[0] : stats.stats) {
                if (parameter instanceof TypedUlongParameter value) {
                    fields.put(parameter.field, value.value);
                } else if (parameter instanceof TypedLongParameter value) {
                    fields.put(parameter.field, value.value);
                } else if (parameter instanceof TypedUintParameter value) {
                    fields.put(parameter.field, Integer.toUnsignedLong(value.value));
                } else if (parameter instanceof TypedIntParameter value) {
                    fields.put(parameter.field, (long) value.value);
                }
            }
            return JobStats.of(stats.type, fields);
        }

        @Override
        public void abortJob() throws LibvirtException {
            try {
                domain.abortJob();
            } catch (org.libvirt.LibvirtException e) {
                throw wrap("cannot abort the job of '" + name + "'", e);
            }
        }

        @Override
        public long memoryBytes() throws LibvirtException {
            try {
                return domain.getInfo().memory * 1024;
            } catch (org.libvirt.LibvirtException e) {
                throw wrap("memory of '" + name + "'", e);
            }
        }

        // libvirt-java has no virDomainStartDirtyRateCalc: QEMU's own command through libvirt (libvirt
        // marks the domain tainted by a monitor command; the measurement changes nothing in the guest)
        @Override
        public void startDirtyRate(int seconds) throws LibvirtException {
            monitor("{\"execute\":\"calc-dirty-rate\",\"arguments\":{\"calc-time\":" + seconds + "}}");
        }

        @Override
        public OptionalDouble dirtyRate() throws LibvirtException {
            JsonNode answer = monitor("{\"execute\":\"query-dirty-rate\"}").path("return");
            String status = answer.path("status").asText();
            return switch (status) {
                case "measured" -> OptionalDouble.of(answer.path("dirty-rate").asDouble() * (1 << 20));
                case "measuring" -> OptionalDouble.empty();
                default ->
                    throw new LibvirtException("dirty rate of '" + name + "': QEMU's measurement is "
                            + (status.isEmpty() ? "unknown" : status));
            };
        }

        private JsonNode monitor(String command) throws LibvirtException {
            String answer;
            try {
                answer = domain.qemuMonitorCommand(command, 0);
            } catch (org.libvirt.LibvirtException e) {
                throw wrap("QEMU monitor of '" + name + "'", e);
            } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
                throw new LibvirtException(
                        "cannot load libvirt-qemu (libvirt-qemu.so.0; Debian: libvirt0, RHEL: libvirt-libs): "
                                + e.getMessage(),
                        e);
            }
            try {
                JsonNode json = JSON.readTree(answer);
                if (json.has("error")) {
                    throw new LibvirtException("QEMU monitor of '" + name + "': "
                            + json.path("error").path("desc").asText(answer));
                }
                return json;
            } catch (IOException e) {
                throw new LibvirtException("QEMU monitor of '" + name + "': not JSON: " + answer, e);
            }
        }
    }
}
