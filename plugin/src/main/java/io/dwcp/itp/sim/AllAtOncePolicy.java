package io.dwcp.itp.sim;

import io.dwcp.itp.MigrationPolicy;
import io.dwcp.itp.SimulationView;
import io.dwcp.itp.Vm;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Naive: every migration at once, at the start, to {@link NaivePlacement#roundRobin} destinations. */
public final class AllAtOncePolicy implements MigrationPolicy {
    private boolean started;

    @Override
    public List<Start> decide(SimulationView view) {
        if (started) {
            return List.of();
        }
        started = true;
        Map<String, String> placement = NaivePlacement.roundRobin(view.evacuation());
        List<Start> starts = new ArrayList<>();
        for (Vm vm : view.waiting()) {
            String destination = placement.get(vm.id());
            if (destination != null) {
                starts.add(new Start(vm.id(), destination));
            }
        }
        return starts;
    }

    @Override
    public String name() {
        return "all at once";
    }
}
