package io.dwcp.migration.stream;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** Big-endian reads over a byte array. */
final class Bytes {
    private static final VarHandle BE32 = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle BE64 = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);

    private Bytes() {}

    static int be16(byte[] a, int p) {
        return ((a[p] & 0xff) << 8) | (a[p + 1] & 0xff);
    }

    static int be32(byte[] a, int p) {
        return (int) BE32.get(a, p);
    }

    static long be64(byte[] a, int p) {
        return (long) BE64.get(a, p);
    }

    static String hex(long value, int bytes) {
        return String.format("0x%0" + (bytes * 2) + "x", value);
    }
}
