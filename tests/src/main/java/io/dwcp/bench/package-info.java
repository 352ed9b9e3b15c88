/**
 * The benchmark ({@code tests/bench}): QEMU's native modes and DWCP's side by side over the emulated WAN
 * scenarios ({@link io.dwcp.bench.Bench}, one {@link io.dwcp.bench.BenchRun} per migration), with the wire
 * rate sampled from the emulator ({@link io.dwcp.bench.WireSampler}), the CPU seconds of every process
 * ({@link io.dwcp.bench.ProcessCpu}) and the table of ratios ({@link io.dwcp.bench.ResultTable}). With
 * {@code --evacuate}, {@link io.dwcp.bench.EvacuateBench} runs {@code dwcp evacuate} once per policy through
 * real libvirt instead, one {@link io.dwcp.bench.EvacuationRun} per policy, shaped by
 * {@link io.dwcp.bench.EvacuationTable}.
 *
 * <h2>Threads</h2>
 * The main thread runs the matrix; with {@code --parallel} a fixed pool owned by the run starts several
 * migrations at once, and the list of results is synchronized. A {@link io.dwcp.bench.WireSampler} has its
 * own thread, started and stopped by the run that owns it. The resume mode cuts the link from a
 * daemon thread of its run that waits for the first attempt's bytes. The evacuation runs on the main thread,
 * one policy after the other; {@code dwcp evacuate} runs its migrations in its own process.
 */
package io.dwcp.bench;
