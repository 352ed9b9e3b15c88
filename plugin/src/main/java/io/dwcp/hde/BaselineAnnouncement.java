package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;

/**
 * What a destination tells the source at session start: which baseline it holds (an id) and the
 * exact set of page hashes in it, sorted. A sorted list rather than a Bloom filter: a reference is
 * one-way (the stream has no round trip to recover from a false positive), so the source must know
 * exactly. Its cost is 16 bytes per distinct 4 KiB page (0.4 %), e.g. 16 MiB for a 4 GiB VM, sent
 * once over the control connection; lookups are a binary search over two {@code long[]}s.
 *
 * <h2>Wire format ({@link #serialize}, {@link #parse})</h2>
 * <pre>
 * announcement = be32 magic 0x48444541 ("HDEA")  u8 version (1)  u16 count  count * baseline
 * baseline     = u16 idLength  id[idLength] (UTF-8)  be32 pages  pages * hash[16]   ; ascending, distinct
 * </pre>
 */
public final class BaselineAnnouncement {
    public static final int MAGIC = 0x48444541;
    public static final int VERSION = 1;

    private final String id;
    private final long[] high;
    private final long[] low;

    /** {@code high} and {@code low} hold the hashes in ascending unsigned order, distinct; not copied. */
    public BaselineAnnouncement(String id, long[] high, long[] low) {
        this.id = requireNonNull(id, "id is null");
        this.high = requireNonNull(high, "high is null");
        this.low = requireNonNull(low, "low is null");
        if (high.length != low.length) {
            throw new IllegalArgumentException("high and low differ in length");
        }
        for (int i = 1; i < high.length; i++) {
            if (compare(high[i - 1], low[i - 1], high[i], low[i]) >= 0) {
                throw new IllegalArgumentException(
                        "hashes of baseline " + id + " are not ascending and distinct at index " + i);
            }
        }
    }

    public static BaselineAnnouncement of(String id, Collection<PageHash> hashes) {
        PageHash[] sorted = hashes.stream().distinct().sorted().toArray(PageHash[]::new);
        long[] high = new long[sorted.length];
        long[] low = new long[sorted.length];
        for (int i = 0; i < sorted.length; i++) {
            high[i] = sorted[i].high();
            low[i] = sorted[i].low();
        }
        return new BaselineAnnouncement(id, high, low);
    }

    public String id() {
        return id;
    }

    public int pages() {
        return high.length;
    }

    public PageHash hash(int index) {
        return new PageHash(high[index], low[index]);
    }

    /** The hash's index in ascending order, or a negative number if absent. */
    public int indexOf(PageHash hash) {
        int lo = 0;
        int hi = high.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            int c = compare(high[mid], low[mid], hash.high(), hash.low());
            if (c < 0) {
                lo = mid + 1;
            } else if (c > 0) {
                hi = mid - 1;
            } else {
                return mid;
            }
        }
        return -1 - lo;
    }

    public boolean contains(PageHash hash) {
        return indexOf(hash) >= 0;
    }

    private static int compare(long high1, long low1, long high2, long low2) {
        int c = Long.compareUnsigned(high1, high2);
        return c != 0 ? c : Long.compareUnsigned(low1, low2);
    }

    public static byte[] serialize(List<BaselineAnnouncement> announcements) {
        if (announcements.size() > HdeFrame.MAX_BASELINES) {
            throw new IllegalArgumentException(
                    "at most " + HdeFrame.MAX_BASELINES + " baselines per session: " + announcements.size());
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeInt(MAGIC);
            out.writeByte(VERSION);
            out.writeShort(announcements.size());
            byte[] hash = new byte[PageHash.BYTES];
            for (BaselineAnnouncement announcement : announcements) {
                byte[] id = announcement.id.getBytes(StandardCharsets.UTF_8);
                out.writeShort(id.length);
                out.write(id);
                out.writeInt(announcement.pages());
                for (int i = 0; i < announcement.pages(); i++) {
                    Bytes.putLong(hash, 0, announcement.high[i]);
                    Bytes.putLong(hash, 8, announcement.low[i]);
                    out.write(hash);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("writing to memory", e);
        }
        return bytes.toByteArray();
    }

    /** Parses {@link #serialize}'s output; a malformed announcement throws, naming what is wrong. */
    public static List<BaselineAnnouncement> parse(byte[] bytes) throws BaselineStoreException {
        try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(bytes))) {
            int magic = in.readInt();
            if (magic != MAGIC) {
                throw new BaselineStoreException("baseline announcement: magic: expected 0x"
                        + Integer.toHexString(MAGIC) + ", found 0x" + Integer.toHexString(magic));
            }
            int version = in.readUnsignedByte();
            if (version != VERSION) {
                throw new BaselineStoreException(
                        "baseline announcement: version: expected " + VERSION + ", found " + version);
            }
            int count = in.readUnsignedShort();
            if (count > HdeFrame.MAX_BASELINES) {
                throw new BaselineStoreException("baseline announcement: count: expected at most "
                        + HdeFrame.MAX_BASELINES + ", found " + count);
            }
            List<BaselineAnnouncement> result = new ArrayList<>(count);
            byte[] hash = new byte[PageHash.BYTES];
            for (int b = 0; b < count; b++) {
                byte[] id = new byte[in.readUnsignedShort()];
                in.readFully(id);
                int pages = in.readInt();
                if (pages < 0 || (long) pages * PageHash.BYTES > in.available()) {
                    throw new BaselineStoreException("baseline announcement: pages of baseline " + b
                            + ": expected at most " + in.available() / PageHash.BYTES + " (the bytes left), found "
                            + Integer.toUnsignedString(pages));
                }
                long[] high = new long[pages];
                long[] low = new long[pages];
                for (int i = 0; i < pages; i++) {
                    in.readFully(hash);
                    high[i] = Bytes.getLong(hash, 0);
                    low[i] = Bytes.getLong(hash, 8);
                }
                try {
                    result.add(new BaselineAnnouncement(new String(id, StandardCharsets.UTF_8), high, low));
                } catch (IllegalArgumentException e) {
                    throw new BaselineStoreException("baseline announcement: " + e.getMessage());
                }
            }
            if (in.available() != 0) {
                throw new BaselineStoreException(
                        "baseline announcement: expected its end, found " + in.available() + " more bytes");
            }
            return result;
        } catch (EOFException e) {
            throw new BaselineStoreException("baseline announcement: truncated (" + bytes.length + " bytes)");
        } catch (BaselineStoreException e) {
            throw e;
        } catch (IOException e) {
            throw new IllegalStateException("reading from memory", e);
        }
    }

    @Override
    public String toString() {
        return "baseline " + id + " (" + pages() + " pages)";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BaselineAnnouncement other
                && id.equals(other.id)
                && Arrays.equals(high, other.high)
                && Arrays.equals(low, other.low);
    }

    @Override
    public int hashCode() {
        return id.hashCode() * 31 + Arrays.hashCode(low);
    }
}
