/**
 * Processes and folders of the test bed: {@link io.dwcp.testbed.sys.Command} (a command run to its end,
 * with a timeout), {@link io.dwcp.testbed.sys.TrackedProcess} (a process the test bed started, recorded
 * so that it, and only it, is ended by its pid, also after a crash of the test JVM),
 * {@link io.dwcp.testbed.sys.Folders}, {@link io.dwcp.testbed.sys.Owners} and {@link
 * io.dwcp.testbed.sys.CloseAtDeadline} (a blocked read ended by closing its channel at a deadline).
 *
 * <h2>Threads</h2>
 * A command's output is drained by daemon threads of its own, into buffers read under their lock.
 * The set of tracked processes still open is concurrent, and a shutdown hook ends them if the JVM
 * exits first. A deadline fires on CompletableFuture's timer thread. Otherwise the caller's thread.
 */
package io.dwcp.testbed.sys;
