package io.dwcp.itp;

import static java.util.Objects.requireNonNull;

import io.dwcp.pba.EwmaPredictor;
import io.dwcp.pba.GoodputPredictor;
import io.dwcp.pba.Prediction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code dwcp evacuate} does, in the simulator: the plan's destinations and order, started by
 * the {@link SlotScheduler} (its mode: itp, serial or all-at-once, and {@code --max-concurrent}),
 * with no admission rule beyond the slots; at each slot release (a migration ended) the links'
 * predicted goodput (PBA's estimate, smoothed by an {@link EwmaPredictor} over {@link #SMOOTHING}
 * as the command smooths what it observes) is compared with the plan's, and when one moved by
 * more than the threshold the waiting VMs are planned again (running ones are not touched).
 * Single-threaded, as every policy.
 */
public final class SlotPolicy implements MigrationPolicy {
    /** As the command: an EWMA over 60 s per link. */
    public static final Duration SMOOTHING = Duration.ofSeconds(60);

    private final Planner planner;
    private final SlotScheduler scheduler;
    private final double replanThreshold;
    private final double replanGain;
    private final String name;
    private final Map<String, GoodputPredictor> predictors = new HashMap<>();
    private final Map<String, String> given = new LinkedHashMap<>();
    private Set<String> runningBefore = Set.of();
    private Plan plan;
    private int replans;

    /** @param replanThreshold relative; {@code +inf}: never re-plan */
    public SlotPolicy(Planner planner, Plan plan, SlotScheduler scheduler, double replanThreshold, String name) {
        this(planner, plan, scheduler, replanThreshold, SlotScheduler.REPLAN_GAIN, name);
    }

    /**
     * @param replanThreshold relative; {@code +inf}: never re-plan
     * @param replanGain what a re-plan must gain to be taken ({@link Planner#replan}); below 0: every one
     */
    public SlotPolicy(
            Planner planner,
            Plan plan,
            SlotScheduler scheduler,
            double replanThreshold,
            double replanGain,
            String name) {
        this.replanGain = replanGain;
        this.planner = requireNonNull(planner, "planner is null");
        this.plan = requireNonNull(plan, "plan is null");
        this.scheduler = requireNonNull(scheduler, "scheduler is null");
        this.name = requireNonNull(name, "name is null");
        if (!(replanThreshold > 0)) {
            throw new IllegalArgumentException("replan threshold must be > 0: " + replanThreshold);
        }
        this.replanThreshold = replanThreshold;
        plan.refused().forEach(refusal -> given.put(refusal.vm().id(), refusal.reason()));
    }

    @Override
    public String name() {
        return name;
    }

    public int replans() {
        return replans;
    }

    @Override
    public List<Start> decide(SimulationView view) {
        Evacuation evacuation = view.evacuation();
        long nanos = Math.round(view.time() * 1e9);
        for (Destination destination : evacuation.destinations()) {
            predictors
                    .computeIfAbsent(destination.id(), id -> new EwmaPredictor(SMOOTHING))
                    .observe(nanos, 8 * view.estimatedLinkBytesPerSecond(destination.id()));
        }
        boolean released = !view.running().keySet().containsAll(runningBefore);
        SlotScheduler.State state = state(view);
        if (released && replanThreshold != Double.POSITIVE_INFINITY) {
            Map<String, Double> predicted = new HashMap<>();
            predictors.forEach((link, predictor) -> {
                Prediction prediction = predictor.predict(SMOOTHING);
                if (prediction.known()) {
                    predicted.put(link, prediction.bitsPerSecond() / 8);
                }
            });
            List<Vm> waiting = state.waiting(evacuation);
            if (!waiting.isEmpty()
                    && !SlotScheduler.movedLinks(plan, predicted, replanThreshold)
                            .isEmpty()) {
                List<Destination> room = new ArrayList<>();
                for (Destination destination : evacuation.destinations()) {
                    room.add(new Destination(
                            destination.id(),
                            view.freeMemoryBytes(destination.id()),
                            view.freeSlots(destination.id())));
                }
                Planner.Replan replan = planner.replan(
                        plan,
                        evacuation.remaining(waiting, room).withLinkRates(predicted, evacuation.uplinkBytesPerSecond()),
                        scheduler,
                        replanGain);
                if (replan.adopted()) {
                    plan = replan.plan();
                    plan.refused()
                            .forEach(refusal -> given.putIfAbsent(refusal.vm().id(), refusal.reason()));
                    replans++;
                    state = state(view);
                }
            }
        }
        SlotScheduler.Decision decision = scheduler.decide(plan, evacuation.orders(), state);
        given.putAll(decision.left());
        List<Start> starts = new ArrayList<>();
        Set<String> running = new HashSet<>(view.running().keySet());
        for (Plan.Step step : decision.starts()) {
            starts.add(new Start(step.vm().id(), step.destination()));
            running.add(step.vm().id());
        }
        runningBefore = running;
        return starts;
    }

    /** Moved: converged; not moved: failed, refused by a plan, left; running: the view's. */
    private SlotScheduler.State state(SimulationView view) {
        return PlanPolicy.state(view, given);
    }
}
