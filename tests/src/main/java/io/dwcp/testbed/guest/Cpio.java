package io.dwcp.testbed.guest;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.Set;

/**
 * Writes a cpio archive in the "newc" format the kernel unpacks as an initramfs, without the cpio
 * tool and without root: device nodes are just headers. Times are 0 and owners root, so the same
 * entries give the same bytes.
 *
 * <pre>
 * entry   = header name NUL pad4 data pad4
 * header  = "070701" ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor
 *           namesize check          (each field 8 uppercase hex digits; namesize counts the NUL)
 * archive = entry* trailer          (trailer: an entry named "TRAILER!!!", all fields 0 but nlink 1)
 * </pre>
 * Padding is to a multiple of 4 bytes from the start of the archive.
 */
final class Cpio {
    static final int S_IFDIR = 0040000;
    static final int S_IFREG = 0100000;
    static final int S_IFCHR = 0020000;

    private final OutputStream out;
    private final Set<String> names = new HashSet<>();
    private long written;
    private int nextInode = 1;

    Cpio(OutputStream out) {
        this.out = requireNonNull(out, "out is null");
    }

    void directory(String name, int permissions) throws IOException {
        entry(name, S_IFDIR | permissions, 2, 0, 0, new byte[0]);
    }

    void file(String name, int permissions, byte[] content) throws IOException {
        entry(name, S_IFREG | permissions, 1, 0, 0, content);
    }

    void characterDevice(String name, int permissions, int major, int minor) throws IOException {
        entry(name, S_IFCHR | permissions, 1, major, minor, new byte[0]);
    }

    /** Writes the trailer; the archive is complete after it. Does not close the stream. */
    void finish() throws IOException {
        header("TRAILER!!!", 0, 0, 1, 0, 0, 0);
        out.flush();
    }

    private void entry(String name, int mode, int links, int rdevMajor, int rdevMinor, byte[] content)
            throws IOException {
        if (name.isEmpty() || name.startsWith("/") || !names.add(name)) {
            throw new IllegalArgumentException("bad or repeated cpio entry name '" + name + "'");
        }
        header(name, nextInode++, mode, links, content.length, rdevMajor, rdevMinor);
        write(content);
        pad();
    }

    private void header(String name, int inode, int mode, int links, int size, int rdevMajor, int rdevMinor)
            throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.US_ASCII);
        ByteArrayOutputStream header = new ByteArrayOutputStream(110 + nameBytes.length + 4);
        header.writeBytes("070701".getBytes(StandardCharsets.US_ASCII));
        int[] fields = {inode, mode, 0, 0, links, 0, size, 0, 0, rdevMajor, rdevMinor, nameBytes.length + 1, 0};
        for (int field : fields) {
            header.writeBytes(String.format("%08X", field).getBytes(StandardCharsets.US_ASCII));
        }
        header.writeBytes(nameBytes);
        header.write(0);
        write(header.toByteArray());
        pad();
    }

    private void write(byte[] bytes) throws IOException {
        out.write(bytes);
        written += bytes.length;
    }

    private void pad() throws IOException {
        while (written % 4 != 0) {
            out.write(0);
            written++;
        }
    }
}
