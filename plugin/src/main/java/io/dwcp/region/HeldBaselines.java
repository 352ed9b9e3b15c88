package io.dwcp.region;

import static java.util.Objects.requireNonNull;

import io.dwcp.region.Records.BaselineRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Which hosts of this host's region hold a baseline of which VMs, as the region's catalogue
 * records them (each host publishes its newest baseline of each VM: {@code baselines/VM/HOST}),
 * read through {@link RegionView}, so within {@code region.staleness-bound} or refused: what
 * {@code dwcp evacuate} plans with ({@code GET /v1/regions/REGION/baselines?vm=A&vm=B}). Another
 * region's baselines are not gossiped: asked for one, it refuses (409).
 */
public final class HeldBaselines {
    /** The most VMs one question may name (the control socket's request line is at most 4 KiB anyway). */
    public static final int MAX_VMS = 256;

    private HeldBaselines() {}

    /** One baseline: the VM, the host holding it, its size, when it was taken and how old it is. */
    public record Held(String vm, String host, long sizeBytes, long createdAtMillis, long ageMillis) {
        public Held {
            requireNonNull(vm, "vm is null");
            requireNonNull(host, "host is null");
        }
    }

    /**
     * The answer: the region and this host, the baselines held of the VMs asked for (in the order
     * they were asked, then by host), how old the oldest read behind it is and the bound.
     */
    public record Answer(
            String region, String host, List<Held> baselines, long baselinesAgeMillis, long stalenessBoundMillis) {
        public Answer {
            requireNonNull(region, "region is null");
            requireNonNull(host, "host is null");
            baselines = List.copyOf(baselines);
        }
    }

    /** Reads the catalogue's baselines of {@code vms} (each once, at most {@link #MAX_VMS}) in {@code region}. */
    public static Answer read(RegionView view, String region, List<String> vms, long nowMillis)
            throws StaleMetadataException, DestinationChooser.NoChoiceException {
        if (!region.equals(view.region())) {
            throw new DestinationChooser.NoChoiceException(
                    409,
                    "the baselines held in region " + region + " are not known here: this host is in region "
                            + view.region() + ", and gossip carries no baselines");
        }
        if (vms.isEmpty() || vms.size() > MAX_VMS) {
            throw new IllegalArgumentException("give 1 to " + MAX_VMS + " VMs: " + vms.size());
        }
        List<Held> held = new ArrayList<>();
        long age = 0;
        for (String vm : new LinkedHashSet<>(vms)) {
            Stamped<List<BaselineRecord>> read = view.baselines(vm);
            age = Math.max(age, read.age(nowMillis).toMillis());
            read.value().stream()
                    .sorted(Comparator.comparing(BaselineRecord::host))
                    .forEach(record -> held.add(new Held(
                            vm,
                            record.host(),
                            record.sizeBytes(),
                            record.createdAtMillis(),
                            Math.max(0, nowMillis - record.createdAtMillis()))));
        }
        return new Answer(
                view.region(), view.host(), held, age, view.stalenessBound().toMillis());
    }
}
