package io.dwcp.testbed.qemu;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The two QEMU versions the test bed drives: Debian 12's packaged 7.2 and the 10.x from
 * bookworm-backports unpacked beside it by {@code tests/setup/install-deps.sh}.
 * The locations can be overridden with {@code -Ddwcp.qemu72=PATH} and {@code -Ddwcp.qemu10.dir=DIR}.
 */
public enum QemuBinary {
    QEMU_7_2("7.2"),
    QEMU_10("10");

    private final String label;

    QemuBinary(String label) {
        this.label = label;
    }

    /** The name used on command lines and in results: {@code 7.2} or {@code 10}. */
    public String label() {
        return label;
    }

    public static QemuBinary fromLabel(String label) {
        for (QemuBinary binary : values()) {
            if (binary.label.equals(label) || binary.name().equalsIgnoreCase(label)) {
                return binary;
            }
        }
        throw new IllegalArgumentException("unknown QEMU version '" + label + "' (expected 7.2 or 10)");
    }

    /** Whether guests need the kernel option {@code pti=on nopcid} against 7.2's TCG dirty-bitmap bug (FACTS.md). */
    public boolean needsTcgDirtyBitmapWorkaround() {
        return this == QEMU_7_2;
    }

    private static Path qemu10Dir() {
        return Path.of(System.getProperty("dwcp.qemu10.dir", "/opt/dwcp/qemu-10"));
    }

    public Path executable() {
        return switch (this) {
            case QEMU_7_2 -> Path.of(System.getProperty("dwcp.qemu72", "/usr/bin/qemu-system-x86_64"));
            case QEMU_10 -> qemu10Dir().resolve("usr/bin/qemu-system-x86_64");
        };
    }

    /** The command that starts this QEMU, with the firmware search path an unpacked build needs. */
    public List<String> command() {
        List<String> argv = new ArrayList<>();
        argv.add(executable().toString());
        switch (this) {
            case QEMU_7_2 -> {}
            case QEMU_10 -> {
                argv.add("-L");
                argv.add(qemu10Dir().resolve("usr/share/qemu").toString());
                argv.add("-L");
                argv.add(qemu10Dir().resolve("usr/share/seabios").toString());
            }
        }
        return argv;
    }

    /** Fails with what to run when this QEMU is not installed. */
    public void requireInstalled() {
        if (!Files.isExecutable(executable())) {
            throw new IllegalStateException("QEMU " + label + " is not installed at " + executable()
                    + ": run tests/setup/install-deps.sh as root");
        }
    }
}
