package io.dwcp.hde;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** Big-endian reads and writes in byte arrays, and the native-order word view used by XOR deltas. */
final class Bytes {
    private static final VarHandle LONG_BE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT_BE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle LONG_LE =
            MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

    private Bytes() {}

    static long getLong(byte[] bytes, int offset) {
        return (long) LONG_BE.get(bytes, offset);
    }

    static void putLong(byte[] bytes, int offset, long value) {
        LONG_BE.set(bytes, offset, value);
    }

    static int getInt(byte[] bytes, int offset) {
        return (int) INT_BE.get(bytes, offset);
    }

    static void putInt(byte[] bytes, int offset, int value) {
        INT_BE.set(bytes, offset, value);
    }

    /** A little-endian word: the byte order does not matter for XOR, little-endian is the CPU's. */
    static long getWord(byte[] bytes, int offset) {
        return (long) LONG_LE.get(bytes, offset);
    }

    static void putWord(byte[] bytes, int offset, long value) {
        LONG_LE.set(bytes, offset, value);
    }
}
