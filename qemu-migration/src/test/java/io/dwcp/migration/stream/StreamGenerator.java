package io.dwcp.migration.stream;

import java.util.Random;

/** Random well-formed channels (main and multifd), small, for the seeded round-trip tests. */
final class StreamGenerator {
    private static final String[] DEVICES = {"timer", "cpu_common", "cpu", "apic", "fw_cfg", "0000:00:01.1/ide", "i8259"
    };
    private static final String[] BLOCKS = {"pc.ram", "pc.bios", "/rom@etc/acpi/tables", "vga.vram"};
    private final Random random;
    /** What the last generated channel holds: pages, zero pages, XBZRLE pages, compressed pages. */
    long pages;

    long zeroPages;
    long xbzrlePages;
    long compressedPages;

    StreamGenerator(Random random) {
        this.random = random;
    }

    byte[] mainChannel() {
        pages = zeroPages = xbzrlePages = compressedPages = 0;
        Wire w = new Wire().ascii("QEVM").be32(3);
        boolean ignoreShared = false;
        if (random.nextInt(4) > 0) {
            String machine = "pc-i440fx-" + random.nextInt(11) + "." + random.nextInt(3);
            w.u8(0x07).be32(machine.length()).ascii(machine);
            switch (random.nextInt(4)) {
                case 0 ->
                    w.u8(0x05).name("configuration/target-page-bits").be32(1).be32(12);
                case 1 -> {
                    ignoreShared = random.nextBoolean();
                    w.u8(0x05)
                            .name("configuration/capabilities")
                            .be32(1)
                            .be32(1)
                            .name(ignoreShared ? "x-ignore-shared" : "validate-uuid");
                }
                case 2 -> w.u8(0x05).name("configuration/uuid").be32(1).fill(16, random.nextInt(256));
                default -> {}
            }
        }
        int ram = 1 + random.nextInt(3);
        int blocks = 1 + random.nextInt(3);
        long[] sizes = new long[blocks];
        long total = 0;
        for (int i = 0; i < blocks; i++) {
            sizes[i] = (1 + random.nextInt(64)) * 4096L;
            total += sizes[i];
        }
        w.u8(0x01).be32(ram).name("ram").be32(0).be32(4).be64(total | 0x04);
        for (int i = 0; i < blocks; i++) {
            w.name(BLOCKS[i]).be64(sizes[i]);
            if (ignoreShared) {
                w.be64(0x100000000L * (i + 1));
            }
        }
        w.be64(0x10).u8(0x7e).be32(ram);
        int items = random.nextInt(8);
        int nextDevice = ram + 1;
        for (int i = 0; i < items; i++) {
            switch (random.nextInt(3)) {
                case 0 -> {
                    w.u8(0x02).be32(ram);
                    ramRecords(w, blocks);
                    w.be64(0x10).u8(0x7e).be32(ram);
                }
                case 1 -> device(w, nextDevice++);
                default -> w.u8(0x08).be16(1 + random.nextInt(12)).be16(0);
            }
        }
        w.u8(0x03).be32(ram);
        ramRecords(w, blocks);
        w.be64(0x10).u8(0x7e).be32(ram);
        for (int i = random.nextInt(4); i > 0; i--) {
            device(w, nextDevice++);
        }
        w.u8(0x00);
        String json = "{\"page_size\": 4096, \"devices\": [" + random.nextInt(1000) + "]}";
        w.u8(0x06).be32(json.length()).ascii(json);
        return w.toBytes();
    }

    private void ramRecords(Wire w, int blocks) {
        boolean named = false;
        for (int n = random.nextInt(5); n > 0; n--) {
            int kind = random.nextInt(5);
            if (kind == 4) {
                w.be64(0x200);
                continue;
            }
            boolean continued = named && random.nextBoolean();
            long offset = random.nextInt(64) * 4096L;
            int flags = new int[] {0x08, 0x02, 0x40, 0x100}[kind] | (continued ? 0x20 : 0);
            w.be64(offset | flags);
            if (!continued) {
                w.name(BLOCKS[random.nextInt(blocks)]);
                named = true;
            }
            switch (kind) {
                case 0 -> {
                    w.bytes(content(4096));
                    pages++;
                }
                case 1 -> {
                    w.u8(0);
                    zeroPages++;
                }
                case 2 -> {
                    int n2 = random.nextInt(200);
                    w.u8(1).be16(n2).bytes(content(n2));
                    xbzrlePages++;
                }
                default -> {
                    int n3 = random.nextInt(300);
                    w.be32(n3).bytes(content(n3));
                    compressedPages++;
                }
            }
        }
    }

    private void device(Wire w, int id) {
        w.u8(0x04)
                .be32(id)
                .name(DEVICES[random.nextInt(DEVICES.length)])
                .be32(random.nextInt(4))
                .be32(1 + random.nextInt(20));
        int n = random.nextInt(200);
        byte[] data = content(n);
        w.bytes(data);
        if (random.nextInt(3) == 0) {
            // a footer look-alike inside the data, followed by a byte no item starts with
            w.u8(0x7e).be32(id).u8(0xff).bytes(content(random.nextInt(20)));
        }
        w.u8(0x7e).be32(id);
    }

    byte[] multifdChannel() {
        pages = zeroPages = xbzrlePages = compressedPages = 0;
        Wire w = new Wire()
                .be32(0x11223344)
                .be32(1)
                .bytes(content(16))
                .u8(random.nextInt(8))
                .fill(7, 0)
                .fill(32, 0);
        for (int n = random.nextInt(6); n > 0; n--) {
            switch (random.nextInt(5)) {
                case 0 -> packet(w, 1, 0, 0, random.nextInt(1 << 19), 0); // SYNC, stale size
                case 1 -> {
                    int normal = random.nextInt(3);
                    int zero = random.nextInt(4);
                    packet(w, random.nextInt(2), normal, zero, normal * 4096, normal);
                    w.bytes(content(normal * 4096));
                    pages += normal;
                    zeroPages += zero;
                }
                case 2 -> {
                    int size = random.nextInt(500);
                    int normal = 1 + random.nextInt(3);
                    packet(w, 4, normal, 0, size, 1);
                    w.bytes(content(size));
                    compressedPages += normal;
                }
                case 3 -> {
                    int size = random.nextInt(300);
                    w.be32(0x11223344)
                            .be32(1)
                            .be32(0x40)
                            .padded("0000:00:05.0/vfio", 256)
                            .be32(0)
                            .be32(size)
                            .bytes(content(size));
                }
                default -> { // zero pages only
                    int zero = random.nextInt(5);
                    packet(w, 0, 0, zero, 0, 0);
                    zeroPages += zero;
                }
            }
        }
        return w.toBytes();
    }

    private void packet(Wire w, int flags, int normal, int zero, int nextPacketSize, int unused) {
        w.be32(0x11223344)
                .be32(1)
                .be32(flags)
                .be32(128)
                .be32(normal)
                .be32(nextPacketSize)
                .be64(random.nextInt(1000))
                .be32(zero)
                .be32(0)
                .fill(24, 0)
                .padded(BLOCKS[random.nextInt(BLOCKS.length)], 256);
        for (int i = 0; i < 128; i++) {
            w.be64(i < normal + zero ? random.nextInt(1 << 16) * 4096L : 0);
        }
    }

    /** Content with a taste of stream structure in it: zeros, magics, footer-like bytes, random. */
    byte[] content(int n) {
        byte[] b = new byte[n];
        switch (random.nextInt(4)) {
            case 0 -> {}
            case 1 -> random.nextBytes(b);
            default -> {
                for (int i = 0; i < n; i++) {
                    b[i] = (byte) new int[] {
                                0,
                                0x7e,
                                0x01,
                                0x02,
                                0x03,
                                0x04,
                                0x06,
                                0x08,
                                0x10,
                                0x11,
                                0x22,
                                0x33,
                                0x44,
                                'Q',
                                'E',
                                'V',
                                'M',
                                random.nextInt(256)
                            }
                            [random.nextInt(18)];
                }
            }
        }
        return b;
    }
}
