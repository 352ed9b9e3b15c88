/**
 * The user-space WAN emulator: {@link io.dwcp.testbed.wan.LinkProfile} (loss, drop-tail queue, rate or
 * mahimahi {@link io.dwcp.testbed.wan.RateTrace}, delay, jitter without reordering), its arithmetic
 * ({@link io.dwcp.testbed.wan.LinkModel}), the process that applies it to packets read from TUN
 * devices ({@link io.dwcp.testbed.wan.WanEmulatorMain}), the benchmark's
 * {@link io.dwcp.testbed.wan.Scenario}s, and {@link io.dwcp.testbed.wan.EmulatorCapacity}, which
 * measures the highest rate it sustains on a machine.
 */
package io.dwcp.testbed.wan;
