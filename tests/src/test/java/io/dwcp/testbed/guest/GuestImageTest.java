package io.dwcp.testbed.guest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GuestImageTest {
    @Test
    void commandLineCarriesTheWorkloadAndTheWorkaroundOnlyWhenAsked() {
        assertEquals(
                "console=ttyS0 panic=-1 oops=panic quiet loglevel=3 dwcp.mem=512 dwcp.rate=5000 dwcp.hot=10"
                        + " dwcp.seed=1",
                GuestImage.commandLine(WorkloadSpec.light(), false));
        assertEquals(
                "console=ttyS0 panic=-1 oops=panic quiet loglevel=3 dwcp.mem=512 dwcp.rate=40000 dwcp.hot=25"
                        + " dwcp.seed=1 pti=on nopcid",
                GuestImage.commandLine(WorkloadSpec.heavy(), true));
        assertEquals(
                "console=ttyS0 panic=-1 oops=panic quiet loglevel=3 dwcp.mem=64 dwcp.rate=0 dwcp.hot=0"
                        + " dwcp.seed=99",
                GuestImage.commandLine(new WorkloadSpec(64, 0, 0, 99), false));
        assertEquals(
                "console=ttyS0 panic=-1 oops=panic quiet loglevel=3 dwcp.program=sqlite dwcp.mem=256 dwcp.rate=300"
                        + " dwcp.hot=0 dwcp.seed=1",
                GuestImage.commandLine(WorkloadSpec.app(), false));
    }

    @Test
    void specsAreValidated() {
        assertEquals(131072, WorkloadSpec.light().pages());
        assertEquals(16384, WorkloadSpec.heavy().withMemoryMiB(64).pages());
        assertThrows(IllegalArgumentException.class, () -> new WorkloadSpec(0, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new WorkloadSpec(64, -1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> new WorkloadSpec(64, 1, 101, 1));
        assertThrows(IllegalArgumentException.class, () -> new WorkloadSpec(64, 1, 1, -1));
    }

    @Test
    void kernelVersionsCompareAsNumbers() {
        assertTrue(GuestImage.versionKey("vmlinuz-6.1.0-56-cloud-amd64")
                        .compareTo(GuestImage.versionKey("vmlinuz-6.1.0-9-cloud-amd64"))
                > 0);
        assertTrue(GuestImage.versionKey("vmlinuz-6.10.0-1-cloud-amd64")
                        .compareTo(GuestImage.versionKey("vmlinuz-6.9.0-1-cloud-amd64"))
                > 0);
    }

    @Test
    void cacheKeyChangesWithEveryInput() {
        byte[] kernel = {1, 2, 3};
        byte[] busybox = {4, 5};
        byte[] workload = "int main(){}".getBytes(StandardCharsets.UTF_8);
        byte[] init = "#!/bin/sh".getBytes(StandardCharsets.UTF_8);
        byte[] app = "int main(){return 1;}".getBytes(StandardCharsets.UTF_8);
        byte[] corpus = "GNU GENERAL PUBLIC LICENSE".getBytes(StandardCharsets.UTF_8);
        byte[] header = "static void say(void);".getBytes(StandardCharsets.UTF_8);
        String key = GuestImage.cacheKey(kernel, busybox, workload, init, app, corpus, header);
        assertEquals(64, key.length());
        assertEquals(key, GuestImage.cacheKey(kernel, busybox, workload, init, app, corpus, header));
        assertNotEquals(key, GuestImage.cacheKey(busybox, kernel, workload, init, app, corpus, header));
        assertNotEquals(key, GuestImage.cacheKey(kernel, busybox, init, workload, app, corpus, header));
        assertNotEquals(key, GuestImage.cacheKey(new byte[] {1, 2, 4}, busybox, workload, init, app, corpus, header));
        assertNotEquals(key, GuestImage.cacheKey(kernel, busybox, workload, init, workload, corpus, header));
        assertNotEquals(key, GuestImage.cacheKey(kernel, busybox, workload, init, app, new byte[] {'G'}, header));
        assertNotEquals(key, GuestImage.cacheKey(kernel, busybox, workload, init, app, corpus, init));
        // lengths are part of the key: moving a byte from one input to the next changes it
        assertNotEquals(
                key, GuestImage.cacheKey(new byte[] {1, 2}, new byte[] {3, 4, 5}, workload, init, app, corpus, header));
    }

    @Test
    void fileDigestIsRememberedAndRenewedWhenTheFileChanges(@TempDir Path dir) throws Exception {
        Path cache = dir.resolve("cache");
        Path file = Files.write(dir.resolve("vmlinuz"), new byte[] {1, 2, 3});
        byte[] first = GuestImage.fileDigest(file, cache);
        assertArrayEquals(GuestImage.contentDigest(file), first);
        assertArrayEquals(first, GuestImage.fileDigest(file, cache));
        try (var memos = Files.list(cache.resolve(".digests"))) {
            assertEquals(1, memos.count());
        }
        Files.write(file, new byte[] {1, 2, 3, 4});
        assertArrayEquals(GuestImage.contentDigest(file), GuestImage.fileDigest(file, cache));
    }

    @Test
    void dynamicElfIsRecognisedByItsInterpreter(@TempDir Path dir) throws Exception {
        assertTrue(GuestImage.isDynamicElf(Files.write(dir.resolve("dynamic"), elf(1, 3))));
        assertFalse(GuestImage.isDynamicElf(Files.write(dir.resolve("static"), elf(1, 6))));
        Path notElf =
                Files.write(dir.resolve("script"), "#!/bin/sh\n".repeat(10).getBytes(StandardCharsets.US_ASCII));
        assertThrows(IllegalStateException.class, () -> GuestImage.isDynamicElf(notElf));
        assertThrows(
                IllegalStateException.class,
                () -> GuestImage.requireStaticBusybox(Files.write(dir.resolve("busybox"), elf(1, 3))));
    }

    /** An ELF64 header followed by program headers of the given types (PT_LOAD = 1, PT_INTERP = 3, PT_GNU_STACK = 6...). */
    private static byte[] elf(int... types) {
        ByteBuffer b = ByteBuffer.allocate(64 + 56 * types.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(0, 0x464c457f); // \x7fELF
        b.put(4, (byte) 2); // ELFCLASS64
        b.putLong(0x20, 64); // e_phoff
        b.putShort(0x36, (short) 56); // e_phentsize
        b.putShort(0x38, (short) types.length); // e_phnum
        for (int i = 0; i < types.length; i++) {
            b.putInt(64 + 56 * i, types[i]); // p_type
        }
        return b.array();
    }

    @Test
    void cpioNewcEntriesArePaddedAndEndWithTheTrailer() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Cpio cpio = new Cpio(bytes);
        cpio.directory("dev", 0755);
        cpio.characterDevice("dev/console", 0600, 5, 1);
        cpio.file("init", 0755, "ab".getBytes(StandardCharsets.US_ASCII));
        cpio.finish();
        String archive = bytes.toString(StandardCharsets.ISO_8859_1);
        String dev = "070701"
                + "00000001" // ino
                + "000041ED" // mode: directory 0755
                + "00000000" + "00000000" // uid, gid
                + "00000002" // nlink
                + "00000000" // mtime
                + "00000000" // filesize
                + "00000000" + "00000000" // devmajor, devminor
                + "00000000" + "00000000" // rdevmajor, rdevminor
                + "00000004" // namesize, with the NUL
                + "00000000" // check
                + "dev\0"; // 110 + 4 = 114 bytes: padded to 116
        assertEquals(dev + "\0\0", archive.substring(0, 116));
        String console = archive.substring(116, 116 + 110 + 12);
        assertEquals(
                "070701"
                        + "00000002" // ino
                        + "00002180" // mode: character device 0600
                        + "00000000" + "00000000" // uid, gid
                        + "00000001" // nlink
                        + "00000000" + "00000000" // mtime, filesize
                        + "00000000" + "00000000" // devmajor, devminor
                        + "00000005" + "00000001" // rdev 5:1, /dev/console
                        + "0000000C" // namesize
                        + "00000000" // check
                        + "dev/console\0",
                console);
        int init = 116 + 124; // 110 + 12 = 122, padded to 124
        assertEquals("070701" + "00000003" + "000081ED", archive.substring(init, init + 22));
        assertEquals("init\0\0ab\0\0", archive.substring(init + 110, init + 120)); // name padded to 116, data to 120
        assertTrue(archive.substring(init + 120).startsWith("070701"));
        assertTrue(archive.substring(init + 120).contains("TRAILER!!!\0"));
        assertEquals(0, archive.length() % 4);
        assertThrows(IllegalArgumentException.class, () -> cpio.file("init", 0644, new byte[0]));
    }
}
