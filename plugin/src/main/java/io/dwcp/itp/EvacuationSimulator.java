package io.dwcp.itp;

import static java.util.Objects.requireNonNull;

import io.dwcp.pba.GoodputPredictor;
import io.dwcp.pba.GoodputPredictors;
import io.dwcp.pba.Prediction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A discrete-event simulation of an evacuation, with data as a fluid: between two events every
 * running migration moves at the constant rate {@link RateAllocation} gives it under the current
 * {@link Capacity}. Events: a migration's round ends, a capacity changes, the link estimates are
 * refreshed (each {@link #ESTIMATE_INTERVAL_SECONDS}); after each the policy may start migrations.
 *
 * <p>A migration follows {@link PrecopyModel} with the rates it actually gets: round 0 sends the
 * first-round bytes; when a round ends after {@code T} seconds the guest has dirtied {@code min(M,
 * d T)}; if that can be sent within the downtime limit at the rate the migration just had, the
 * guest pauses and it is sent, and one RTT later it runs on the destination (downtime = pause to
 * last byte + RTT; the migration ends then and is counted as running until then), otherwise it is the next
 * round; after {@code maxRounds} rounds the migration is cancelled and its destination's memory
 * and slot are given back. Each link estimate is PBA's {@link GoodputPredictors#forLinks()}
 * predictor, fed the link's capacity once per interval (as a bandwidth probe would measure it),
 * asked {@link #ESTIMATE_HORIZON} ahead. Deterministic: same inputs, same result.
 */
public final class EvacuationSimulator {
    public static final double ESTIMATE_INTERVAL_SECONDS = 1;
    public static final Duration ESTIMATE_HORIZON = Duration.ofSeconds(10);
    private static final double NEVER = Double.POSITIVE_INFINITY;

    private final int maxRounds;
    private final double maxSeconds;
    private final boolean estimate;

    /**
     * @param estimate whether link estimates come from PBA predictors fed by the capacity; if not,
     * the evacuation's own link rates are the estimates (a planner's what-if run)
     */
    public EvacuationSimulator(int maxRounds, Duration maxTime, boolean estimate) {
        if (maxRounds < 1) {
            throw new IllegalArgumentException("maxRounds must be >= 1: " + maxRounds);
        }
        this.maxRounds = maxRounds;
        this.maxSeconds = maxTime.toNanos() / 1e9;
        this.estimate = estimate;
    }

    public static EvacuationSimulator withPredictions() {
        return new EvacuationSimulator(PrecopyModel.DEFAULT_MAX_ROUNDS, Duration.ofDays(30), true);
    }

    private enum Phase {
        PRECOPY,
        STOP_AND_COPY,
        /** Last byte sent; the destination confirms one RTT later and the VM resumes there. */
        HANDOVER
    }

    private static final class Migration {
        final Vm vm;
        final Link link;
        final double start;
        Phase phase = Phase.PRECOPY;
        int rounds;
        double remaining;
        double roundStart;
        double pausedAt;
        double handoverEnd;
        double sent;
        double rate;

        Migration(Vm vm, Link link, double start) {
            this.vm = vm;
            this.link = link;
            this.start = start;
            this.remaining = vm.firstRoundBytes(link.destination());
            this.roundStart = start;
        }
    }

    public SimulationResult run(Evacuation evacuation, Capacity capacity, MigrationPolicy policy) {
        return new Run(evacuation, capacity, policy).run();
    }

    private final class Run implements SimulationView {
        private final Evacuation evacuation;
        private final Capacity capacity;
        private final MigrationPolicy policy;
        private final Map<String, Vm> waiting = new LinkedHashMap<>();
        private final Map<String, Migration> running = new LinkedHashMap<>();
        private final Map<String, SimulationResult.Outcome> ended = new LinkedHashMap<>();
        private final Map<String, Long> freeMemory = new HashMap<>();
        private final Map<String, Integer> freeSlots = new HashMap<>();
        private final Map<String, GoodputPredictor> linkPredictors = new HashMap<>();
        private final GoodputPredictor uplinkPredictor =
                GoodputPredictors.forLinks().create();
        private double now;

        Run(Evacuation evacuation, Capacity capacity, MigrationPolicy policy) {
            this.evacuation = requireNonNull(evacuation, "evacuation is null");
            this.capacity = requireNonNull(capacity, "capacity is null");
            this.policy = requireNonNull(policy, "policy is null");
            evacuation.vms().forEach(vm -> waiting.put(vm.id(), vm));
            for (Destination destination : evacuation.destinations()) {
                freeMemory.put(destination.id(), destination.freeMemoryBytes());
                freeSlots.put(destination.id(), destination.slots());
                linkPredictors.put(
                        destination.id(), GoodputPredictors.forLinks().create());
            }
        }

        SimulationResult run() {
            double nextEstimate = 0;
            while (true) {
                if (now >= nextEstimate) {
                    observeCapacities();
                    nextEstimate += ESTIMATE_INTERVAL_SECONDS;
                }
                if (!waiting.isEmpty()) {
                    for (MigrationPolicy.Start start : policy.decide(this)) {
                        start(start);
                    }
                }
                if (running.isEmpty()) {
                    break;
                }
                if (now > maxSeconds) {
                    throw new IllegalStateException("evacuation still running after " + maxSeconds
                            + " s of simulated time under " + policy.name());
                }
                allocate();
                double next = Math.min(capacity.nextChange(now), estimate ? nextEstimate : NEVER);
                for (Migration migration : running.values()) {
                    if (migration.phase == Phase.HANDOVER) {
                        next = Math.min(next, migration.handoverEnd);
                    } else if (migration.rate > 0) {
                        next = Math.min(next, now + migration.remaining / migration.rate);
                    }
                }
                if (next == NEVER) {
                    throw new IllegalStateException(
                            "no capacity and no capacity change: the evacuation cannot progress");
                }
                advance(next);
            }
            List<SimulationResult.Outcome> outcomes = new ArrayList<>(ended.values());
            for (Vm vm : waiting.values()) {
                outcomes.add(new SimulationResult.Outcome(
                        vm.id(), "", SimulationResult.Status.NOT_STARTED, NEVER, NEVER, Double.NaN, 0, 0));
            }
            return summarize(outcomes);
        }

        private void observeCapacities() {
            if (!estimate) {
                return;
            }
            long nanos = Math.round(now * 1e9);
            linkPredictors.forEach((destination, predictor) ->
                    predictor.observe(nanos, 8 * capacity.linkBytesPerSecond(destination, now)));
            uplinkPredictor.observe(nanos, 8 * capacity.uplinkBytesPerSecond(now));
        }

        private void start(MigrationPolicy.Start start) {
            Vm vm = waiting.get(start.vm());
            if (vm == null) {
                throw new IllegalStateException(policy.name() + " started " + start.vm() + ", which is not waiting");
            }
            String destination = start.destination();
            if (!freeMemory.containsKey(destination)) {
                throw new IllegalStateException(
                        policy.name() + " sent " + vm.id() + " to unknown destination " + destination);
            }
            if (freeMemory.get(destination) < vm.memoryBytes() || freeSlots.get(destination) < 1) {
                throw new IllegalStateException(
                        policy.name() + " sent " + vm.id() + " to " + destination + ", which has no room for it");
            }
            freeMemory.merge(destination, -vm.memoryBytes(), Long::sum);
            freeSlots.merge(destination, -1, Integer::sum);
            waiting.remove(vm.id());
            running.put(vm.id(), new Migration(vm, evacuation.link(destination), now));
        }

        private void allocate() {
            List<Migration> migrations = new ArrayList<>();
            Map<String, Integer> sending = new HashMap<>();
            for (Migration migration : running.values()) {
                migration.rate = 0;
                if (migration.phase != Phase.HANDOVER) {
                    migrations.add(migration);
                    sending.merge(migration.link.destination(), 1, Integer::sum);
                }
            }
            double[] shares = new double[migrations.size()];
            for (int i = 0; i < shares.length; i++) {
                Link link = migrations.get(i).link;
                int sharing = sending.get(link.destination());
                shares[i] = Math.min(
                        link.perMigrationBytesPerSecond(),
                        capacity.linkBytesPerSecond(link.destination(), now) / sharing);
            }
            double[] rates = RateAllocation.allocate(shares, capacity.uplinkBytesPerSecond(now));
            for (int i = 0; i < shares.length; i++) {
                migrations.get(i).rate = rates[i];
            }
        }

        private void advance(double next) {
            double elapsed = next - now;
            double before = now;
            now = next;
            for (Migration migration : new ArrayList<>(running.values())) {
                if (migration.phase == Phase.HANDOVER) {
                    if (migration.handoverEnd <= next) {
                        end(
                                migration,
                                SimulationResult.Status.CONVERGED,
                                migration.handoverEnd,
                                migration.handoverEnd - migration.pausedAt);
                    }
                    continue;
                }
                double moved = migration.rate * elapsed;
                // a round whose end defined this event ends now, whatever the rounding (the same
                // expression as in run(), so a round too short to move the clock still ends)
                if (migration.rate > 0 && before + migration.remaining / migration.rate <= next) {
                    moved = migration.remaining;
                }
                migration.remaining -= moved;
                migration.sent += moved;
                if (migration.remaining <= 0) {
                    endRound(migration);
                }
            }
        }

        private void endRound(Migration migration) {
            Vm vm = migration.vm;
            if (migration.phase == Phase.STOP_AND_COPY) {
                migration.phase = Phase.HANDOVER;
                migration.handoverEnd = now + migration.link.rttSeconds();
                if (migration.handoverEnd <= now) {
                    end(migration, SimulationResult.Status.CONVERGED, now, now - migration.pausedAt);
                }
                return;
            }
            migration.rounds++;
            double dirty = Math.min(vm.memoryBytes(), vm.dirtyBytesPerSecond() * (now - migration.roundStart));
            if (migration.rate > 0 && dirty / migration.rate <= evacuation.downtimeLimitSeconds()) {
                migration.phase = Phase.STOP_AND_COPY;
                migration.pausedAt = now;
                migration.remaining = dirty;
                if (dirty == 0) {
                    endRound(migration);
                }
                return;
            }
            if (migration.rounds >= maxRounds) {
                end(migration, SimulationResult.Status.FAILED, now, Double.NaN);
                freeMemory.merge(migration.link.destination(), vm.memoryBytes(), Long::sum);
                freeSlots.merge(migration.link.destination(), 1, Integer::sum);
                return;
            }
            migration.remaining = dirty;
            migration.roundStart = now;
        }

        private void end(Migration migration, SimulationResult.Status status, double end, double downtime) {
            running.remove(migration.vm.id());
            ended.put(
                    migration.vm.id(),
                    new SimulationResult.Outcome(
                            migration.vm.id(),
                            migration.link.destination(),
                            status,
                            migration.start,
                            end,
                            downtime,
                            migration.rounds,
                            migration.sent));
        }

        private SimulationResult summarize(List<SimulationResult.Outcome> outcomes) {
            double makespan = 0;
            double totalDowntime = 0;
            double worstDowntime = 0;
            double bytes = 0;
            int converged = 0;
            int failed = 0;
            int notStarted = 0;
            for (SimulationResult.Outcome outcome : outcomes) {
                switch (outcome.status()) {
                    case CONVERGED -> {
                        converged++;
                        totalDowntime += outcome.downtimeSeconds();
                        worstDowntime = Math.max(worstDowntime, outcome.downtimeSeconds());
                    }
                    case FAILED -> failed++;
                    case NOT_STARTED -> notStarted++;
                }
                if (outcome.status() != SimulationResult.Status.NOT_STARTED) {
                    makespan = Math.max(makespan, outcome.endSeconds());
                }
                bytes += outcome.bytesSent();
            }
            return new SimulationResult(
                    policy.name(),
                    makespan,
                    converged,
                    failed,
                    notStarted,
                    totalDowntime,
                    worstDowntime,
                    bytes,
                    outcomes);
        }

        @Override
        public double time() {
            return now;
        }

        @Override
        public Evacuation evacuation() {
            return evacuation;
        }

        @Override
        public List<Vm> waiting() {
            return List.copyOf(waiting.values());
        }

        @Override
        public Map<String, String> running() {
            Map<String, String> destinations = new LinkedHashMap<>();
            running.forEach((id, migration) -> destinations.put(id, migration.link.destination()));
            return destinations;
        }

        @Override
        public int runningTo(String destination) {
            int count = 0;
            for (Migration migration : running.values()) {
                if (migration.link.destination().equals(destination)) {
                    count++;
                }
            }
            return count;
        }

        @Override
        public boolean ended(String vm) {
            return ended.containsKey(vm);
        }

        @Override
        public boolean converged(String vm) {
            SimulationResult.Outcome outcome = ended.get(vm);
            return outcome != null && outcome.status() == SimulationResult.Status.CONVERGED;
        }

        @Override
        public double estimatedLinkBytesPerSecond(String destination) {
            return estimateOr(
                    linkPredictors.get(destination),
                    evacuation.link(destination).bytesPerSecond());
        }

        @Override
        public double estimatedUplinkBytesPerSecond() {
            return estimateOr(uplinkPredictor, evacuation.uplinkBytesPerSecond());
        }

        private double estimateOr(GoodputPredictor predictor, double fallback) {
            if (!estimate || predictor == null) {
                return fallback;
            }
            Prediction prediction = predictor.predict(ESTIMATE_HORIZON);
            return prediction.known() ? prediction.bitsPerSecond() / 8 : fallback;
        }

        @Override
        public long freeMemoryBytes(String destination) {
            return freeMemory.getOrDefault(destination, 0L);
        }

        @Override
        public int freeSlots(String destination) {
            return freeSlots.getOrDefault(destination, 0);
        }
    }
}
