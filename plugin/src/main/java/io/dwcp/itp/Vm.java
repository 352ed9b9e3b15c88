package io.dwcp.itp;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A VM to move: its RAM, how fast the guest dirties it, the baselines held of it (an earlier copy
 * of its memory held by a destination, of which {@code share} is still identical, so the first
 * round sends only {@code (1 - share) x memory} there; at most one per destination) and an
 * optional dependency group (VMs of a group move together: same destination, started together).
 */
public record Vm(
        String id, long memoryBytes, double dirtyBytesPerSecond, List<Baseline> baselines, Optional<String> group) {
    /** {@code share} (0..1) of the VM's memory is already held at {@code destination}. */
    public record Baseline(String destination, double share) {
        public Baseline {
            requireNonNull(destination, "destination is null");
            if (!(share >= 0 && share <= 1)) {
                throw new IllegalArgumentException("baseline share must be in [0, 1]: " + share);
            }
        }
    }

    public Vm {
        requireNonNull(id, "id is null");
        baselines = List.copyOf(baselines);
        requireNonNull(group, "group is null");
        if (memoryBytes <= 0) {
            throw new IllegalArgumentException(id + ": memory must be > 0: " + memoryBytes);
        }
        if (!(dirtyBytesPerSecond >= 0) || Double.isInfinite(dirtyBytesPerSecond)) {
            throw new IllegalArgumentException(id + ": dirty rate must be finite and >= 0: " + dirtyBytesPerSecond);
        }
        if (baselines.stream().map(Baseline::destination).distinct().count() != baselines.size()) {
            throw new IllegalArgumentException(id + ": at most one baseline per destination: " + baselines);
        }
    }

    public static Vm of(String id, long memoryBytes, double dirtyBytesPerSecond) {
        return new Vm(id, memoryBytes, dirtyBytesPerSecond, List.of(), Optional.empty());
    }

    /** The same VM with a baseline at {@code destination} (replacing one held there before). */
    public Vm withBaseline(String destination, double share) {
        List<Baseline> held = new ArrayList<>();
        baselines.stream().filter(b -> !b.destination().equals(destination)).forEach(held::add);
        held.add(new Baseline(destination, share));
        return new Vm(id, memoryBytes, dirtyBytesPerSecond, held, group);
    }

    public Vm inGroup(String name) {
        return new Vm(id, memoryBytes, dirtyBytesPerSecond, baselines, Optional.of(name));
    }

    /** The baseline held at {@code destination}, if any. */
    public Optional<Baseline> baseline(String destination) {
        return baselines.stream()
                .filter(b -> b.destination().equals(destination))
                .findFirst();
    }

    /** Bytes of the first round towards {@code destination}: all of memory, less a baseline held there. */
    public double firstRoundBytes(String destination) {
        double reused = baseline(destination).map(Baseline::share).orElse(0.0);
        return memoryBytes * (1 - reused);
    }
}
