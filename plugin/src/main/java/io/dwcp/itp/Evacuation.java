package io.dwcp.itp;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Everything the planner and the simulator know about one evacuation: the VMs (in the operator's
 * listed order), the destinations with their links, the uplink of the evacuated host (shared by
 * all migrations), order constraints (acyclic) and the downtime limit of each migration.
 */
public record Evacuation(
        List<Vm> vms,
        List<Destination> destinations,
        Map<String, Link> links,
        double uplinkBytesPerSecond,
        List<OrderConstraint> orders,
        Duration downtimeLimit) {
    public Evacuation {
        vms = List.copyOf(vms);
        destinations = List.copyOf(destinations);
        links = Map.copyOf(links);
        orders = List.copyOf(orders);
        requireNonNull(downtimeLimit, "downtimeLimit is null");
        if (!(uplinkBytesPerSecond > 0) || downtimeLimit.isNegative() || downtimeLimit.isZero()) {
            throw new IllegalArgumentException(
                    "need uplink > 0 and downtime limit > 0: " + uplinkBytesPerSecond + ", " + downtimeLimit);
        }
        Set<String> ids = new HashSet<>();
        for (Vm vm : vms) {
            if (!ids.add(vm.id())) {
                throw new IllegalArgumentException("VM " + vm.id() + " is listed twice");
            }
        }
        Set<String> hosts = new HashSet<>();
        for (Destination destination : destinations) {
            if (!hosts.add(destination.id())) {
                throw new IllegalArgumentException("destination " + destination.id() + " is listed twice");
            }
            Link link = links.get(destination.id());
            if (link == null || !link.destination().equals(destination.id())) {
                throw new IllegalArgumentException("destination " + destination.id() + " has no link");
            }
        }
        for (OrderConstraint order : orders) {
            if (!ids.contains(order.before()) || !ids.contains(order.after())) {
                throw new IllegalArgumentException("order " + order + " names a VM that is not evacuated");
            }
        }
        levels(vms, orders);
    }

    public Vm vm(String id) {
        for (Vm vm : vms) {
            if (vm.id().equals(id)) {
                return vm;
            }
        }
        throw new IllegalArgumentException("no VM " + id);
    }

    public Link link(String destination) {
        Link link = links.get(destination);
        if (link == null) {
            throw new IllegalArgumentException("no link to " + destination);
        }
        return link;
    }

    public double downtimeLimitSeconds() {
        return downtimeLimit.toNanos() / 1e9;
    }

    /** The VMs of each group, in listed order. */
    public Map<String, List<Vm>> groups() {
        Map<String, List<Vm>> groups = new LinkedHashMap<>();
        for (Vm vm : vms) {
            vm.group()
                    .ifPresent(group -> groups.computeIfAbsent(group, g -> new ArrayList<>())
                            .add(vm));
        }
        return groups;
    }

    /** Per VM, the length of the longest chain of order constraints that ends at it (0: none). */
    public Map<String, Integer> levels() {
        return levels(vms, orders);
    }

    private static Map<String, Integer> levels(List<Vm> vms, List<OrderConstraint> orders) {
        Map<String, List<String>> before = new HashMap<>();
        for (OrderConstraint order : orders) {
            before.computeIfAbsent(order.after(), k -> new ArrayList<>()).add(order.before());
        }
        Map<String, Integer> levels = new HashMap<>();
        for (Vm vm : vms) {
            level(vm.id(), before, levels, new HashSet<>());
        }
        return levels;
    }

    private static int level(
            String id, Map<String, List<String>> before, Map<String, Integer> levels, Set<String> path) {
        Integer known = levels.get(id);
        if (known != null) {
            return known;
        }
        if (!path.add(id)) {
            throw new IllegalArgumentException("order constraints form a cycle through " + id);
        }
        int level = 0;
        for (String earlier : before.getOrDefault(id, List.of())) {
            level = Math.max(level, level(earlier, before, levels, path) + 1);
        }
        path.remove(id);
        levels.put(id, level);
        return level;
    }

    /** The same evacuation with other link rates (e.g. PBA's estimates). */
    public Evacuation withLinkRates(Map<String, Double> bytesPerSecond, double uplink) {
        Map<String, Link> updated = new HashMap<>();
        links.forEach((id, link) ->
                updated.put(id, link.withBytesPerSecond(bytesPerSecond.getOrDefault(id, link.bytesPerSecond()))));
        return new Evacuation(vms, destinations, updated, uplink, orders, downtimeLimit);
    }

    /** What is left: only {@code remaining} VMs (constraints among them kept), destinations as given. */
    public Evacuation remaining(List<Vm> remaining, List<Destination> freeDestinations) {
        Set<String> ids = new HashSet<>();
        remaining.forEach(vm -> ids.add(vm.id()));
        List<OrderConstraint> kept = orders.stream()
                .filter(o -> ids.contains(o.before()) && ids.contains(o.after()))
                .toList();
        return new Evacuation(remaining, freeDestinations, links, uplinkBytesPerSecond, kept, downtimeLimit);
    }
}
