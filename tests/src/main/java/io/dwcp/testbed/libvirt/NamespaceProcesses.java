package io.dwcp.testbed.libvirt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Processes by the namespace they live in: how a libvirt host finds what runs inside it
 * (libvirtd and virtlogd entered it through nsenter, QEMU was started by libvirtd), since none of
 * them has a command line the test bed recorded.
 */
final class NamespaceProcesses {
    private static final Path PROC = Path.of("/proc");

    private NamespaceProcesses() {}

    /** The inode of process {@code pid}'s namespace of {@code type} ("mnt", "net", "uts"), if the process exists. */
    static OptionalLong namespaceInode(long pid, String type) {
        try {
            String link = Files.readSymbolicLink(
                            PROC.resolve(Long.toString(pid)).resolve("ns").resolve(type))
                    .toString();
            // "mnt:[4026532249]"
            int open = link.indexOf('[');
            int close = link.indexOf(']');
            if (open < 0 || close < open) {
                return OptionalLong.empty();
            }
            return OptionalLong.of(Long.parseLong(link.substring(open + 1, close)));
        } catch (IOException | NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** The pids of the processes in mount namespace {@code inode} whose command line matches {@code filter}. */
    static List<Long> inMountNamespace(long inode, Predicate<String> filter) {
        List<Long> pids = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(PROC)) {
            for (Path entry : entries) {
                long pid;
                try {
                    pid = Long.parseLong(entry.getFileName().toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                OptionalLong namespace = namespaceInode(pid, "mnt");
                if (namespace.isPresent() && namespace.getAsLong() == inode && filter.test(commandLine(pid))) {
                    pids.add(pid);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot list " + PROC + ": " + e, e);
        }
        return pids;
    }

    /** The command line of {@code pid}, arguments separated by spaces ("" when gone). */
    static String commandLine(long pid) {
        try {
            byte[] raw = Files.readAllBytes(PROC.resolve(Long.toString(pid)).resolve("cmdline"));
            return new String(raw, StandardCharsets.UTF_8).replace('\0', ' ').strip();
        } catch (IOException e) {
            return "";
        }
    }

    /** SIGKILLs {@code pids} and waits (up to 10 s each) until they are gone. */
    static void kill(List<Long> pids) {
        for (long pid : pids) {
            ProcessHandle.of(pid).ifPresent(handle -> {
                handle.destroyForcibly();
                handle.onExit()
                        .orTimeout(10, TimeUnit.SECONDS)
                        .exceptionally(t -> handle)
                        .join();
            });
        }
    }
}
