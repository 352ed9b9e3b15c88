/**
 * The guests: {@link io.dwcp.testbed.guest.GuestImage} builds the kernel and initramfs with the workload,
 * {@link io.dwcp.testbed.guest.WorkloadSpec} says what it writes, and {@link io.dwcp.testbed.guest.GuestConsole}
 * talks to it over its serial console (readiness, the verdict of its own integrity check).
 *
 * <h2>Threads</h2>
 * A console has one reader thread of its own, started on attach and ended by {@code close}; what it
 * read is handed to callers under the console's lock. Everything else runs on the test's thread.
 */
package io.dwcp.testbed.guest;
