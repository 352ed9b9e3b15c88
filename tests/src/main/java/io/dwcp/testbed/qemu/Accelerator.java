package io.dwcp.testbed.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * KVM where the host can run guests with it, TCG otherwise. A host whose CPU shows neither vmx
 * nor svm (for instance a PVM guest, where /dev/kvm exists but stock guest kernels hang) gets TCG.
 * {@code -Ddwcp.accel=kvm|tcg} forces one.
 */
public enum Accelerator {
    KVM(List.of("-accel", "kvm", "-cpu", "host")),
    TCG(List.of("-accel", "tcg,thread=multi", "-cpu", "qemu64"));

    private final List<String> arguments;

    Accelerator(List<String> arguments) {
        this.arguments = arguments;
    }

    public List<String> arguments() {
        return arguments;
    }

    public static Accelerator detect() {
        String forced = System.getProperty("dwcp.accel", "auto");
        switch (forced) {
            case "kvm":
                return KVM;
            case "tcg":
                return TCG;
            case "auto":
                break;
            default:
                throw new IllegalArgumentException("dwcp.accel must be kvm, tcg or auto, not '" + forced + "'");
        }
        if (!Files.isWritable(Path.of("/dev/kvm"))) {
            return TCG;
        }
        try {
            String cpuinfo = Files.readString(Path.of("/proc/cpuinfo"));
            boolean hardwareVirtualization = cpuinfo.lines()
                    .filter(line -> line.startsWith("flags"))
                    .anyMatch(line -> line.contains(" vmx") || line.contains(" svm"));
            return hardwareVirtualization ? KVM : TCG;
        } catch (IOException e) {
            return TCG;
        }
    }
}
