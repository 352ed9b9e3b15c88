/**
 * Evacuations to simulate and the comparison of planners on them: seeded scenarios ({@link
 * io.dwcp.itp.sim.ScenarioGenerator}), link capacities that follow a measured trace ({@link
 * io.dwcp.itp.sim.TraceCapacity}), the naive policies an operator's script would use ({@link
 * io.dwcp.itp.sim.SequentialPolicy}, {@link io.dwcp.itp.sim.AllAtOncePolicy}) and the comparison
 * itself ({@link io.dwcp.itp.sim.PlannerComparison}, runnable).
 *
 * <h2>Threads</h2>
 * Single-threaded value code, like {@code io.dwcp.itp}: each object belongs to the thread that
 * made it; nothing starts a thread.
 */
package io.dwcp.itp.sim;
