package io.dwcp.itp;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;

/**
 * Which VMs of a {@link Plan} start now: the slot-driven schedule of {@code dwcp evacuate}, of
 * {@link SlotPolicy} (the same schedule in the simulator) and, with its admission {@link Gate}, of
 * {@link PlanPolicy}. Asked at the start and whenever a migration ended (its slot freed); it
 * starts what fits at once, so a long migration holds only its own slot and never the VMs behind
 * it on other slots.
 *
 * <p>The rules, over the plan's steps in plan order:
 * <ul>
 * <li>A unit is a VM, or the waiting members of its group ({@code --group}): they start together
 * or not at all.</li>
 * <li>A unit is ready when every VM it comes after ({@code --after}) has moved. When one of those
 * was not moved (failed, refused by the plan, itself left), the unit is not started: it is
 * <em>left</em> on the source, with the reason, and so are, in turn, the VMs that come after
 * it.</li>
 * <li>Slots: per link, the plan's concurrency ({@link Mode#ITP}) or no limit ({@link Mode#SERIAL},
 * {@link Mode#ALL_AT_ONCE}); in all, one ({@link Mode#SERIAL}) or no limit, and at most {@code
 * maxConcurrent}. Running migrations hold theirs, whatever plan they were started under: a
 * re-plan covers only the VMs not started and changes no running migration.</li>
 * <li>A ready unit starts when its link has slots for all its members and the total has too (a
 * unit larger than a limit starts when that link, or everything, is idle). A ready unit that does
 * not fit keeps its place: no later unit starts on its link (on any link, if the total was short),
 * so plan order holds per link. A unit that is not ready blocks nothing.</li>
 * </ul>
 * Pure: no I/O, no clock, no thread; the caller says what ended.
 */
public final class SlotScheduler {
    /** How many slots there are: the plan's per link, one in all, or no limit. */
    public enum Mode {
        /** Per link, the plan's concurrency. */
        ITP,
        /** One migration at a time in all. */
        SERIAL,
        /** No limit: every ready VM starts at once (those with {@code --after} when their earlier VMs moved). */
        ALL_AT_ONCE
    }

    /** Unlimited slots. */
    public static final int UNLIMITED = Integer.MAX_VALUE;

    /**
     * Where the evacuation stands: VMs moved, VMs not moved with why (failed, refused, left), and
     * the migrations running (VM to destination). A VM in none of them is waiting.
     */
    public record State(Set<String> moved, Map<String, String> notMoved, Map<String, String> running) {
        public State {
            moved = Set.copyOf(moved);
            notMoved = Map.copyOf(notMoved);
            running = Map.copyOf(running);
        }

        public static State start() {
            return new State(Set.of(), Map.of(), Map.of());
        }

        /** Whether the VM has started (it runs, moved or was not moved). */
        public boolean started(String vm) {
            return moved.contains(vm) || notMoved.containsKey(vm) || running.containsKey(vm);
        }

        /** The VMs of the evacuation not started and not given up, in listed order: what a re-plan covers. */
        public List<Vm> waiting(Evacuation evacuation) {
            return evacuation.vms().stream().filter(vm -> !started(vm.id())).toList();
        }
    }

    /** What to do now: the steps to start (in plan order) and the VMs left on the source, with why. */
    public record Decision(List<Plan.Step> starts, Map<String, String> left) {
        public Decision {
            starts = List.copyOf(starts);
            left = Collections.unmodifiableMap(new LinkedHashMap<>(left));
        }
    }

    /** Asked last, for a ready unit that has its slots: may it start now? */
    @FunctionalInterface
    public interface Gate {
        Gate OPEN = (unit, idle) -> true;

        /**
         * @param unit the VMs that would start together
         * @param idle nothing runs and nothing started yet in this decision
         * @return whether the unit starts; when it does, the gate counts it as running from then on
         */
        boolean admits(List<Plan.Step> unit, boolean idle);
    }

    private final Mode mode;
    private final int maxConcurrent;

    /** @param maxConcurrent the most migrations at once in all ({@code --max-concurrent}), on top of the mode's */
    public SlotScheduler(Mode mode, OptionalInt maxConcurrent) {
        this.mode = requireNonNull(mode, "mode is null");
        requireNonNull(maxConcurrent, "maxConcurrent is null");
        if (maxConcurrent.isPresent() && maxConcurrent.getAsInt() < 1) {
            throw new IllegalArgumentException("maxConcurrent must be at least 1: " + maxConcurrent.getAsInt());
        }
        this.maxConcurrent = maxConcurrent.orElse(UNLIMITED);
    }

    public Mode mode() {
        return mode;
    }

    /** The slots of one link under {@code plan}: its concurrency (itp, 1 if the plan has none), else {@link #UNLIMITED}. */
    public int linkSlots(Plan plan, String link) {
        return mode == Mode.ITP ? Math.max(1, plan.concurrency().getOrDefault(link, 1)) : UNLIMITED;
    }

    /** The slots in all: 1 (serial) or {@code maxConcurrent} ({@link #UNLIMITED} without one). */
    public int totalSlots() {
        return mode == Mode.SERIAL ? 1 : maxConcurrent;
    }

    public Decision decide(Plan plan, List<OrderConstraint> orders, State state) {
        return decide(plan, orders, state, Gate.OPEN);
    }

    public Decision decide(Plan plan, List<OrderConstraint> orders, State state, Gate gate) {
        requireNonNull(plan, "plan is null");
        requireNonNull(orders, "orders is null");
        requireNonNull(state, "state is null");
        requireNonNull(gate, "gate is null");
        Map<String, List<String>> before = new HashMap<>();
        for (OrderConstraint order : orders) {
            before.computeIfAbsent(order.after(), k -> new ArrayList<>()).add(order.before());
        }
        Map<String, String> notMoved = new HashMap<>(state.notMoved());
        plan.refused().forEach(refusal -> notMoved.putIfAbsent(refusal.vm().id(), refusal.reason()));
        List<Plan.Step> waiting = plan.steps().stream()
                .filter(step -> !state.started(step.vm().id())
                        && !notMoved.containsKey(step.vm().id()))
                .toList();
        Map<String, List<Plan.Step>> groups = new HashMap<>();
        for (Plan.Step step : waiting) {
            step.vm()
                    .group()
                    .ifPresent(group -> groups.computeIfAbsent(group, g -> new ArrayList<>())
                            .add(step));
        }
        Map<String, String> left = left(waiting, groups, before, notMoved);

        Map<String, Integer> onLink = new HashMap<>();
        state.running().values().forEach(link -> onLink.merge(link, 1, Integer::sum));
        int total = state.running().size();
        Set<String> blockedLinks = new HashSet<>();
        Set<String> considered = new HashSet<>();
        List<Plan.Step> starts = new ArrayList<>();
        for (Plan.Step step : waiting) {
            String id = step.vm().id();
            if (left.containsKey(id) || !considered.add(id)) {
                continue;
            }
            List<Plan.Step> unit = step.vm().group().map(groups::get).orElse(List.of(step));
            unit.forEach(s -> considered.add(s.vm().id()));
            Map<String, Integer> adding = new TreeMap<>();
            unit.forEach(s -> adding.merge(s.destination(), 1, Integer::sum));
            if (adding.keySet().stream().anyMatch(blockedLinks::contains)) {
                continue;
            }
            if (!unit.stream()
                    .allMatch(s ->
                            before.getOrDefault(s.vm().id(), List.of()).stream().allMatch(state.moved()::contains))) {
                continue;
            }
            boolean totalFits = total + unit.size() <= totalSlots() || (total == 0 && unit.size() > totalSlots());
            if (!totalFits) {
                break;
            }
            boolean linksFit = true;
            for (Map.Entry<String, Integer> add : adding.entrySet()) {
                int busy = onLink.getOrDefault(add.getKey(), 0);
                int slots = linkSlots(plan, add.getKey());
                linksFit &= busy + add.getValue() <= slots || (busy == 0 && add.getValue() > slots);
            }
            if (!linksFit || !gate.admits(unit, total == 0)) {
                blockedLinks.addAll(adding.keySet());
                continue;
            }
            starts.addAll(unit);
            adding.forEach((link, n) -> onLink.merge(link, n, Integer::sum));
            total += unit.size();
        }
        return new Decision(starts, left);
    }

    /**
     * The waiting VMs that will never start: one they come after was not moved (or is left
     * itself), or a member of their group is left. In plan order, each with its reason.
     */
    private static Map<String, String> left(
            List<Plan.Step> waiting,
            Map<String, List<Plan.Step>> groups,
            Map<String, List<String>> before,
            Map<String, String> notMoved) {
        Map<String, String> left = new LinkedHashMap<>();
        boolean changed = true;
        while (changed) {
            changed = false;
            for (Plan.Step step : waiting) {
                String id = step.vm().id();
                if (left.containsKey(id)) {
                    continue;
                }
                Optional<String> reason = Optional.empty();
                for (String earlier : before.getOrDefault(id, List.of())) {
                    if (notMoved.containsKey(earlier) || left.containsKey(earlier)) {
                        reason = Optional.of(
                                "not started: it comes after " + earlier + " (--after), which was not moved");
                        break;
                    }
                }
                if (reason.isEmpty()) {
                    reason = step.vm()
                            .group()
                            .flatMap(group -> groups.get(group).stream()
                                    .map(s -> s.vm().id())
                                    .filter(left::containsKey)
                                    .findFirst())
                            .map(member -> "not started: its group moves together and " + member + " cannot move");
                }
                if (reason.isPresent()) {
                    left.put(id, reason.get());
                    changed = true;
                }
            }
        }
        // in plan order
        Map<String, String> ordered = new LinkedHashMap<>();
        for (Plan.Step step : waiting) {
            String reason = left.get(step.vm().id());
            if (reason != null) {
                ordered.put(step.vm().id(), reason);
            }
        }
        return ordered;
    }

    /**
     * A re-plan's new plan must beat keeping the current one by this (relative) on the predicted
     * makespan of the waiting VMs to be taken ({@link #replanPays}).
     */
    public static final double REPLAN_GAIN = 0.1;

    /**
     * Whether a re-plan is taken, from the two plans' predictions for the waiting VMs (from now, at
     * the same estimates): the new plan moves more of them, or as many with a makespan shorter than
     * keeping the current plan's by more than {@code gain} (relative). Fewer moved: never.
     */
    public static boolean replanPays(
            int keepMoved, double keepSeconds, int replannedMoved, double replannedSeconds, double gain) {
        if (replannedMoved != keepMoved) {
            return replannedMoved > keepMoved;
        }
        return replannedSeconds < (1 - gain) * keepSeconds;
    }

    /**
     * Whether a re-plan that pays at the new estimates ({@link #replanPays}) also holds if the links
     * come back to the figures the current plan was made with ({@code back}): there it must move
     * as many VMs, and what it gains at the new figures must outweigh what it loses at the old,
     * both taken as likely: {@code (replanned / keep) x (replannedBack / keepBack) < 1 - gain}. A
     * dip in a cellular-like link is mostly over before the waiting VMs are; a link that broke for
     * good (a tenth of its rate) still re-plans.
     */
    public static boolean replanHolds(
            double keepSeconds,
            double replannedSeconds,
            int keepBackMoved,
            double keepBackSeconds,
            int replannedBackMoved,
            double replannedBackSeconds,
            double gain) {
        if (replannedBackMoved < keepBackMoved) {
            return false;
        }
        if (!(keepSeconds > 0) || !(keepBackSeconds > 0)) {
            return false;
        }
        return (replannedSeconds / keepSeconds) * (replannedBackSeconds / keepBackSeconds) < 1 - gain;
    }

    /**
     * The links whose predicted goodput moved from the plan's figure by more than {@code
     * threshold} (relative), with the predicted rate (bytes/s), sorted by link: empty, keep the
     * plan; else re-plan the waiting VMs.
     */
    public static Map<String, Double> movedLinks(Plan plan, Map<String, Double> predicted, double threshold) {
        Map<String, Double> moved = new TreeMap<>();
        predicted.forEach((link, rate) -> {
            Double planned = plan.linkBytesPerSecond().get(link);
            if (planned != null && planned > 0 && Math.abs(rate - planned) / planned > threshold) {
                moved.put(link, rate);
            }
        });
        return moved;
    }
}
