package io.dwcp.itp;

import static java.util.Objects.requireNonNull;

import java.util.Optional;

/**
 * A VM to move: its RAM, how fast the guest dirties it, an optional baseline (an earlier copy of
 * its memory held by one destination, of which {@code share} is still identical, so the first
 * round sends only {@code (1 - share) x memory} there) and an optional dependency group (VMs of a
 * group move together: same destination, started together).
 */
public record Vm(
        String id, long memoryBytes, double dirtyBytesPerSecond, Optional<Baseline> baseline, Optional<String> group) {
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
        requireNonNull(baseline, "baseline is null");
        requireNonNull(group, "group is null");
        if (memoryBytes <= 0) {
            throw new IllegalArgumentException(id + ": memory must be > 0: " + memoryBytes);
        }
        if (!(dirtyBytesPerSecond >= 0) || Double.isInfinite(dirtyBytesPerSecond)) {
            throw new IllegalArgumentException(id + ": dirty rate must be finite and >= 0: " + dirtyBytesPerSecond);
        }
    }

    public static Vm of(String id, long memoryBytes, double dirtyBytesPerSecond) {
        return new Vm(id, memoryBytes, dirtyBytesPerSecond, Optional.empty(), Optional.empty());
    }

    public Vm withBaseline(String destination, double share) {
        return new Vm(id, memoryBytes, dirtyBytesPerSecond, Optional.of(new Baseline(destination, share)), group);
    }

    public Vm inGroup(String name) {
        return new Vm(id, memoryBytes, dirtyBytesPerSecond, baseline, Optional.of(name));
    }

    /** Bytes of the first round towards {@code destination}: all of memory, less a baseline held there. */
    public double firstRoundBytes(String destination) {
        double reused = baseline.filter(b -> b.destination().equals(destination))
                .map(Baseline::share)
                .orElse(0.0);
        return memoryBytes * (1 - reused);
    }
}
