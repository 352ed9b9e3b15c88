package io.dwcp.itp;

import static java.util.Objects.requireNonNull;

import io.dwcp.pba.EwmaPredictor;
import io.dwcp.pba.GoodputPredictor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Set;

/**
 * Carries out a {@link Plan}, and re-plans when the links change. At every decision the {@link
 * SlotScheduler} ({@link SlotScheduler.Mode#ITP}) takes the steps in plan order; a waiting VM
 * starts when:
 * <ul>
 * <li>every VM it must come after has moved (when one was not moved, failed or refused by the
 * plan, it is left on the source and never starts);</li>
 * <li>its link runs fewer than the plan's concurrency {@code k_d} (counting those just started);</li>
 * <li>its destination still has room (free RAM, a slot);</li>
 * <li>with it, every migration on its link still gets a share of at least {@link Planner#MARGIN}
 * times its dirty rate, or, for a VM that dirties faster than half of what it could get alone, all
 * of that ({@code alone_d = min(p_d, C'_d)}: such a VM runs alone):
 * {@code min(p_d, C'_d / (n_d + 1)) >= min(alone_d, MARGIN x max dirty)} over the link's running VMs
 * and this one, with {@code C'_d = min(C_d, U C_d / sum C)} the link's part of the uplink, from the
 * PBA estimates smoothed over {@link #SMOOTHING} (as the planner sizes {@code k_d});</li>
 * <li>for a group, all its waiting members pass together (they start together).</li>
 * </ul>
 * A step that cannot start blocks the later steps on its link (so a heavy VM is not starved by
 * light ones that keep the link full); steps waiting for an order constraint do not. When nothing
 * runs at all, the first startable step starts whatever its share (the evacuation must go on).
 *
 * <p>Re-planning: when a smoothed link or uplink estimate differs from the one the plan was made
 * with by more than {@code replanThreshold} (relative), the waiting VMs are planned again with the
 * smoothed estimates and the destinations' current room.
 */
public final class PlanPolicy implements MigrationPolicy {
    /**
     * Admission and re-plans use the PBA estimates smoothed over this: a migration lasts minutes,
     * while a 10 s prediction of a cellular-like path swings by half from one second to the next.
     */
    public static final Duration SMOOTHING = Duration.ofSeconds(60);

    private static final SlotScheduler SCHEDULER = new SlotScheduler(SlotScheduler.Mode.ITP, OptionalInt.empty());

    private final Planner planner;
    private final double replanThreshold;
    private final Map<String, GoodputPredictor> smoothedLinks = new HashMap<>();
    private final GoodputPredictor smoothedUplink = new EwmaPredictor(SMOOTHING);
    private Plan plan;
    private int replans;

    public PlanPolicy(Planner planner, Plan plan, double replanThreshold) {
        this.planner = requireNonNull(planner, "planner is null");
        this.plan = requireNonNull(plan, "plan is null");
        if (!(replanThreshold > 0)) {
            throw new IllegalArgumentException("replan threshold must be > 0: " + replanThreshold);
        }
        this.replanThreshold = replanThreshold;
    }

    @Override
    public String name() {
        return "planner";
    }

    public int replans() {
        return replans;
    }

    public Plan plan() {
        return plan;
    }

    @Override
    public List<Start> decide(SimulationView view) {
        smooth(view);
        if (linksMoved()) {
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
        Map<String, Double> parts = parts(evacuation);
        Map<String, Long> memory = new HashMap<>();
        Map<String, Integer> slots = new HashMap<>();
        // the scheduler gives slots and order; this gate adds room and the share each migration needs
        SlotScheduler.Gate gate = (unit, idle) -> {
            Map<String, Integer> trialLink = new HashMap<>(onLink);
            Map<String, Double> trialDirty = new HashMap<>(maxDirty);
            Map<String, Long> trialMemory = new HashMap<>(memory);
            Map<String, Integer> trialSlots = new HashMap<>(slots);
            for (Plan.Step s : unit) {
                String destination = s.destination();
                long free = trialMemory.computeIfAbsent(destination, view::freeMemoryBytes);
                int freeSlots = trialSlots.computeIfAbsent(destination, view::freeSlots);
                if (free < s.vm().memoryBytes() || freeSlots < 1) {
                    return false;
                }
                trialMemory.put(destination, free - s.vm().memoryBytes());
                trialSlots.put(destination, freeSlots - 1);
                int n = trialLink.getOrDefault(destination, 0) + 1;
                Link link = evacuation.link(destination);
                double alone = Math.min(link.perMigrationBytesPerSecond(), parts.get(destination));
                double need = Math.min(
                        alone,
                        Planner.MARGIN
                                * Math.max(s.vm().dirtyBytesPerSecond(), trialDirty.getOrDefault(destination, 0.0)));
                double share = Math.min(link.perMigrationBytesPerSecond(), parts.get(destination) / n);
                if (!idle && share < need) {
                    return false;
                }
                trialLink.put(destination, n);
                trialDirty.merge(destination, s.vm().dirtyBytesPerSecond(), Math::max);
            }
            onLink.putAll(trialLink);
            maxDirty.putAll(trialDirty);
            memory.putAll(trialMemory);
            slots.putAll(trialSlots);
            return true;
        };
        SlotScheduler.Decision decision = SCHEDULER.decide(plan, evacuation.orders(), state(view), gate);
        List<Start> starts = new ArrayList<>();
        decision.starts().forEach(step -> starts.add(new Start(step.vm().id(), step.destination())));
        return starts;
    }

    /** Moved: converged; not moved: failed; running: the view's. */
    static SlotScheduler.State state(SimulationView view) {
        return state(view, Map.of());
    }

    /** Moved: converged; not moved: {@code given} (VM to reason) and failed; running: the view's. */
    static SlotScheduler.State state(SimulationView view, Map<String, String> given) {
        Set<String> moved = new HashSet<>();
        Map<String, String> notMoved = new HashMap<>(given);
        for (Vm vm : view.evacuation().vms()) {
            if (view.converged(vm.id())) {
                moved.add(vm.id());
            } else if (view.ended(vm.id())) {
                notMoved.put(vm.id(), "failed");
            }
        }
        return new SlotScheduler.State(moved, notMoved, view.running());
    }

    /** Per link, its part of the uplink by the smoothed estimates: {@code C'_d = min(C_d, U C_d / sum C)}. */
    private Map<String, Double> parts(Evacuation evacuation) {
        Map<String, Double> estimates = new HashMap<>();
        double total = 0;
        for (Destination destination : evacuation.destinations()) {
            double estimate = smoothed(smoothedLinks.get(destination.id()));
            estimates.put(destination.id(), estimate);
            total += estimate;
        }
        double uplink = smoothed(smoothedUplink);
        Map<String, Double> parts = new HashMap<>();
        for (Map.Entry<String, Double> estimate : estimates.entrySet()) {
            parts.put(
                    estimate.getKey(),
                    total > 0 ? Math.min(estimate.getValue(), uplink * estimate.getValue() / total) : 0);
        }
        return parts;
    }

    private void smooth(SimulationView view) {
        long nanos = Math.round(view.time() * 1e9);
        for (Destination destination : view.evacuation().destinations()) {
            smoothedLinks
                    .computeIfAbsent(destination.id(), id -> new EwmaPredictor(SMOOTHING))
                    .observe(nanos, 8 * view.estimatedLinkBytesPerSecond(destination.id()));
        }
        smoothedUplink.observe(nanos, 8 * view.estimatedUplinkBytesPerSecond());
    }

    private boolean linksMoved() {
        if (replanThreshold == Double.POSITIVE_INFINITY) {
            return false;
        }
        for (Map.Entry<String, Double> planned : plan.linkBytesPerSecond().entrySet()) {
            GoodputPredictor smoothed = smoothedLinks.get(planned.getKey());
            if (smoothed != null && moved(planned.getValue(), smoothed(smoothed))) {
                return true;
            }
        }
        return moved(plan.uplinkBytesPerSecond(), smoothed(smoothedUplink));
    }

    private static double smoothed(GoodputPredictor predictor) {
        return predictor.predict(Duration.ZERO).bitsPerSecond() / 8;
    }

    private boolean moved(double planned, double now) {
        return Math.abs(now - planned) > replanThreshold * Math.max(planned, 1);
    }

    private void replan(SimulationView view) {
        Evacuation evacuation = view.evacuation();
        Map<String, Double> estimates = new HashMap<>();
        List<Destination> destinations = new ArrayList<>();
        for (Destination destination : evacuation.destinations()) {
            estimates.put(destination.id(), smoothed(smoothedLinks.get(destination.id())));
            destinations.add(new Destination(
                    destination.id(), view.freeMemoryBytes(destination.id()), view.freeSlots(destination.id())));
        }
        Evacuation remaining = evacuation
                .remaining(view.waiting(), destinations)
                .withLinkRates(estimates, Math.max(smoothed(smoothedUplink), 1));
        plan = planner.planWithoutTimeline(remaining);
        replans++;
    }
}
