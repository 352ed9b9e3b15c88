package io.dwcp.testbed.libvirt;

import io.dwcp.testbed.guest.GuestImage;
import io.dwcp.testbed.guest.WorkloadSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Builds the test guest ({@link GuestImage}) and copies its kernel and initramfs to a folder, for
 * hosts that are not this machine (vagrant/: each KVM host needs them at the same path, since a
 * direct-kernel-boot domain names them). Prints the kernel command line of a light workload.
 *
 * <pre>java -cp tests/target/classes:tests/target/lib/* io.dwcp.testbed.libvirt.GuestImageMain DIR</pre>
 */
public final class GuestImageMain {
    private GuestImageMain() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 1 || args[0].startsWith("-")) {
            System.err.println(
                    "usage: GuestImageMain DIR   (copies vmlinuz and initrd.img of the test guest into DIR)");
            System.exit(2);
        }
        Path target = Path.of(args[0]);
        Files.createDirectories(target);
        GuestImage image = GuestImage.build();
        Files.copy(image.kernel(), target.resolve("vmlinuz"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(image.initrd(), target.resolve("initrd.img"), StandardCopyOption.REPLACE_EXISTING);
        System.out.println(image.kernelCommandLine(new WorkloadSpec(256, 5_000, 10, 1), false));
    }
}
