package io.dwcp.testbed.libvirt;

import static java.util.Objects.requireNonNull;

import io.dwcp.testbed.qemu.Accelerator;
import io.dwcp.testbed.qemu.QemuBinary;
import java.nio.file.Path;

/**
 * The libvirt domain of a test guest: direct kernel boot of {@link io.dwcp.testbed.guest.GuestImage}'s
 * kernel and initramfs, one vCPU, one RAM backend, no disk, no network, and the serial console on a
 * unix socket QEMU listens on (what {@link io.dwcp.testbed.guest.GuestConsole} reads). TCG domains
 * ({@code type='qemu'}) use the {@code qemu64} CPU as the rest of the test bed does; KVM ones
 * {@code host-passthrough}. A panic, oops or reboot ends the domain ({@code on_*=destroy}).
 *
 * <p>QEMU 10 is an unpacked build: its firmware folders are passed with {@code <qemu:commandline>}.
 */
public record LibvirtDomainXml(
        String name,
        QemuBinary qemu,
        Accelerator accelerator,
        int memoryMiB,
        Path kernel,
        Path initrd,
        String kernelCommandLine,
        String consoleSocket) {
    public LibvirtDomainXml {
        requireNonNull(name, "name is null");
        requireNonNull(qemu, "qemu is null");
        requireNonNull(accelerator, "accelerator is null");
        requireNonNull(kernel, "kernel is null");
        requireNonNull(initrd, "initrd is null");
        requireNonNull(kernelCommandLine, "kernelCommandLine is null");
        requireNonNull(consoleSocket, "consoleSocket is null");
        if (memoryMiB < 16) {
            throw new IllegalArgumentException("memoryMiB must be at least 16, not " + memoryMiB);
        }
        if (!consoleSocket.startsWith("/")) {
            throw new IllegalArgumentException("consoleSocket must be an absolute path: " + consoleSocket);
        }
    }

    /** The domain XML. */
    public String toXml() {
        boolean kvm = accelerator == Accelerator.KVM;
        StringBuilder xml = new StringBuilder();
        xml.append("<domain type='").append(kvm ? "kvm" : "qemu").append('\'');
        if (qemu == QemuBinary.QEMU_10) {
            xml.append(" xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'");
        }
        xml.append(">\n");
        xml.append("  <name>").append(escape(name)).append("</name>\n");
        xml.append("  <memory unit='MiB'>").append(memoryMiB).append("</memory>\n");
        xml.append("  <vcpu>1</vcpu>\n");
        xml.append("  <os>\n");
        xml.append("    <type arch='x86_64' machine='pc'>hvm</type>\n");
        xml.append("    <kernel>").append(escape(kernel.toString())).append("</kernel>\n");
        xml.append("    <initrd>").append(escape(initrd.toString())).append("</initrd>\n");
        xml.append("    <cmdline>").append(escape(kernelCommandLine)).append("</cmdline>\n");
        xml.append("  </os>\n");
        if (kvm) {
            xml.append("  <cpu mode='host-passthrough' check='none'/>\n");
        } else {
            xml.append(
                    "  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>qemu64</model></cpu>\n");
        }
        xml.append("  <on_poweroff>destroy</on_poweroff>\n");
        xml.append("  <on_reboot>destroy</on_reboot>\n");
        xml.append("  <on_crash>destroy</on_crash>\n");
        xml.append("  <devices>\n");
        xml.append("    <emulator>")
                .append(escape(qemu.executable().toString()))
                .append("</emulator>\n");
        xml.append("    <serial type='unix'>\n");
        xml.append("      <source mode='bind' path='")
                .append(escape(consoleSocket))
                .append("'/>\n");
        xml.append("      <target port='0'/>\n");
        xml.append("    </serial>\n");
        xml.append("    <controller type='usb' model='none'/>\n");
        xml.append("    <memballoon model='none'/>\n");
        xml.append("  </devices>\n");
        if (qemu == QemuBinary.QEMU_10) {
            xml.append("  <qemu:commandline>\n");
            // the firmware search path of the unpacked build (QemuBinary.command() without the executable)
            for (String argument : qemu.command().subList(1, qemu.command().size())) {
                xml.append("    <qemu:arg value='").append(escape(argument)).append("'/>\n");
            }
            xml.append("  </qemu:commandline>\n");
        }
        xml.append("</domain>\n");
        return xml.toString();
    }

    static String escape(String text) {
        StringBuilder escaped = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> escaped.append("&amp;");
                case '<' -> escaped.append("&lt;");
                case '>' -> escaped.append("&gt;");
                case '\'' -> escaped.append("&apos;");
                case '"' -> escaped.append("&quot;");
                default -> escaped.append(c);
            }
        }
        return escaped.toString();
    }
}
