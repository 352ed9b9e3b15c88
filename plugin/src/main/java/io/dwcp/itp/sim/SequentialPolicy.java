package io.dwcp.itp.sim;

import io.dwcp.itp.MigrationPolicy;
import io.dwcp.itp.SimulationView;
import io.dwcp.itp.Vm;
import java.util.List;
import java.util.Map;

/** Naive: one migration at a time, in listed order, to {@link NaivePlacement#roundRobin} destinations. */
public final class SequentialPolicy implements MigrationPolicy {
    private Map<String, String> placement;

    @Override
    public List<Start> decide(SimulationView view) {
        if (placement == null) {
            placement = NaivePlacement.roundRobin(view.evacuation());
        }
        if (!view.running().isEmpty()) {
            return List.of();
        }
        for (Vm vm : view.waiting()) {
            String destination = placement.get(vm.id());
            if (destination != null
                    && view.freeMemoryBytes(destination) >= vm.memoryBytes()
                    && view.freeSlots(destination) > 0) {
                return List.of(new Start(vm.id(), destination));
            }
        }
        return List.of();
    }

    @Override
    public String name() {
        return "one at a time";
    }
}
