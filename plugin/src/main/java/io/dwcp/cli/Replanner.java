package io.dwcp.cli;

import io.dwcp.itp.Destination;
import io.dwcp.itp.Evacuation;
import io.dwcp.itp.Link;
import io.dwcp.itp.Plan;
import io.dwcp.itp.Planner;
import io.dwcp.itp.SlotScheduler;
import io.dwcp.itp.Vm;
import io.dwcp.pba.GoodputPredictor;
import io.dwcp.pba.Prediction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * At a slot release of {@code dwcp evacuate}: feeds the control plane's latest link measurement to
 * each link's predictor (the goodput observed on it went in already, through {@link LinkMeters})
 * and, when a prediction moved by more than {@link EvacuateCommand#REPLAN_THRESHOLD} from the
 * plan's figure, plans the VMs not yet started again and takes the new plan only when it is
 * predicted to finish them more than {@link SlotScheduler#REPLAN_GAIN} sooner than the current one
 * ({@link Planner#replan}), saying which through the {@link EvacuationView}; the running migrations
 * are not touched (they keep their slots). A re-plan never refuses a VM the plan accepted: the
 * goodput it sees is what the running migrations processed, which is the link's only when the link
 * was their bottleneck (on a host short of CPU it is not), so it is weaker evidence than the first
 * plan had; such a VM is tried, and {@code --timeout} aborts it if it does not converge.
 *
 * <p>Runs on the command's (main) thread.
 */
final class Replanner {
    private final Planner planner;
    private final SlotScheduler scheduler;
    private final Dwcpd dwcpd;
    private final EvacuationView view;
    private final Map<String, GoodputPredictor> predictors;
    private final LongSupplier nanoClock;

    /**
     * @param planner plans the waiting VMs
     * @param scheduler the run's slots, under which a new plan and the current one are compared
     * @param dwcpd asked for the control plane's latest link measurements
     * @param view says that and why the waiting VMs were planned again, with the new plan
     * @param predictors each link's predictor, by destination name (fed by {@link LinkMeters} too)
     * @param nanoClock {@link System#nanoTime} but in tests
     */
    Replanner(
            Planner planner,
            SlotScheduler scheduler,
            Dwcpd dwcpd,
            EvacuationView view,
            Map<String, GoodputPredictor> predictors,
            LongSupplier nanoClock) {
        this.planner = planner;
        this.scheduler = scheduler;
        this.dwcpd = dwcpd;
        this.view = view;
        this.predictors = predictors;
        this.nanoClock = nanoClock;
    }

    /**
     * The plan for the {@code waiting} VMs: {@code plan} itself when no link's prediction moved by
     * more than the threshold, else a new one on the predicted rates, with the destinations' slots
     * less the VMs moved to them ({@code movedTo}).
     */
    Plan replanIfMoved(Plan plan, Evacuation evacuation, List<Vm> waiting, Map<String, Long> movedTo) {
        long now = nanoClock.getAsLong();
        Optional<Dwcpd.Region> region;
        try {
            region = dwcpd.region();
        } catch (Dwcpd.UnavailableException e) {
            region = Optional.empty();
        }
        Map<String, Double> predicted = new HashMap<>();
        for (Map.Entry<String, GoodputPredictor> entry : predictors.entrySet()) {
            String peer = entry.getKey();
            Optional<Dwcpd.Link> measured = region.flatMap(r -> EvacuationInputs.link(r, peer));
            measured.filter(link -> link.goodputBytesPerSecond() > 0)
                    .ifPresent(link -> entry.getValue().observe(now, 8.0 * link.goodputBytesPerSecond()));
            Prediction prediction = entry.getValue().predict(Duration.ofSeconds(60));
            if (prediction.known()) {
                predicted.put(peer, prediction.bitsPerSecond() / 8);
            }
        }
        Map<String, Double> changed = SlotScheduler.movedLinks(plan, predicted, EvacuateCommand.REPLAN_THRESHOLD);
        if (changed.isEmpty()) {
            return plan;
        }
        List<String> moves = new ArrayList<>();
        changed.forEach((peer, rate) -> moves.add(peer + " "
                + EvacuationView.rate(plan.linkBytesPerSecond().get(peer)) + " -> " + EvacuationView.rate(rate)));
        Map<String, Double> rates = new HashMap<>(plan.linkBytesPerSecond());
        rates.putAll(predicted);
        // as at the start: one migration may fill its link; the slots the moved VMs took are gone
        Map<String, Link> links = new HashMap<>();
        evacuation.links().forEach((id, link) -> {
            double rate = rates.getOrDefault(id, link.bytesPerSecond());
            links.put(id, new Link(id, rate, link.rtt(), rate));
        });
        List<Destination> room = new ArrayList<>();
        for (Destination destination : evacuation.destinations()) {
            long taken = movedTo.getOrDefault(destination.id(), 0L);
            room.add(new Destination(
                    destination.id(), destination.freeMemoryBytes(), (int) Math.max(0, destination.slots() - taken)));
        }
        Evacuation rest = evacuation.remaining(waiting, room);
        rest = new Evacuation(
                rest.vms(),
                rest.destinations(),
                links,
                links.values().stream().mapToDouble(Link::bytesPerSecond).sum(),
                rest.orders(),
                rest.downtimeLimit());
        Planner.Replan replan = planner.replan(plan, rest, scheduler, SlotScheduler.REPLAN_GAIN);
        if (!replan.adopted()) {
            view.replanKept(waiting.size(), moves, replan.keepSeconds(), replan.replannedSeconds());
            return plan;
        }
        view.replanned(waiting.size(), moves, replan.plan());
        return replan.plan();
    }
}
