package io.dwcp.testbed.libvirt;

import io.dwcp.testbed.guest.GuestImage;
import io.dwcp.testbed.qemu.Accelerator;
import io.dwcp.testbed.qemu.QemuBinary;
import io.dwcp.testbed.wan.LinkProfile;

/**
 * A libvirt test bed user that crashes: builds a network and one libvirt host with a paused
 * domain, prints {@code UP <state folder> <libvirtd pid> <virtlogd pid> <QEMU pid> <netns>} and
 * waits to be killed (by {@link LibvirtLeftoversIT}, with SIGKILL, so that neither close() nor the
 * shutdown hooks run).
 */
public final class LibvirtOwnerMain {
    private LibvirtOwnerMain() {}

    public static void main(String[] args) throws Exception {
        var network = io.dwcp.testbed.net.TwoHostNetwork.create("lvcrash", LinkProfile.direct(), LinkProfile.direct());
        LibvirtHost host = LibvirtHost.start(network.hostA(), "crash");
        GuestImage image = GuestImage.build();
        String domain = LibvirtHost.domainName("crash");
        host.createPaused(new LibvirtDomainXml(
                domain,
                QemuBinary.QEMU_7_2,
                Accelerator.TCG,
                64,
                image.kernel(),
                image.initrd(),
                "console=ttyS0",
                LibvirtHost.consoleSocketInside(domain)));
        String qemuPid = java.nio.file.Files.readString(host.outside("/run/libvirt/qemu/" + domain + ".pid"))
                .strip();
        String libvirtdPid = java.nio.file.Files.readString(
                        host.stateDirectory().resolve("libvirtd.pid"))
                .strip();
        String virtlogdPid = java.nio.file.Files.readString(
                        host.stateDirectory().resolve("virtlogd.pid"))
                .strip();
        System.out.println("UP " + host.stateDirectory() + " " + libvirtdPid + " " + virtlogdPid + " " + qemuPid + " "
                + network.hostA().netns());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
