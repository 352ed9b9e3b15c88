package io.dwcp.migration.stream;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/** Builds wire bytes field by field, for golden-byte tests. */
final class Wire {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Wire u8(int v) {
        out.write(v);
        return this;
    }

    Wire be16(int v) {
        return u8(v >>> 8).u8(v);
    }

    Wire be32(long v) {
        return be16((int) (v >>> 16)).be16((int) v);
    }

    Wire be64(long v) {
        return be32(v >>> 32).be32(v);
    }

    /** Characters as bytes, no length. */
    Wire ascii(String s) {
        out.writeBytes(s.getBytes(StandardCharsets.ISO_8859_1));
        return this;
    }

    /** {@code u8 len, chars}: how QEMU writes an idstr. */
    Wire name(String s) {
        return u8(s.length()).ascii(s);
    }

    /** {@code s} NUL-padded to {@code size} bytes: a multifd ramblock or idstr field. */
    Wire padded(String s, int size) {
        ascii(s);
        return fill(size - s.length(), 0);
    }

    Wire fill(int n, int v) {
        for (int i = 0; i < n; i++) {
            out.write(v);
        }
        return this;
    }

    Wire bytes(byte[] b) {
        out.writeBytes(b);
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] toBytes() {
        return out.toByteArray();
    }
}
