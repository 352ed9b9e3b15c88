package io.dwcp.region;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;

/** The metadata records (JSON in znodes) and their one mapper. */
public final class Records {
    private static final ObjectMapper JSON =
            new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private Records() {}

    /** A host of the region (ephemeral: present while its dwcpd's session lives). */
    public record HostRecord(
            String name,
            String address,
            int capacity,
            String dwcpVersion,
            String certificateFingerprint,
            long registeredAtMillis) {
        public HostRecord {
            requireNonNull(name, "name is null");
            requireNonNull(address, "address is null");
            requireNonNull(dwcpVersion, "dwcpVersion is null");
            requireNonNull(certificateFingerprint, "certificateFingerprint is null");
        }
    }

    /** A measurement of the link from one host to another. */
    public record LinkRecord(
            String from, String to, long rttMicros, long goodputBytesPerSecond, int lossPpm, long measuredAtMillis) {
        public LinkRecord {
            requireNonNull(from, "from is null");
            requireNonNull(to, "to is null");
        }
    }

    /** A baseline (earlier copy of a VM's memory) a host holds. */
    public record BaselineRecord(String vm, String host, long sizeBytes, long createdAtMillis) {
        public BaselineRecord {
            requireNonNull(vm, "vm is null");
            requireNonNull(host, "host is null");
        }
    }

    /**
     * One migration as the region records it: {@code state} running, completed or failed;
     * {@code endedAtMillis} 0 while it runs; {@code bytes} the tunnel bytes its source sent so far;
     * {@code failure} the reason of a failed one ("" otherwise). Times are the source host's clock.
     */
    public record MigrationRecord(
            String id,
            String vm,
            String source,
            String destination,
            String state,
            long startedAtMillis,
            long updatedAtMillis,
            long endedAtMillis,
            long bytes,
            String failure) {
        public MigrationRecord {
            requireNonNull(id, "id is null");
            requireNonNull(vm, "vm is null");
            requireNonNull(source, "source is null");
            requireNonNull(destination, "destination is null");
            requireNonNull(state, "state is null");
            // records written before these fields existed have none
            failure = failure == null ? "" : failure;
        }

        public MigrationRecord(
                String id,
                String vm,
                String source,
                String destination,
                String state,
                long startedAtMillis,
                long updatedAtMillis) {
            this(id, vm, source, destination, state, startedAtMillis, updatedAtMillis, 0, 0, "");
        }
    }

    /**
     * Another region as its leader's gossip described it, stored by this region's leader for its
     * hosts: when this region's leader stored it, and when that region's leader wrote the summary
     * (its LWW timestamp's clock part; 0 in records of versions that did not store it), which is
     * what the summary's age counts from.
     */
    public record RemoteRecord(
            String region,
            String summary,
            java.util.List<String> hosts,
            long receivedAtMillis,
            long summaryWrittenAtMillis,
            java.util.List<HostRecord> hostRecords) {
        public RemoteRecord {
            requireNonNull(region, "region is null");
            requireNonNull(summary, "summary is null");
            hosts = java.util.List.copyOf(hosts);
            // records stored by versions that did not gossip host records have none
            hostRecords = hostRecords == null ? java.util.List.of() : java.util.List.copyOf(hostRecords);
        }

        public RemoteRecord(
                String region,
                String summary,
                java.util.List<String> hosts,
                long receivedAtMillis,
                long summaryWrittenAtMillis) {
            this(region, summary, hosts, receivedAtMillis, summaryWrittenAtMillis, java.util.List.of());
        }

        /**
         * How long ago that region's leader last confirmed its summary (it rewrites it every quarter
         * of the staleness bound while it leads), by this host's clock: the age of everything gossip
         * brought of that region, host records included.
         */
        public long ageMillis(long nowMillis) {
            long written = summaryWrittenAtMillis > 0 ? summaryWrittenAtMillis : receivedAtMillis;
            return Math.max(0, nowMillis - written);
        }

        /** The record of the host of that name, if the region's host set still holds it. */
        public java.util.Optional<HostRecord> host(String name) {
            if (!hosts.contains(name)) {
                return java.util.Optional.empty();
            }
            return hostRecords.stream().filter(host -> host.name().equals(name)).findFirst();
        }
    }

    static byte[] toJson(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static <T> T fromJson(byte[] bytes, Class<T> type, String path) {
        try {
            return JSON.readValue(bytes, type);
        } catch (IOException e) {
            throw new IllegalStateException(
                    "znode " + path + " does not hold a " + type.getSimpleName() + ": " + e.getMessage(), e);
        }
    }
}
