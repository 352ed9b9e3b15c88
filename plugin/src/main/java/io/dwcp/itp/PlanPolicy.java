package io.dwcp.itp;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.util.Objects.requireNonNull;

/**
 * Carries out a {@link Plan}, and re-plans when the links change. At every decision, steps are
 * taken in plan order; a waiting VM starts when:
 * <ul>
 * <li>every VM it must come after has ended (or is refused by the plan: it will not move);</li>
 * <li>its destination still has room (free RAM, a slot);</li>
 * <li>its link runs fewer than the plan's concurrency {@code k_d} (counting those just started);</li>
 * <li>with it, every migration on its link still gets a share of at least {@link Planner#MARGIN}
 * times its dirty rate: {@code min(p_d, C_d / (n_d + 1), U / (N + 1)) >= MARGIN x max dirty} over
 * the link's running VMs and this one, with {@code C_d} and {@code U} the current PBA estimates;</li>
 * <li>for a group, all its waiting members pass together (they start together).</li>
 * </ul>
 * A step that cannot start blocks the later steps on its link (so a heavy VM is not starved by
 * light ones that keep the link full); steps waiting for an order constraint do not. When nothing
 * runs at all, the first startable step starts whatever its share (the evacuation must go on).
 *
 * <p>Re-planning: when a link or uplink estimate differs from the one the plan was made with by
 * more than {@code replanThreshold} (relative), the waiting VMs are planned again with the current
 * estimates and the destinations' current room.
 */
public final class PlanPolicy
        implements MigrationPolicy
{
    private final Planner planner;
    private final double replanThreshold;
    private Plan plan;
    private int replans;

    public PlanPolicy(Planner planner, Plan plan, double replanThreshold)
    {
        this.planner = requireNonNull(planner, "planner is null");
        this.plan = requireNonNull(plan, "plan is null");
        if (!(replanThreshold > 0)) {
            throw new IllegalArgumentException("replan threshold must be > 0: " + replanThreshold);
        }
        this.replanThreshold = replanThreshold;
    }

    @Override
    public String name()
    {
        return "planner";
    }

    public int replans()
    {
        return replans;
    }

    public Plan plan()
    {
        return plan;
    }

    @Override
    public List<Start> decide(SimulationView view)
    {
        if (linksMoved(view)) {
            replan(view);
        }
        Evacuation evacuation = view.evacuation();
        Map<String, Vm> vms = new HashMap<>();
        evacuation.vms().forEach(vm -> vms.put(vm.id(), vm));
        Map<String, Integer> onLink = new HashMap<>();
        Map<String, Double> maxDirty = new HashMap<>();
        view.running().forEach((id, destination) -> {
            onLink.merge(destination, 1, Integer::sum);
            maxDirty.merge(destination, vms.get(id).dirtyBytesPerSecond(), Math::max);
        });
        int total = view.running().size();
        Set<String> waiting = new HashSet<>();
        view.waiting().forEach(vm -> waiting.add(vm.id()));
        Map<String, List<Plan.Step>> groups = new HashMap<>();
        for (Plan.Step step : plan.steps()) {
            if (waiting.contains(step.vm().id())) {
                step.vm().group().ifPresent(group -> groups.computeIfAbsent(group, g -> new ArrayList<>()).add(step));
            }
        }
        Set<String> blocked = new HashSet<>();
        Set<String> considered = new HashSet<>();
        List<Start> starts = new ArrayList<>();
        for (Plan.Step step : plan.steps()) {
            String id = step.vm().id();
            if (!waiting.contains(id) || considered.contains(id) || blocked.contains(step.destination())) {
                continue;
            }
            List<Plan.Step> together = step.vm().group().map(groups::get).orElse(List.of(step));
            together.forEach(s -> considered.add(s.vm().id()));
            if (!together.stream().allMatch(s -> predecessorsDone(s.vm().id(), evacuation, view))) {
                continue;
            }
            boolean forced = total == 0 && starts.isEmpty();
            Map<String, Integer> trialLink = new HashMap<>(onLink);
            Map<String, Double> trialDirty = new HashMap<>(maxDirty);
            Map<String, Long> memory = new HashMap<>();
            Map<String, Integer> slots = new HashMap<>();
            int trialTotal = total;
            boolean fits = true;
            for (Plan.Step s : together) {
                String destination = s.destination();
                long free = memory.computeIfAbsent(destination, view::freeMemoryBytes);
                int freeSlots = slots.computeIfAbsent(destination, view::freeSlots);
                if (free < s.vm().memoryBytes() || freeSlots < 1) {
                    fits = false;
                    break;
                }
                memory.put(destination, free - s.vm().memoryBytes());
                slots.put(destination, freeSlots - 1);
                int n = trialLink.getOrDefault(destination, 0) + 1;
                double need = Planner.MARGIN * Math.max(s.vm().dirtyBytesPerSecond(), trialDirty.getOrDefault(destination, 0.0));
                Link link = evacuation.link(destination);
                double share = Math.min(link.perMigrationBytesPerSecond(),
                        Math.min(view.estimatedLinkBytesPerSecond(destination) / n, view.estimatedUplinkBytesPerSecond() / (trialTotal + 1)));
                int limit = plan.concurrency().getOrDefault(destination, 1);
                if (!forced && (n > Math.max(limit, together.size()) || share < need)) {
                    fits = false;
                    break;
                }
                trialLink.put(destination, n);
                trialDirty.merge(destination, s.vm().dirtyBytesPerSecond(), Math::max);
                trialTotal++;
            }
            if (!fits) {
                together.forEach(s -> blocked.add(s.destination()));
                continue;
            }
            for (Plan.Step s : together) {
                starts.add(new Start(s.vm().id(), s.destination()));
            }
            onLink.clear();
            onLink.putAll(trialLink);
            maxDirty.clear();
            maxDirty.putAll(trialDirty);
            total = trialTotal;
        }
        return starts;
    }

    /** Every VM this one comes after has ended, or is refused by the plan (it will not move: nothing to wait for). */
    private boolean predecessorsDone(String vm, Evacuation evacuation, SimulationView view)
    {
        for (OrderConstraint order : evacuation.orders()) {
            if (order.after().equals(vm) && !view.ended(order.before()) && !refused(order.before())) {
                return false;
            }
        }
        return true;
    }

    private boolean refused(String vm)
    {
        for (Plan.Refusal refusal : plan.refused()) {
            if (refusal.vm().id().equals(vm)) {
                return true;
            }
        }
        return false;
    }

    private boolean linksMoved(SimulationView view)
    {
        if (replanThreshold == Double.POSITIVE_INFINITY) {
            return false;
        }
        for (Map.Entry<String, Double> planned : plan.linkBytesPerSecond().entrySet()) {
            if (moved(planned.getValue(), view.estimatedLinkBytesPerSecond(planned.getKey()))) {
                return true;
            }
        }
        return moved(plan.uplinkBytesPerSecond(), view.estimatedUplinkBytesPerSecond());
    }

    private boolean moved(double planned, double now)
    {
        return Math.abs(now - planned) > replanThreshold * Math.max(planned, 1);
    }

    private void replan(SimulationView view)
    {
        Evacuation evacuation = view.evacuation();
        Map<String, Double> estimates = new HashMap<>();
        List<Destination> destinations = new ArrayList<>();
        for (Destination destination : evacuation.destinations()) {
            estimates.put(destination.id(), view.estimatedLinkBytesPerSecond(destination.id()));
            destinations.add(new Destination(destination.id(), view.freeMemoryBytes(destination.id()), view.freeSlots(destination.id())));
        }
        Evacuation remaining = evacuation.remaining(view.waiting(), destinations)
                .withLinkRates(estimates, Math.max(view.estimatedUplinkBytesPerSecond(), 1));
        plan = planner.planWithoutTimeline(remaining);
        replans++;
    }
}
