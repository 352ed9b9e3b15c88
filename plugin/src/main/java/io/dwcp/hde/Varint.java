package io.dwcp.hde;

/** Unsigned LEB128 varints (7 bits per byte, low bits first, high bit = more), at most 9 bytes (63 bits: every field fits). */
final class Varint {
    static final int MAX_LENGTH = 9;

    private Varint() {}

    static int write(byte[] out, int offset, long value) {
        while ((value & ~0x7fL) != 0) {
            out[offset++] = (byte) ((value & 0x7f) | 0x80);
            value >>>= 7;
        }
        out[offset++] = (byte) value;
        return offset;
    }

    static int length(long value) {
        int n = 1;
        while ((value & ~0x7fL) != 0) {
            value >>>= 7;
            n++;
        }
        return n;
    }

    /**
     * Reads a varint in {@code [offset, end)}; -1 if it runs past {@code end}, is longer than 9 bytes
     * or above {@link Long#MAX_VALUE} (no field needs more), or is not in its shortest form.
     */
    static long read(byte[] in, int offset, int end) {
        long value = 0;
        for (int i = 0; i < 9; i++) {
            if (offset + i >= end) {
                return -1;
            }
            int b = in[offset + i] & 0xff;
            value |= (long) (b & 0x7f) << (7 * i);
            if ((b & 0x80) == 0) {
                if (b == 0 && i > 0) {
                    return -1;
                }
                return value;
            }
        }
        return -1;
    }
}
