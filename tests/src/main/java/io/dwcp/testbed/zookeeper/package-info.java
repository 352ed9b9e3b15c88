/**
 * A real ZooKeeper ensemble for the test bed: {@link io.dwcp.testbed.zookeeper.ZooKeeperEnsemble}
 * starts each server ({@code QuorumPeerMain}, from the plugin build's own jars) as its own JVM
 * inside a test bed host's network namespace, with its {@code zoo.cfg}, {@code myid} and data in a
 * folder of its own, recorded as a {@link io.dwcp.testbed.sys.TrackedProcess}.
 *
 * <p>Threads: an ensemble is used by the test's thread only (not thread-safe); {@link
 * io.dwcp.testbed.zookeeper.ZooKeeperEnsemble#mode} opens its socket on a short-lived thread
 * inside the server's host ({@link io.dwcp.testbed.net.Host#call}).
 */
package io.dwcp.testbed.zookeeper;
