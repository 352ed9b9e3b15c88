/**
 * ITP, migration planning for many migrations at once (a host evacuation): which destination,
 * in which order and how many at a time.
 *
 * <h2>Pieces</h2>
 * <ul>
 * <li>The model: {@link io.dwcp.itp.Evacuation} (VMs, destinations, links, order constraints, the
 * downtime limit), {@link io.dwcp.itp.Vm}, {@link io.dwcp.itp.Destination}, {@link
 * io.dwcp.itp.Link}, {@link io.dwcp.itp.OrderConstraint}.</li>
 * <li>The cost of one pre-copy migration: {@link io.dwcp.itp.PrecopyModel} (rounds, convergence,
 * downtime), and how concurrent migrations share links: {@link io.dwcp.itp.RateAllocation}.</li>
 * <li>{@link io.dwcp.itp.EvacuationSimulator}: a discrete-event (fluid) simulation of an evacuation
 * under a {@link io.dwcp.itp.MigrationPolicy} and a {@link io.dwcp.itp.Capacity} that may follow a
 * trace; link estimates come from PBA ({@code io.dwcp.pba}).</li>
 * <li>{@link io.dwcp.itp.Planner}: the heuristic planner, its {@link io.dwcp.itp.Plan} (per VM:
 * destination, order, reasons; predicted makespan), {@link io.dwcp.itp.PlanPolicy} that carries a
 * plan out and re-plans when a link estimate moves, and {@link io.dwcp.itp.PlanRenderer} (the
 * text of {@code dwcp evacuate --dry-run}).</li>
 * <li>{@link io.dwcp.itp.SlotScheduler}: which VMs of a plan start now, slot by slot (per-link
 * concurrency, groups, order constraints, VMs left after one that did not move): the schedule of
 * {@code dwcp evacuate}, of {@link io.dwcp.itp.SlotPolicy} (that schedule in the simulator) and,
 * with its admission gate, of {@link io.dwcp.itp.PlanPolicy}.</li>
 * <li>{@link io.dwcp.itp.ConcurrencyLearner}: how many migrations the source host gains from
 * running at once, learned from the aggregate rate the running migrations make (a slow start,
 * settled where one more does not add half a migration's rate); {@code dwcp evacuate --policy itp}
 * gates the scheduler's starts with it. The simulator has no model of the host's CPU (only the
 * links, each migration's {@code perMigrationBytesPerSecond} and the uplink), so it does not run
 * the learner.</li>
 * </ul>
 * Scenarios, trace-driven capacities, the naive policies and the comparison are in {@code
 * io.dwcp.itp.sim}.
 *
 * <h2>Threads</h2>
 * Single-threaded value code: records are immutable; a simulator run, a planner call and a
 * {@link io.dwcp.itp.PlanPolicy} belong to the one thread that calls them; so does a {@link
 * io.dwcp.itp.ConcurrencyLearner} (its measurements, the last sample and the limit: {@code dwcp
 * evacuate}'s main thread, which gives it the time and the bytes). Nothing here is
 * thread-safe, nothing starts a thread, nothing reads a clock: time is simulated seconds.
 */
package io.dwcp.itp;
