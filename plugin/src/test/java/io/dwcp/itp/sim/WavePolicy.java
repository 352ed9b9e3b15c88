package io.dwcp.itp.sim;

import io.dwcp.itp.MigrationPolicy;
import io.dwcp.itp.OrderConstraint;
import io.dwcp.itp.Plan;
import io.dwcp.itp.SimulationView;
import io.dwcp.itp.SlotScheduler;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How {@code dwcp evacuate} ran a plan before it was slot-driven, kept to measure the change: in
 * waves, a wave being the next steps in plan order whose earlier VMs ended (moved, failed or
 * refused), up to the plan's concurrency per link (itp), one (serial) or all; the next wave starts
 * when the whole wave ended. No re-plans.
 */
final class WavePolicy implements MigrationPolicy {
    private final Plan plan;
    private final SlotScheduler.Mode mode;

    WavePolicy(Plan plan, SlotScheduler.Mode mode) {
        this.plan = plan;
        this.mode = mode;
    }

    @Override
    public String name() {
        return "waves " + mode;
    }

    @Override
    public List<Start> decide(SimulationView view) {
        if (!view.running().isEmpty()) {
            return List.of();
        }
        Set<String> ended = new HashSet<>();
        view.evacuation().vms().forEach(vm -> {
            if (view.ended(vm.id())) {
                ended.add(vm.id());
            }
        });
        plan.refused().forEach(refusal -> ended.add(refusal.vm().id()));
        int total = mode == SlotScheduler.Mode.SERIAL ? 1 : Integer.MAX_VALUE;
        Map<String, Integer> onLink = new HashMap<>();
        Set<String> taken = new HashSet<>();
        List<Plan.Step> wave = new ArrayList<>();
        for (Plan.Step step : plan.steps()) {
            String id = step.vm().id();
            if (ended.contains(id) || taken.contains(id)) {
                continue;
            }
            List<Plan.Step> together = step.vm()
                    .group()
                    .map(group -> plan.steps().stream()
                            .filter(s -> s.vm().group().equals(Optional.of(group)) && !ended.contains(s.vm().id()))
                            .toList())
                    .orElse(List.of(step));
            boolean ready = together.stream()
                    .allMatch(s -> view.evacuation().orders().stream()
                            .filter(order -> order.after().equals(s.vm().id()))
                            .map(OrderConstraint::before)
                            .allMatch(ended::contains));
            if (!ready) {
                continue;
            }
            Map<String, Integer> trial = new HashMap<>(onLink);
            together.forEach(s -> trial.merge(s.destination(), 1, Integer::sum));
            boolean fits = wave.size() + together.size() <= total;
            if (mode == SlotScheduler.Mode.ITP) {
                fits &= trial.entrySet().stream()
                        .allMatch(e -> e.getValue() <= plan.concurrency().getOrDefault(e.getKey(), 1));
            }
            if (!fits && !wave.isEmpty()) {
                continue;
            }
            wave.addAll(together);
            together.forEach(s -> taken.add(s.vm().id()));
            onLink.clear();
            onLink.putAll(trial);
            if (!fits) {
                break;
            }
        }
        List<Start> starts = new ArrayList<>();
        wave.forEach(step -> starts.add(new Start(step.vm().id(), step.destination())));
        return starts;
    }
}
