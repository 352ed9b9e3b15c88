package io.dwcp.region;

import static java.util.Objects.requireNonNull;

import io.dwcp.region.Records.BaselineRecord;
import io.dwcp.region.Records.HostRecord;
import io.dwcp.region.Records.LinkRecord;
import io.dwcp.region.Records.MigrationRecord;
import io.dwcp.region.Records.RemoteRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;

/**
 * Where a VM goes in a region ({@code dwcp migrate VM --to-region R}). Every figure is read through
 * {@link RegionView}, so within {@code region.staleness-bound} or refused.
 *
 * <p>The rules, in order:
 * <ol>
 * <li>The candidates are the hosts registered in the region, this host left out.</li>
 * <li>A host is <em>full</em> when the migrations recorded as running towards it (whose source
 * host is still registered: a source that died does not hold a slot for ever) reach its
 * {@code region.capacity}; a full host is not chosen.</li>
 * <li>A host holding a baseline of the VM comes first: the migration then sends what changed since,
 * not the whole memory.</li>
 * <li>Then the link measured from this host to it: the higher goodput first; a host with no
 * measurement after every host with one.</li>
 * <li>Then the newer baseline, then more free slots (capacity minus running migrations), then the
 * name.</li>
 * </ol>
 * Another region's hosts are the host records its leader gossips (address, capacity, certificate
 * fingerprint), read within the bound from when that leader last confirmed them; their links are
 * those measured from this host (this region's records); the migrations running towards them are
 * those this region records; baselines held in another region are not gossiped, so there the
 * baseline rule does not apply and the choice says so.
 */
public final class DestinationChooser {
    private DestinationChooser() {}

    /** A host of the region with its figures; {@code running}: migrations recorded running towards it. */
    public record Candidate(
            String host,
            String address,
            int capacity,
            int running,
            Optional<BaselineRecord> baseline,
            Optional<LinkRecord> link) {
        public Candidate {
            requireNonNull(host, "host is null");
            requireNonNull(address, "address is null");
            requireNonNull(baseline, "baseline is null");
            requireNonNull(link, "link is null");
        }

        public boolean isFull() {
            return running >= capacity;
        }

        /** Its figures in one line, e.g. "baseline 1024 MiB, 300 s old; link 940.0 Mbit/s, RTT 0.4 ms, loss 0.000 %, measured 12 s ago; 3 of 4 slots free". */
        public String figures(long nowMillis) {
            StringBuilder line = new StringBuilder();
            line.append(baseline.map(held -> String.format(
                            Locale.ROOT,
                            "baseline %d MiB, %d s old",
                            held.sizeBytes() >> 20,
                            Math.max(0, nowMillis - held.createdAtMillis()) / 1000))
                    .orElse("no baseline"));
            line.append("; ");
            line.append(link.map(measured -> String.format(
                            Locale.ROOT,
                            "link %.1f Mbit/s, RTT %.1f ms, loss %.3f %%, measured %d s ago",
                            measured.goodputBytesPerSecond() * 8 / 1e6,
                            measured.rttMicros() / 1000.0,
                            measured.lossPpm() / 1e4,
                            Math.max(0, nowMillis - measured.measuredAtMillis()) / 1000))
                    .orElse("link not measured"));
            line.append("; ")
                    .append(Math.max(0, capacity - running))
                    .append(" of ")
                    .append(capacity)
                    .append(" slots free");
            return line.toString();
        }
    }

    /**
     * The candidates in the order of the rules (the full ones last), the one chosen if any, and the
     * age in milliseconds of each kind of metadata the choice read; for another region, {@code
     * baselinesKnown} false ({@code baselinesAgeMillis} -1) and {@code summary} its leader's
     * gossiped summary ("" for this host's region).
     */
    public record Choice(
            String region,
            String vm,
            Optional<Candidate> chosen,
            List<Candidate> candidates,
            long hostsAgeMillis,
            long linksAgeMillis,
            long baselinesAgeMillis,
            long migrationsAgeMillis,
            boolean baselinesKnown,
            String summary) {
        public Choice {
            requireNonNull(region, "region is null");
            requireNonNull(summary, "summary is null");
            requireNonNull(vm, "vm is null");
            requireNonNull(chosen, "chosen is null");
            candidates = List.copyOf(candidates);
        }

        /** Why the chosen host (or why none): one sentence for the operator. */
        public String reason() {
            if (chosen.isEmpty()) {
                return candidates.isEmpty()
                        ? "region " + region + " has no other host"
                        : "every host of region " + region + " is full";
            }
            Candidate best = chosen.get();
            List<String> because = new ArrayList<>();
            if (best.baseline().isPresent()) {
                because.add("it holds a baseline of " + vm);
            }
            if (best.link().isPresent()) {
                because.add(
                        "its measured link is the fastest" + (best.baseline().isPresent() ? " of those" : ""));
            }
            if (because.isEmpty()) {
                because.add(
                        baselinesKnown
                                ? "no host holds a baseline of " + vm + " or has a measured link: the most free slots"
                                : "no host has a measured link: the most free slots");
            }
            String reason = best.host() + ": " + String.join("; ", because);
            return baselinesKnown
                    ? reason
                    : reason + " (region " + region
                            + " is not this host's: the baselines held there are not known here)";
        }
    }

    /** Thrown when no choice can be made in that region from here; {@link #status()} is an HTTP status. */
    public static final class NoChoiceException extends Exception {
        private final int status;

        public NoChoiceException(int status, String message) {
            super(message);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }

    /** Reads the region's metadata (within the bound) and ranks its hosts for the VM. */
    public static Choice choose(RegionView view, String region, String vm, long nowMillis)
            throws StaleMetadataException, NoChoiceException {
        if (!region.equals(view.region())) {
            return chooseInAnotherRegion(view, region, vm, nowMillis);
        }
        Stamped<List<HostRecord>> hosts = view.hosts();
        Stamped<List<LinkRecord>> links = view.links();
        Stamped<List<BaselineRecord>> baselines = view.baselines(vm);
        Stamped<List<MigrationRecord>> migrations = view.migrations();
        List<Candidate> ranked = rank(view.host(), hosts.value(), links.value(), baselines.value(), migrations.value());
        return new Choice(
                region,
                vm,
                firstNotFull(ranked),
                ranked,
                hosts.age(nowMillis).toMillis(),
                links.age(nowMillis).toMillis(),
                baselines.age(nowMillis).toMillis(),
                migrations.age(nowMillis).toMillis(),
                true,
                "");
    }

    /** {@link #choose} for a region other than this host's: from what gossip brought of it. */
    private static Choice chooseInAnotherRegion(RegionView view, String region, String vm, long nowMillis)
            throws StaleMetadataException, NoChoiceException {
        Stamped<List<RemoteRecord>> remotes = view.remoteRegions();
        StringJoiner known = new StringJoiner(", ");
        RemoteRecord remote = null;
        for (RemoteRecord candidate : remotes.value()) {
            if (candidate.region().equals(region)) {
                remote = candidate;
            }
            known.add(candidate.region());
        }
        if (remote == null) {
            throw new NoChoiceException(
                    404,
                    "no region " + region + ": this host is in region " + view.region() + ", and gossip knows of "
                            + (known.length() == 0 ? "no other region" : "regions " + known));
        }
        long bound = view.stalenessBound().toMillis();
        long age = remote.ageMillis(nowMillis);
        if (age > bound) {
            throw new StaleMetadataException(
                    "region " + region + "'s hosts were last confirmed by its leader " + age
                            + " ms ago, older than region.staleness-bound (" + bound
                            + " ms): gossip has not reached it since (cut off, or its leader down?)",
                    null);
        }
        List<HostRecord> hosts = new ArrayList<>();
        List<String> without = new ArrayList<>();
        for (String name : remote.hosts()) {
            remote.host(name).ifPresentOrElse(hosts::add, () -> without.add(name));
        }
        if (hosts.isEmpty()) {
            throw new NoChoiceException(
                    409,
                    "cannot choose a host in region " + region + " from region " + view.region()
                            + ": gossip brought its hosts' names ("
                            + (remote.hosts().isEmpty() ? "none" : String.join(", ", remote.hosts()))
                            + ") but not their records (addresses, certificates); is its leader a DWCP version that"
                            + " gossips them?");
        }
        Stamped<List<LinkRecord>> links = view.links();
        Stamped<List<MigrationRecord>> migrations = view.migrations();
        // the migrations towards them that this region records come from this region's hosts
        Set<String> sources = new HashSet<>();
        view.hosts().value().forEach(host -> sources.add(host.name()));
        List<Candidate> ranked = rank(view.host(), hosts, sources, links.value(), List.of(), migrations.value());
        return new Choice(
                region,
                vm,
                firstNotFull(ranked),
                ranked,
                age,
                links.age(nowMillis).toMillis(),
                -1,
                migrations.age(nowMillis).toMillis(),
                false,
                remote.summary());
    }

    private static Optional<Candidate> firstNotFull(List<Candidate> ranked) {
        return ranked.stream().filter(candidate -> !candidate.isFull()).findFirst();
    }

    /** The rules on figures already read: the candidates, best first, the full ones last. */
    public static List<Candidate> rank(
            String self,
            List<HostRecord> hosts,
            List<LinkRecord> links,
            List<BaselineRecord> baselines,
            List<MigrationRecord> migrations) {
        Set<String> registered = new HashSet<>();
        hosts.forEach(host -> registered.add(host.name()));
        return rank(self, hosts, registered, links, baselines, migrations);
    }

    /**
     * The rules, with {@code registered} the hosts whose running migrations hold a slot (the
     * candidates' own region's hosts, or this region's when choosing in another).
     */
    private static List<Candidate> rank(
            String self,
            List<HostRecord> hosts,
            Set<String> registered,
            List<LinkRecord> links,
            List<BaselineRecord> baselines,
            List<MigrationRecord> migrations) {
        List<Candidate> candidates = new ArrayList<>();
        for (HostRecord host : hosts) {
            if (host.name().equals(self)) {
                continue;
            }
            int running = (int) migrations.stream()
                    .filter(migration -> migration.state().equals("running")
                            && migration.destination().equals(host.name())
                            && registered.contains(migration.source()))
                    .count();
            Optional<BaselineRecord> baseline = baselines.stream()
                    .filter(held -> held.host().equals(host.name()))
                    .max(Comparator.comparingLong(BaselineRecord::createdAtMillis));
            Optional<LinkRecord> link = links.stream()
                    .filter(measured ->
                            measured.from().equals(self) && measured.to().equals(host.name()))
                    .findFirst();
            candidates.add(new Candidate(host.name(), host.address(), host.capacity(), running, baseline, link));
        }
        Comparator<Candidate> order = Comparator.comparing(Candidate::isFull)
                .thenComparing(candidate -> candidate.baseline().isEmpty())
                .thenComparing(candidate -> candidate.link().isEmpty())
                .thenComparing(candidate ->
                        -candidate.link().map(LinkRecord::goodputBytesPerSecond).orElse(0L))
                .thenComparing(candidate -> -candidate
                        .baseline()
                        .map(BaselineRecord::createdAtMillis)
                        .orElse(0L))
                .thenComparing(candidate -> -(candidate.capacity() - candidate.running()))
                .thenComparing(Candidate::host);
        candidates.sort(order);
        return List.copyOf(candidates);
    }
}
