package io.dwcp.itp.sim;

import io.dwcp.itp.Destination;
import io.dwcp.itp.Evacuation;
import io.dwcp.itp.Vm;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where an operator's script sends each VM: destinations in turn (round robin), in listed order,
 * skipping one without room (free RAM, a slot). Blind to links, baselines, groups and order.
 * A VM no destination has room for is not in the map.
 */
public final class NaivePlacement {
    private NaivePlacement() {}

    public static Map<String, String> roundRobin(Evacuation evacuation) {
        List<Destination> destinations = evacuation.destinations();
        Map<String, Long> memory = new HashMap<>();
        Map<String, Integer> slots = new HashMap<>();
        destinations.forEach(d -> {
            memory.put(d.id(), d.freeMemoryBytes());
            slots.put(d.id(), d.slots());
        });
        Map<String, String> placement = new LinkedHashMap<>();
        int next = 0;
        for (Vm vm : evacuation.vms()) {
            for (int tried = 0; tried < destinations.size(); tried++) {
                String id =
                        destinations.get((next + tried) % destinations.size()).id();
                if (memory.get(id) >= vm.memoryBytes() && slots.get(id) > 0) {
                    placement.put(vm.id(), id);
                    memory.merge(id, -vm.memoryBytes(), Long::sum);
                    slots.merge(id, -1, Integer::sum);
                    next = (next + tried + 1) % destinations.size();
                    break;
                }
            }
        }
        return placement;
    }
}
