package io.dwcp.migration.stream;

/** Big-endian reads over a byte array. */
final class Bytes {
    private Bytes() {
    }

    static int be16(byte[] a, int p) {
        return ((a[p] & 0xff) << 8) | (a[p + 1] & 0xff);
    }

    static int be32(byte[] a, int p) {
        return ((a[p] & 0xff) << 24) | ((a[p + 1] & 0xff) << 16) | ((a[p + 2] & 0xff) << 8) | (a[p + 3] & 0xff);
    }

    static long be64(byte[] a, int p) {
        return ((long) be32(a, p) << 32) | (be32(a, p + 4) & 0xffffffffL);
    }

    static String hex(long value, int bytes) {
        return String.format("0x%0" + (bytes * 2) + "x", value);
    }
}
