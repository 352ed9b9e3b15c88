package io.dwcp.cli;

import io.dwcp.itp.ConcurrencyLearner;
import io.dwcp.itp.Evacuation;
import io.dwcp.itp.Plan;
import io.dwcp.itp.SlotScheduler;
import io.dwcp.itp.Vm;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Runs an evacuation's plan slot by slot: asks the {@link SlotScheduler} which VMs start (and which
 * are left, with the reason), gives each started VM the lowest free slot of its link and runs its
 * migration through {@link MigrationRun} on a {@code dwcp-evacuate} thread, waits for the next to
 * end, records its outcome, feeds the {@link LinkMeters} and lets the {@link Replanner} plan the
 * waiting VMs again; after the last, or a Ctrl-C, prints the table and gives the exit code. With
 * {@code --policy itp} a {@link ConcurrencyLearner} also decides: every poll interval while it
 * waits, and at each end, it is given each running migration's guest bytes, and no VM starts beyond
 * the limit it learned from them (its gate on the scheduler's decision); when the limit rises, the
 * next VMs start at once.
 *
 * <p>The loop, the slots, the outcomes and the learner belong to the command's (main) thread; only the
 * migrations (and the byte counters they set) run on the {@code dwcp-evacuate} threads, which end
 * with the run.
 */
final class EvacuationRun {
    /** A migration that ended: its step, the slot it held, how it went. */
    private record Finished(Plan.Step step, int slot, MigrationRun.Result result) {}

    /** The libvirt URIs and the timeout each migration is asked with. */
    record Settings(
            String connectUri, String uriTemplate, OptionalLong timeoutSeconds, MigrateCommand.Progress progress) {}

    private final MigrateCommand.Environment base;
    private final Dwcpd dwcpd;
    private final SlotScheduler scheduler;
    private final LinkMeters meters;
    private final Replanner replanner;
    private final EvacuationView view;
    private final Settings settings;
    private final Optional<ConcurrencyLearner> learner;
    private final LongSupplier nanoClock;

    /**
     * @param base libvirt, the output streams, the interrupts and the progress intervals
     * @param dwcpd the local dwcpd, through which each migration runs
     * @param scheduler the policy's slots
     * @param meters the goodput each link's migrations make, fed to its predictor at each slot release
     * @param replanner plans the waiting VMs again at each slot release
     * @param view prints the progress lines and the table
     * @param settings what each migration is asked with
     * @param learner with {@code --policy itp}: learns how many migrations this host gains from
     *     running at once, sampled every {@link MigrateCommand.Environment#pollInterval}; none: the
     *     slots alone decide
     * @param nanoClock {@link System#nanoTime} but in tests: the learner's time
     */
    EvacuationRun(
            MigrateCommand.Environment base,
            Dwcpd dwcpd,
            SlotScheduler scheduler,
            LinkMeters meters,
            Replanner replanner,
            EvacuationView view,
            Settings settings,
            Optional<ConcurrencyLearner> learner,
            LongSupplier nanoClock) {
        this.base = base;
        this.dwcpd = dwcpd;
        this.scheduler = scheduler;
        this.meters = meters;
        this.replanner = replanner;
        this.view = view;
        this.settings = settings;
        this.learner = learner;
        this.nanoClock = nanoClock;
    }

    /**
     * Runs {@code initial} (the plan of {@code evacuation}) to its end or a Ctrl-C: {@link
     * ExitCode#OK} when every VM moved, {@link ExitCode#INTERRUPTED} after a Ctrl-C, else {@link
     * ExitCode#MIGRATION_FAILED}.
     */
    ExitCode run(Plan initial, Evacuation evacuation, List<Dwcpd.Peer> peers) {
        Map<String, Dwcpd.Peer> peerByName = new HashMap<>();
        peers.forEach(peer -> peerByName.put(peer.name(), peer));
        Map<String, EvacuationView.Outcome> outcomes = new LinkedHashMap<>();
        AtomicInteger interrupts = new AtomicInteger();
        base.interrupts().onInterrupt(interrupts::incrementAndGet);
        Plan plan = initial;
        Set<String> moved = new HashSet<>();
        Map<String, String> notMoved = new HashMap<>();
        Map<String, String> running = new LinkedHashMap<>();
        Map<String, Set<Integer>> slotsInUse = new HashMap<>();
        Map<String, Long> movedTo = new HashMap<>();
        // the running migrations' byte counters, for the learner
        Map<String, AtomicLong> counters = new LinkedHashMap<>();
        refuse(initial, notMoved, outcomes);
        ExecutorService executor = Executors.newCachedThreadPool(runnable -> {
            Thread thread = new Thread(runnable, "dwcp-evacuate");
            thread.setDaemon(true);
            return thread;
        });
        CompletionService<Finished> completions = new ExecutorCompletionService<>(executor);
        try {
            while (true) {
                if (interrupts.get() == 0) {
                    SlotScheduler.Decision decision = scheduler.decide(
                            plan,
                            evacuation.orders(),
                            new SlotScheduler.State(moved, notMoved, running),
                            learner.map(l -> l.gate(running.size())).orElse(SlotScheduler.Gate.OPEN));
                    decision.left().forEach((vm, reason) -> {
                        notMoved.put(vm, reason);
                        outcomes.put(
                                vm,
                                new EvacuationView.Outcome(
                                        vm, "-", "not started", Duration.ZERO, Optional.of(reason), false));
                        view.notStarting(vm, reason);
                    });
                    for (Plan.Step step : decision.starts()) {
                        String link = step.destination();
                        Set<Integer> inUse = slotsInUse.computeIfAbsent(link, l -> new HashSet<>());
                        int slot = 1;
                        while (inUse.contains(slot)) {
                            slot++;
                        }
                        inUse.add(slot);
                        running.put(step.vm().id(), link);
                        view.starting(
                                step.vm().id(), link, EvacuationView.slot(scheduler, plan, link, slot), running.size());
                        AtomicLong counter = meters.started(
                                link,
                                running.values().stream().filter(link::equals).count() == 1);
                        counters.put(step.vm().id(), counter);
                        MigrationRun.Request request = request(step, peerByName.get(link));
                        MigrationRun.Output output = new MigrationRun.Output(
                                base.out(),
                                base.err(),
                                "dwcp evacuate: " + step.vm().id() + ": ",
                                settings.progress(),
                                false,
                                base.columns(),
                                base.pollInterval(),
                                base.lineInterval());
                        int held = slot;
                        completions.submit(() -> {
                            MigrationRun.Result result;
                            try {
                                result = MigrationRun.run(
                                        output, base.libvirt(), dwcpd, request, interrupts, counter::set);
                            } catch (RuntimeException e) {
                                // MigrationRun reports its failures as results; anything else is a bug: say what it was
                                result = MigrationRun.Result.before(ExitCode.MIGRATION_FAILED, "internal error: " + e);
                            }
                            counter.accumulateAndGet(result.guestBytes(), Math::max);
                            return new Finished(step, held, result);
                        });
                    }
                }
                if (running.isEmpty()) {
                    break;
                }
                Finished finished = null;
                boolean wider = false;
                while (finished == null && !wider) {
                    finished = next(completions, interrupts);
                    // no end within a sample's time: the learner samples, and may let one more start
                    wider = finished == null && learn(counters) && interrupts.get() == 0;
                }
                if (finished == null) {
                    continue;
                }
                Plan.Step step = finished.step();
                String vm = step.vm().id();
                String link = step.destination();
                MigrationRun.Result result = finished.result();
                // its last bytes, up to its end, count at the concurrency it ended in
                learn(counters);
                counters.remove(vm);
                running.remove(vm);
                slotsInUse.get(link).remove(finished.slot());
                outcomes.put(
                        vm,
                        new EvacuationView.Outcome(
                                vm,
                                link,
                                EvacuationView.outcome(result),
                                result.elapsed(),
                                result.reason(),
                                result.migrated()));
                if (result.migrated()) {
                    moved.add(vm);
                    movedTo.merge(link, 1L, Long::sum);
                } else {
                    notMoved.put(vm, result.reason().orElse(EvacuationView.outcome(result)));
                }
                view.ended(
                        vm, link, result, EvacuationView.slot(scheduler, plan, link, finished.slot()), running.size());
                meters.observe(running);
                List<Vm> waiting = new SlotScheduler.State(moved, notMoved, running).waiting(evacuation);
                if (interrupts.get() == 0 && !waiting.isEmpty()) {
                    plan = replanner.replanIfMoved(plan, evacuation, waiting, movedTo);
                    refuse(plan, notMoved, outcomes);
                }
            }
        } finally {
            executor.shutdownNow();
        }
        for (Vm vm : evacuation.vms()) {
            if (!outcomes.containsKey(vm.id())) {
                outcomes.put(
                        vm.id(),
                        new EvacuationView.Outcome(
                                vm.id(),
                                "-",
                                "not started",
                                Duration.ZERO,
                                Optional.of(
                                        interrupts.get() > 0
                                                ? "interrupted (Ctrl-C) before it started"
                                                : "its plan step never became startable"),
                                false));
            }
        }
        long movedCount = view.summary(evacuation, outcomes);
        if (interrupts.get() > 0) {
            return ExitCode.INTERRUPTED;
        }
        return movedCount == evacuation.vms().size() ? ExitCode.OK : ExitCode.MIGRATION_FAILED;
    }

    /** The VMs a plan refuses: not moved, with the plan's reason (once). */
    private static void refuse(Plan plan, Map<String, String> notMoved, Map<String, EvacuationView.Outcome> outcomes) {
        for (Plan.Refusal refusal : plan.refused()) {
            String vm = refusal.vm().id();
            if (notMoved.putIfAbsent(vm, refusal.reason()) == null) {
                outcomes.put(
                        vm,
                        new EvacuationView.Outcome(
                                vm, "-", "refused", Duration.ZERO, Optional.of(refusal.reason()), false));
            }
        }
    }

    /** What the migration of a step is asked: as {@code dwcp migrate} asks it, persistent at the destination. */
    MigrationRun.Request request(Plan.Step step, Dwcpd.Peer peer) {
        return new MigrationRun.Request(
                step.vm().id(),
                peer.name(),
                settings.connectUri(),
                CliConfig.destinationUri(settings.uriTemplate(), EvacuateCommand.tunnelHost(peer.address())),
                MigrateCommand.LIVE
                        | MigrateCommand.PEER2PEER
                        | MigrateCommand.PERSIST_DEST
                        | MigrateCommand.UNDEFINE_SOURCE,
                OptionalInt.empty(),
                OptionalLong.empty(),
                settings.timeoutSeconds());
    }

    /**
     * The learner's sample of the running migrations' bytes, and its change of the limit said
     * through the view; whether the limit rose (one more may start now).
     */
    private boolean learn(Map<String, AtomicLong> counters) {
        if (learner.isEmpty()) {
            return false;
        }
        Map<String, Long> bytes = new LinkedHashMap<>();
        counters.forEach((vm, counter) -> bytes.put(vm, counter.get()));
        Optional<ConcurrencyLearner.Change> change = learner.get().sample(nanoClock.getAsLong(), bytes);
        change.ifPresent(view::concurrency);
        return change.isPresent() && change.get().to() > change.get().from();
    }

    /**
     * The next migration to end; with a learner, null when none ended within a sample's time (the
     * poll interval). A Ctrl-C while waiting counts as one (the runs abort and end).
     */
    private Finished next(CompletionService<Finished> completions, AtomicInteger interrupts) {
        while (true) {
            try {
                if (learner.isEmpty()) {
                    return completions.take().get();
                }
                Future<Finished> done =
                        completions.poll(Math.max(10, base.pollInterval().toMillis()), TimeUnit.MILLISECONDS);
                return done == null ? null : done.get();
            } catch (InterruptedException e) {
                interrupts.incrementAndGet();
            } catch (ExecutionException e) {
                // the task catches what MigrationRun throws: not reached
                throw new IllegalStateException(e.getCause());
            }
        }
    }
}
