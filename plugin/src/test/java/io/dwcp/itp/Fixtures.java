package io.dwcp.itp;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Small evacuations built by hand. */
final class Fixtures {
    static final long GIB = 1L << 30;

    private Fixtures() {}

    /** {@code hosts} destinations (h1..), each with room for 100 GiB and 100 VMs and a link of {@code rate} B/s, p = {@code perMigration}. */
    static Evacuation evacuation(
            List<Vm> vms, int hosts, double rate, double perMigration, double uplink, List<OrderConstraint> orders) {
        List<Destination> destinations = new ArrayList<>();
        Map<String, Link> links = new HashMap<>();
        for (int h = 1; h <= hosts; h++) {
            destinations.add(new Destination("h" + h, 100 * GIB, 100));
            links.put("h" + h, new Link("h" + h, rate, Duration.ofMillis(50), perMigration));
        }
        return new Evacuation(vms, destinations, links, uplink, orders, Duration.ofMillis(300));
    }

    /** A capacity of {@code before} B/s on every link until {@code at} seconds, then {@code after}. */
    static Capacity step(double before, double at, double after, double uplink) {
        return new Capacity() {
            @Override
            public double linkBytesPerSecond(String destination, double seconds) {
                return seconds < at ? before : after;
            }

            @Override
            public double uplinkBytesPerSecond(double seconds) {
                return uplink;
            }

            @Override
            public double nextChange(double seconds) {
                return seconds < at ? at : Double.POSITIVE_INFINITY;
            }
        };
    }

    /** Whenever nothing runs, starts every waiting VM there is room for, to the destinations given. */
    static MigrationPolicy fixed(Map<String, String> destinations) {
        return new MigrationPolicy() {
            @Override
            public List<Start> decide(SimulationView view) {
                if (!view.running().isEmpty()) {
                    return List.of();
                }
                Map<String, Long> memory = new HashMap<>();
                Map<String, Integer> slots = new HashMap<>();
                List<Start> starts = new ArrayList<>();
                for (Vm vm : view.waiting()) {
                    String destination = destinations.get(vm.id());
                    if (destination == null) {
                        continue;
                    }
                    long free = memory.computeIfAbsent(destination, view::freeMemoryBytes);
                    int slot = slots.computeIfAbsent(destination, view::freeSlots);
                    if (free >= vm.memoryBytes() && slot > 0) {
                        memory.put(destination, free - vm.memoryBytes());
                        slots.put(destination, slot - 1);
                        starts.add(new Start(vm.id(), destination));
                    }
                }
                return starts;
            }

            @Override
            public String name() {
                return "fixed";
            }
        };
    }
}
