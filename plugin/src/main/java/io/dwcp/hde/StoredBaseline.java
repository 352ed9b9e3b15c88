package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import java.io.Closeable;
import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A baseline file opened for a migration: its hashes in memory, its pages read on demand. It stays
 * in the store until closed. Thread-safe (positional reads).
 */
public final class StoredBaseline implements Baseline, Closeable {
    private final BaselineStore store;
    private final FileChannel channel;
    private final Path file;
    private final BaselineAnnouncement announcement;
    // where the contents start
    private final long contentsAt;
    // a version 3 file's place of each hash's content in the contents (null: in the order of hashes)
    private final int[] places;
    // where the address section starts, -1 for a version 1 file (none)
    private final long addressSection;
    // read on first use: block name -> ascending (page number << 32 | hash index), 8 bytes a page
    private Map<String, long[]> addresses;
    private boolean closed;

    StoredBaseline(
            BaselineStore store,
            FileChannel channel,
            Path file,
            BaselineAnnouncement announcement,
            long contentsAt,
            int[] places,
            long addressSection) {
        this.store = requireNonNull(store, "store is null");
        this.channel = requireNonNull(channel, "channel is null");
        this.file = requireNonNull(file, "file is null");
        this.announcement = requireNonNull(announcement, "announcement is null");
        this.contentsAt = contentsAt;
        this.places = places;
        this.addressSection = addressSection;
    }

    /** Whether the file says where its pages were in guest memory (a version 2 or 3 file). */
    public boolean hasAddresses() {
        return addressSection >= 0;
    }

    /**
     * The hash of the page this baseline holds at {@code offset} of RAM block {@code block}, or
     * {@code null} when it holds none there (a zero page, another VM's layout, a version 1 file).
     * The first call reads the file's address section (checked against its CRC).
     */
    public synchronized PageHash versionAt(String block, long offset) throws IOException {
        if (addressSection < 0) {
            return null;
        }
        if (addresses == null) {
            addresses = readAddresses();
        }
        long[] pages = addresses.get(block == null ? "" : block);
        if (pages == null || (offset & (HdeFrame.PAGE_SIZE - 1)) != 0) {
            return null;
        }
        long page = offset >>> 12;
        int lo = 0;
        int hi = pages.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            long found = pages[mid] >>> 32;
            if (found < page) {
                lo = mid + 1;
            } else if (found > page) {
                hi = mid - 1;
            } else {
                return announcement.hash((int) pages[mid]);
            }
        }
        return null;
    }

    private Map<String, long[]> readAddresses() throws IOException {
        long length = channel.size() - addressSection;
        if (length > Integer.MAX_VALUE - 16) {
            throw new BaselineStoreException(
                    "baseline file " + file + " is corrupt: an address section of " + length + " bytes");
        }
        ByteBuffer section = ByteBuffer.allocate((int) length);
        BaselineStore.readFully(channel, section, addressSection, file);
        CRC32C crc = new CRC32C();
        crc.update(section.array(), 0, section.limit() - 4);
        if ((int) crc.getValue() != section.getInt(section.limit() - 4)) {
            throw new BaselineStoreException("baseline file " + file + " is corrupt: CRC-32C of its address section");
        }
        try {
            int blockCount = section.getInt();
            if (blockCount < 0 || blockCount > HdeFrame.MAX_BLOCKS) {
                throw new BaselineStoreException(
                        "baseline file " + file + " is corrupt: " + blockCount + " RAM blocks");
            }
            String[] blocks = new String[blockCount];
            for (int i = 0; i < blockCount; i++) {
                byte[] name = new byte[section.getShort() & 0xffff];
                section.get(name);
                blocks[i] = new String(name, StandardCharsets.UTF_8);
            }
            int entries = section.getInt();
            if (entries < 0 || (long) entries * BaselineStore.ADDRESS_ENTRY_LENGTH != section.remaining() - 4) {
                throw new BaselineStoreException("baseline file " + file + " is corrupt: " + entries + " addresses in "
                        + (section.remaining() - 4) + " bytes");
            }
            long[][] packed = new long[blockCount][];
            int[] counts = new int[blockCount];
            int start = section.position();
            for (int i = 0; i < entries; i++) {
                int block = section.getShort(start + i * BaselineStore.ADDRESS_ENTRY_LENGTH) & 0xffff;
                if (block >= blockCount) {
                    throw new BaselineStoreException(
                            "baseline file " + file + " is corrupt: address " + i + " names block " + block);
                }
                counts[block]++;
            }
            for (int b = 0; b < blockCount; b++) {
                packed[b] = new long[counts[b]];
                counts[b] = 0;
            }
            for (int i = 0; i < entries; i++) {
                int block = section.getShort() & 0xffff;
                long offset = section.getLong();
                int index = section.getInt();
                if (index < 0
                        || index >= announcement.pages()
                        || offset < 0
                        || (offset & (HdeFrame.PAGE_SIZE - 1)) != 0
                        || (offset >>> 12) > Integer.MAX_VALUE) {
                    throw new BaselineStoreException("baseline file " + file + " is corrupt: address " + i
                            + " is offset " + offset + " and page " + index);
                }
                packed[block][counts[block]++] = (offset >>> 12) << 32 | index;
            }
            Map<String, long[]> result = new HashMap<>();
            for (int b = 0; b < blockCount; b++) {
                Arrays.sort(packed[b]);
                result.put(blocks[b], packed[b]);
            }
            return result;
        } catch (BufferUnderflowException e) {
            throw new BaselineStoreException("baseline file " + file + " is corrupt: its address section is truncated");
        }
    }

    @Override
    public String id() {
        return announcement.id();
    }

    @Override
    public BaselineAnnouncement announcement() {
        return announcement;
    }

    @Override
    public byte[] read(PageHash hash) throws IOException {
        int index = announcement.indexOf(hash);
        if (index < 0) {
            return null;
        }
        ByteBuffer page = ByteBuffer.allocate(HdeFrame.PAGE_SIZE);
        long position = contentsAt + (long) (places == null ? index : places[index]) * HdeFrame.PAGE_SIZE;
        try {
            BaselineStore.readFully(channel, page, position, file);
        } catch (IOException e) {
            throw e instanceof BaselineStoreException
                    ? e
                    : new BaselineStoreException("cannot read baseline " + file + ": " + e.getMessage(), e);
        }
        return page.array();
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        store.unpin(id());
        channel.close();
    }
}
