/**
 * QEMU in the test bed: {@link io.dwcp.testbed.qemu.QemuVm} (a guest process and its QMP socket),
 * {@link io.dwcp.testbed.qemu.Qmp}, {@link io.dwcp.testbed.qemu.NativeMode} (QEMU's own migration modes),
 * {@link io.dwcp.testbed.qemu.GuestPair} (a running source and a waiting destination) and
 * {@link io.dwcp.testbed.qemu.MigrationRun} (one migration, its figures and the guest's verdict).
 *
 * <h2>Threads</h2>
 * Used by the test's thread. A {@link io.dwcp.testbed.qemu.Qmp} connection has a reader thread of its
 * own that completes each request's reply (a future, awaited with a timeout) and records events;
 * requests from several threads (the test and a progress poller) are written one at a time.
 */
package io.dwcp.testbed.qemu;
