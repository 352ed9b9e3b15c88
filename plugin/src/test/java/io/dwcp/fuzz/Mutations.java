package io.dwcp.fuzz;

import java.util.Arrays;
import java.util.Random;

/** Byte-level mutations shared by the seeded fuzz tests at the network boundary (AMST frames, HDE frames). */
public final class Mutations {
    private Mutations() {}

    /** The first 0..length bytes. */
    public static byte[] truncate(Random random, byte[] bytes) {
        return Arrays.copyOf(bytes, random.nextInt(bytes.length + 1));
    }

    /** The bytes followed by 1..maxExtra random bytes. */
    public static byte[] extend(Random random, byte[] bytes, int maxExtra) {
        byte[] longer = Arrays.copyOf(bytes, bytes.length + 1 + random.nextInt(maxExtra));
        for (int i = bytes.length; i < longer.length; i++) {
            longer[i] = (byte) random.nextInt(256);
        }
        return longer;
    }

    /** A slice of 1..maxSlice bytes written twice in a row (a repeated field or record); empty input stays as is. */
    public static byte[] repeatSlice(Random random, byte[] bytes, int maxSlice) {
        if (bytes.length == 0) {
            return bytes;
        }
        int from = random.nextInt(bytes.length);
        int length = 1 + random.nextInt(Math.min(maxSlice, bytes.length - from));
        byte[] repeated = new byte[bytes.length + length];
        System.arraycopy(bytes, 0, repeated, 0, from + length);
        System.arraycopy(bytes, from, repeated, from + length, bytes.length - from);
        return repeated;
    }
}
