package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import io.dwcp.migration.stream.Token;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records the memory a migration moved (the last version of every page) and commits it as a
 * baseline. The source records what it sends: after the migration the VM runs elsewhere, and a
 * later migration back to this host references these pages. Zero pages are not stored.
 *
 * <p>Distinct page contents are spooled to {@code <id>.spool} as they come (at most the store's
 * size limit; superseded versions are compacted away when it fills). Memory holds, in primitive
 * arrays and no object per page (the recorder lives as long as the migration, and as
 * {@code HashMap} entries its pages cost G1 about half a CPU-second per GiB of guest at each end), a table from each page
 * (block and offset) to the spool slot of its content, and per slot the content's hash and how
 * many pages have it. One thread; not thread-safe.
 */
public final class BaselineRecorder implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(BaselineRecorder.class);
    private static final byte[] ZERO_PAGE = new byte[HdeFrame.PAGE_SIZE];

    static final int SPOOL_BATCH_PAGES = 256;
    // a page's key in the page table: its block's number above, its offset below (2^48 bytes: 256 TiB)
    private static final int OFFSET_BITS = 48;

    private final BaselineStore store;
    private final String id;
    private final PageHasher hasher = new PageHasher();
    // RAM block names in order of first appearance; a page key holds the index
    private final Map<String, Integer> blockIndexes = new HashMap<>();
    private final List<String> blockNames = new ArrayList<>();
    // the page table: key (block, offset) -> slot of its content in the spool
    private final LongIntTable pages = new LongIntTable();
    // per spool slot (position / PAGE_SIZE): its content's hash and how many pages have that content
    private long[] slotHigh = new long[1024];
    private long[] slotLow = new long[1024];
    private int[] slotPages = new int[1024];
    private int slots;
    private int liveSlots;
    // content hash -> slot + 1 (0: empty); open addressing on the hash's low bits, which are random
    private int[] contentIndex = new int[2048];
    private Path spoolFile;
    private FileChannel spool;
    // spooled pages not yet written: one write per SPOOL_BATCH_PAGES pages instead of one per page
    private final ByteBuffer spoolBuffer = ByteBuffer.allocateDirect(SPOOL_BATCH_PAGES * HdeFrame.PAGE_SIZE);
    // spool slot of the first page in spoolBuffer
    private int spoolBufferStart;
    private boolean done;

    BaselineRecorder(BaselineStore store, String id) throws BaselineStoreException {
        this.store = requireNonNull(store, "store is null");
        this.id = requireNonNull(id, "id is null");
        this.spoolFile = store.spoolFile(id);
        try {
            this.spool = FileChannel.open(
                    spoolFile,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw new BaselineStoreException("cannot create " + spoolFile + ": " + e.getMessage(), e);
        }
    }

    /** Records a token: RAM pages and zero pages; a page QEMU sent in its own encoding (XBZRLE, compressed) is forgotten. */
    public void token(Token token) throws BaselineStoreException {
        token(token, null);
    }

    /** {@link #token(Token)}, with the content hash of a RAM page token when the caller computed it already. */
    public void token(Token token, PageHash pageHash) throws BaselineStoreException {
        switch (token.type()) {
            case RAM_PAGE -> {
                if (token.contentLength() == HdeFrame.PAGE_SIZE) {
                    page(token.blockName(), token.pageOffset(), token.array(), token.contentOffset(), pageHash);
                }
            }
            case ZERO_PAGE -> {
                byte fill = token.array()[token.offset() + token.length() - 1];
                if (fill == 0) {
                    zero(token.blockName(), token.pageOffset());
                } else {
                    byte[] filled = new byte[HdeFrame.PAGE_SIZE];
                    Arrays.fill(filled, fill);
                    page(token.blockName(), token.pageOffset(), filled, 0);
                }
            }
            case XBZRLE_PAGE, COMPRESSED_PAGE -> forget(token.blockName(), token.pageOffset());
            default -> {
                // not a page
            }
        }
    }

    /** The page's latest content. */
    public void page(String block, long offset, byte[] content, int contentOffset) throws BaselineStoreException {
        page(block, offset, content, contentOffset, null);
    }

    /**
     * The page's latest content, with its content hash when the caller computed it already
     * ({@code null}: computed here). A wrong hash would store a baseline whose pages do not match
     * their hashes; a destination reading it verifies every page it uses, so it would fail that
     * migration's REF, never deliver wrong bytes. A page at a negative offset or one of 256 TiB or
     * more, or of a RAM block past the {@link HdeFrame#MAX_BLOCKS}th, is not recorded (QEMU's RAM
     * blocks are far smaller and fewer).
     */
    public void page(String block, long offset, byte[] content, int contentOffset, PageHash knownHash)
            throws BaselineStoreException {
        checkOpen();
        long key = key(block, offset);
        if (key < 0) {
            return;
        }
        if (Arrays.mismatch(
                        content, contentOffset, contentOffset + HdeFrame.PAGE_SIZE, ZERO_PAGE, 0, HdeFrame.PAGE_SIZE)
                < 0) {
            unlink(pages.remove(key));
            return;
        }
        PageHash hash = knownHash != null ? knownHash : hasher.hash(content, contentOffset);
        int slot = slotOf(hash.high(), hash.low());
        if (slot < 0) {
            unlink(pages.remove(key)); // its earlier version is superseded: compaction may drop it
            slot = spoolPage(content, contentOffset, hash);
        }
        int previous = pages.put(key, slot);
        if (previous != slot) {
            link(slot);
            unlink(previous);
        }
    }

    /** The page is now zero. */
    public void zero(String block, long offset) {
        forget(block, offset);
    }

    private void forget(String block, long offset) {
        checkOpen();
        long key = key(block, offset);
        if (key >= 0) {
            unlink(pages.remove(key));
        }
    }

    /** Distinct non-zero pages recorded. */
    public int distinctPages() {
        return liveSlots;
    }

    /** Writes the baseline (removing the oldest ones to stay within the limit) and returns it. */
    public BaselineStore.BaselineInfo commit() throws BaselineStoreException {
        checkOpen();
        return commitAs(id, sortedHashes());
    }

    /**
     * Writes the baseline under an id made of its content, {@code c-} and 32 hex digits of the
     * SHA-256 of its sorted page hashes (the same memory gives the same id, and replaces it).
     */
    public BaselineStore.BaselineInfo commitContentAddressed() throws BaselineStoreException {
        checkOpen();
        PageHash[] hashes = sortedHashes();
        java.security.MessageDigest sha256;
        try {
            sha256 = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        byte[] hashBytes = new byte[PageHash.BYTES];
        for (PageHash hash : hashes) {
            hash.write(hashBytes, 0);
            sha256.update(hashBytes);
        }
        return commitAs("c-" + java.util.HexFormat.of().formatHex(sha256.digest(), 0, 16), hashes);
    }

    /** The key of a page in the page table, or -1 for a page not recorded (offset or block out of range). */
    private long key(String block, long offset) {
        if (offset < 0 || offset >= 1L << OFFSET_BITS) {
            return -1;
        }
        String name = block == null ? "" : block;
        Integer index = blockIndexes.get(name);
        if (index == null) {
            if (blockNames.size() == HdeFrame.MAX_BLOCKS) {
                return -1;
            }
            index = blockNames.size();
            blockIndexes.put(name, index);
            blockNames.add(name);
        }
        return (long) index << OFFSET_BITS | offset;
    }

    /** The spool slot holding content {@code (high, low)}, or -1. */
    private int slotOf(long high, long low) {
        int mask = contentIndex.length - 1;
        for (int i = (int) low & mask; ; i = (i + 1) & mask) {
            int entry = contentIndex[i];
            if (entry == 0) {
                return -1;
            }
            if (slotLow[entry - 1] == low && slotHigh[entry - 1] == high) {
                return entry - 1;
            }
        }
    }

    private void indexSlot(int slot) {
        int mask = contentIndex.length - 1;
        int i = (int) slotLow[slot] & mask;
        while (contentIndex[i] != 0) {
            i = (i + 1) & mask;
        }
        contentIndex[i] = slot + 1;
    }

    /** Rebuilds the content index for slots {@code 0..slots-1}, with room for twice as many. */
    private void reindex() {
        int capacity = Integer.highestOneBit(Math.max(1024, slots) * 2) * 2;
        contentIndex = new int[capacity];
        for (int slot = 0; slot < slots; slot++) {
            indexSlot(slot);
        }
    }

    private void link(int slot) {
        if (slotPages[slot]++ == 0) {
            liveSlots++;
        }
    }

    private void unlink(int slot) {
        if (slot != LongIntTable.ABSENT && --slotPages[slot] == 0) {
            liveSlots--;
        }
    }

    /** Appends a page's content to the spool (compacting it first when full); returns its slot. */
    private int spoolPage(byte[] content, int contentOffset, PageHash hash) throws BaselineStoreException {
        if ((long) (slots + 1) * HdeFrame.PAGE_SIZE > store.sizeLimit()) {
            compact();
            if ((long) (slots + 1) * HdeFrame.PAGE_SIZE > store.sizeLimit()) {
                throw new BaselineStoreException("baseline '" + id + "' holds more than hde.baseline-size-limit ("
                        + store.sizeLimit() + " bytes) of distinct pages");
            }
        }
        if (!spoolBuffer.hasRemaining()) {
            flushSpool();
        }
        spoolBuffer.put(content, contentOffset, HdeFrame.PAGE_SIZE);
        if (slots == slotHigh.length) {
            int capacity = slots * 2;
            slotHigh = Arrays.copyOf(slotHigh, capacity);
            slotLow = Arrays.copyOf(slotLow, capacity);
            slotPages = Arrays.copyOf(slotPages, capacity);
        }
        int slot = slots++;
        slotHigh[slot] = hash.high();
        slotLow[slot] = hash.low();
        slotPages[slot] = 0;
        if (slots * 2 > contentIndex.length) {
            reindex();
        } else {
            indexSlot(slot);
        }
        return slot;
    }

    /** The hashes of the contents some page has, ascending. */
    private PageHash[] sortedHashes() {
        PageHash[] hashes = new PageHash[liveSlots];
        int n = 0;
        for (int slot = 0; slot < slots; slot++) {
            if (slotPages[slot] > 0) {
                hashes[n++] = new PageHash(slotHigh[slot], slotLow[slot]);
            }
        }
        Arrays.sort(hashes);
        return hashes;
    }

    private BaselineStore.BaselineInfo commitAs(String id, PageHash[] hashes) throws BaselineStoreException {
        flushSpool();
        // each hash's slot, in the order of hashes
        int[] slotOfIndex = new int[hashes.length];
        int[] indexOfSlot = new int[slots];
        for (int i = 0; i < hashes.length; i++) {
            slotOfIndex[i] = slotOf(hashes[i].high(), hashes[i].low());
            indexOfSlot[slotOfIndex[i]] = i;
        }
        ByteBuffer addresses = addressSection(indexOfSlot);
        long bytes =
                BaselineStore.HEADER_LENGTH + (long) hashes.length * BaselineStore.ENTRY_LENGTH + addresses.remaining();
        store.reserve(id, bytes);
        Path temporary = store.file(id).resolveSibling(id + ".baseline.tmp");
        long created = store.nowMillis();
        try (FileChannel out = FileChannel.open(
                temporary, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE)) {
            ByteBuffer hashBytes = ByteBuffer.allocate(hashes.length * PageHash.BYTES);
            for (PageHash hash : hashes) {
                hashBytes.putLong(hash.high()).putLong(hash.low());
            }
            CRC32C crc = new CRC32C();
            crc.update(hashBytes.array(), 0, hashBytes.capacity());
            ByteBuffer header = ByteBuffer.allocate(BaselineStore.HEADER_LENGTH)
                    .putLong(BaselineStore.MAGIC_2)
                    .putInt(hashes.length)
                    .putLong(created)
                    .putInt((int) crc.getValue());
            write(out, header.flip(), 0);
            write(out, hashBytes.flip(), BaselineStore.HEADER_LENGTH);
            long position = BaselineStore.HEADER_LENGTH + (long) hashes.length * PageHash.BYTES;
            // the pages in hash order, read one by one straight into the (direct, now empty) spool
            // buffer and written a batch at a time: one write per SPOOL_BATCH_PAGES pages, no copy
            // through a heap buffer (a write per page cost more CPU than the rest of the commit)
            spoolBuffer.clear();
            for (int slot : slotOfIndex) {
                if (!spoolBuffer.hasRemaining()) {
                    position = writeBatch(out, position);
                }
                ByteBuffer page = spoolBuffer.slice(spoolBuffer.position(), HdeFrame.PAGE_SIZE);
                BaselineStore.readFully(spool, page, (long) slot * HdeFrame.PAGE_SIZE, spoolFile);
                spoolBuffer.position(spoolBuffer.position() + HdeFrame.PAGE_SIZE);
            }
            position = writeBatch(out, position);
            write(out, addresses, position);
            out.force(true);
        } catch (IOException e) {
            spoolBuffer.clear();
            deleteQuietly(temporary, e);
            throw failed("writing baseline " + temporary + " (" + bytes + " bytes)", e);
        }
        try {
            store.publish(id, temporary);
        } catch (IOException e) {
            deleteQuietly(temporary, e);
            throw failed("renaming " + temporary + " to " + store.file(id), e);
        }
        close();
        log.info("baseline {} committed: {} distinct pages, {} bytes", id, hashes.length, bytes);
        return new BaselineStore.BaselineInfo(id, hashes.length, bytes, created);
    }

    /** Writes the spool buffer's pages at {@code position} of {@code out}, empties it; returns the position after them. */
    private long writeBatch(FileChannel out, long position) throws IOException {
        spoolBuffer.flip();
        long end = position + spoolBuffer.remaining();
        write(out, spoolBuffer, position);
        spoolBuffer.clear();
        return end;
    }

    /** Drops the recording (nothing is committed). */
    @Override
    public void close() {
        if (done) {
            return;
        }
        done = true;
        try {
            spool.close();
            Files.deleteIfExists(spoolFile);
        } catch (IOException e) {
            log.warn("cannot remove {}: {} (it is removed when the store next opens)", spoolFile, e.getMessage());
        }
    }

    /** Writes the batched pages to the spool file (before it is read, and when the batch is full). */
    private void flushSpool() throws BaselineStoreException {
        spoolBuffer.flip();
        try {
            write(spool, spoolBuffer, (long) spoolBufferStart * HdeFrame.PAGE_SIZE);
        } catch (IOException e) {
            throw failed("spooling pages to " + spoolFile, e);
        } finally {
            spoolBuffer.clear();
        }
        spoolBufferStart = slots;
    }

    /** Rewrites the spool with only the contents some page still has. */
    private void compact() throws BaselineStoreException {
        flushSpool();
        if (liveSlots == slots) {
            return;
        }
        Path compacted = spoolFile.resolveSibling(id + ".compact.spool");
        int[] moved = new int[slots];
        int kept = 0;
        try (FileChannel out = FileChannel.open(
                compacted,
                StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ByteBuffer page = ByteBuffer.allocate(HdeFrame.PAGE_SIZE);
            for (int slot = 0; slot < slots; slot++) {
                if (slotPages[slot] == 0) {
                    moved[slot] = -1;
                    continue;
                }
                page.clear();
                BaselineStore.readFully(spool, page, (long) slot * HdeFrame.PAGE_SIZE, spoolFile);
                write(out, page, (long) kept * HdeFrame.PAGE_SIZE);
                moved[slot] = kept++;
            }
        } catch (IOException e) {
            deleteQuietly(compacted, e);
            throw failed("compacting " + spoolFile, e);
        }
        try {
            spool.close();
            Files.move(compacted, spoolFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            spool = FileChannel.open(spoolFile, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException e) {
            throw failed("replacing " + spoolFile, e);
        }
        for (int slot = 0; slot < slots; slot++) {
            int to = moved[slot];
            if (to >= 0) {
                slotHigh[to] = slotHigh[slot];
                slotLow[to] = slotLow[slot];
                slotPages[to] = slotPages[slot];
            }
        }
        pages.remapValues(moved);
        slots = kept;
        spoolBufferStart = kept;
        reindex();
    }

    private BaselineStoreException failed(String what, IOException e) {
        if (e instanceof BaselineStoreException bse) {
            return bse;
        }
        String reason =
                e.getMessage() != null && e.getMessage().contains("No space left") ? "disk full" : e.getMessage();
        return new BaselineStoreException("baseline '" + id + "': " + what + " failed: " + reason, e);
    }

    private static void write(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        while (buffer.hasRemaining()) {
            position += channel.write(buffer, position);
        }
    }

    private static void deleteQuietly(Path file, Exception cause) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }

    /**
     * The address section ({@link BaselineStore}): where each page of the baseline was in guest
     * memory, so that a later migration from this host can send a page that changed since as a
     * delta against this version.
     *
     * @param indexOfSlot each live slot's index in the baseline's sorted hashes
     */
    private ByteBuffer addressSection(int[] indexOfSlot) {
        // QEMU's page offsets are page-aligned; one that is not is left out (its page goes whole).
        // Only blocks with an entry are listed, numbered in the order of their first appearance.
        long mask = (1L << OFFSET_BITS) - 1;
        int[] entries = {0};
        int[] sectionBlock = new int[blockNames.size()];
        pages.forEach((key, slot) -> {
            if ((key & (HdeFrame.PAGE_SIZE - 1)) == 0) {
                entries[0]++;
                sectionBlock[(int) (key >>> OFFSET_BITS)] = 1;
            }
        });
        List<byte[]> names = new ArrayList<>();
        int namesLength = 0;
        for (int block = 0; block < sectionBlock.length; block++) {
            if (sectionBlock[block] != 0) {
                sectionBlock[block] = names.size();
                byte[] name = blockNames.get(block).getBytes(StandardCharsets.UTF_8);
                names.add(name);
                namesLength += 2 + name.length;
            }
        }
        ByteBuffer section =
                ByteBuffer.allocate(4 + namesLength + 4 + entries[0] * BaselineStore.ADDRESS_ENTRY_LENGTH + 4);
        section.putInt(names.size());
        for (byte[] name : names) {
            section.putShort((short) name.length).put(name);
        }
        section.putInt(entries[0]);
        pages.forEach((key, slot) -> {
            if ((key & (HdeFrame.PAGE_SIZE - 1)) == 0) {
                section.putShort((short) sectionBlock[(int) (key >>> OFFSET_BITS)])
                        .putLong(key & mask)
                        .putInt(indexOfSlot[slot]);
            }
        });
        CRC32C crc = new CRC32C();
        crc.update(section.array(), 0, section.position());
        section.putInt((int) crc.getValue());
        return section.flip();
    }

    private void checkOpen() {
        if (done) {
            throw new IllegalStateException("baseline recording of '" + id + "' is finished");
        }
    }
}
