package io.dwcp.testbed.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dwcp.testbed.net.Netns;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What a killed test JVM leaves of a libvirt host (libvirtd, virtlogd, a QEMU, the namespaces) is removed by the next run. */
class LibvirtLeftoversIT {
    @Test
    void cleanupLeftoversEndsTheDaemonsAndQemuOfADeadOwner() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root");
        List<String> command = List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"),
                "-cp",
                System.getProperty("java.class.path"),
                LibvirtOwnerMain.class.getName());
        Process owner = new ProcessBuilder(command)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        String line;
        try {
            BufferedReader out =
                    new BufferedReader(new InputStreamReader(owner.getInputStream(), StandardCharsets.UTF_8));
            line = CompletableFuture.supplyAsync(() -> {
                        try {
                            return out.readLine();
                        } catch (java.io.IOException e) {
                            return null;
                        }
                    })
                    .get(3, TimeUnit.MINUTES);
        } finally {
            owner.destroyForcibly();
            owner.waitFor(30, TimeUnit.SECONDS);
        }
        assertTrue(line != null && line.startsWith("UP "), "the owner did not come up: " + line);
        String[] fields = line.split(" ");
        Path state = Path.of(fields[1]);
        List<Long> pids = List.of(Long.parseLong(fields[2]), Long.parseLong(fields[3]), Long.parseLong(fields[4]));
        String netns = fields[5];
        for (long pid : pids) {
            assertTrue(
                    ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
                    "process " + pid + " died with its owner");
        }

        int cleaned = LibvirtTestBed.cleanupLeftovers();

        assertTrue(cleaned >= 1, "cleaned " + cleaned);
        for (long pid : pids) {
            assertFalse(
                    ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false),
                    "process " + pid + " survived the cleanup");
        }
        assertFalse(Files.exists(state), state + " survived the cleanup");
        assertFalse(Netns.exists(netns), "network namespace " + netns + " survived the cleanup");
        assertEquals(0, LibvirtHost.cleanupLeftovers(), "a second cleanup found more");
    }
}
