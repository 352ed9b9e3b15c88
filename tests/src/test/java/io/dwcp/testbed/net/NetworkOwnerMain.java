package io.dwcp.testbed.net;

import io.dwcp.testbed.wan.LinkProfile;
import java.time.Duration;

/**
 * A test bed user that crashes: builds an emulated network, prints
 * {@code UP <emulator pid> <namespace>...} and waits to be killed (by {@link TwoHostNetworkIT},
 * with SIGKILL, so neither close() nor the shutdown hook runs).
 */
public final class NetworkOwnerMain {
    private NetworkOwnerMain() {}

    public static void main(String[] args) throws InterruptedException {
        TwoHostNetwork network = TwoHostNetwork.create(
                "crash", LinkProfile.delay(Duration.ofMillis(5)), LinkProfile.delay(Duration.ofMillis(5)));
        System.out.println("UP " + network.emulatorPid().orElseThrow() + " " + String.join(" ", network.namespaces()));
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
