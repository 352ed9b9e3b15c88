package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import com.sun.nio.file.ExtendedOpenOption;
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
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records the memory a migration moved (the last version of every page) and commits it as a
 * baseline. The source records what it sends: after the migration the VM runs elsewhere, and a
 * later migration back to this host references these pages. Zero pages are not stored.
 *
 * <p>Page contents are spooled to {@code <id>.spool} as they come (at most the store's size limit;
 * superseded versions and repeated contents are compacted away when it fills). The commit makes
 * the spool the baseline where it lies ({@link BaselineStore}'s version 4): it writes only the
 * header page and the index, not the pages again (compacting first when more than half the spool
 * is superseded), so committing a GiB of guest costs a sort of its hashes, not a second copy of
 * its pages through the page cache. While the migration
 * runs, a page costs only that copy and an entry in a journal (its key and spool slot): the tables
 * that find a page's content, share repeated contents and count the pages of each are brought up
 * to date from the journal at the commit (or when the spool or the journal fills), off the
 * migration's path. Memory holds, in primitive arrays ({@link Chunked} where they grow with the
 * pages during the migration) and no object per page (the recorder lives as
 * long as the migration, and as {@code HashMap} entries its pages cost G1 about half a CPU-second
 * per GiB of guest at each end), a table from each page (block and offset) to the spool slot of its
 * content, and per slot the content's hash and how many pages have it. One thread; not
 * thread-safe.
 */
public final class BaselineRecorder implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(BaselineRecorder.class);
    private static final byte[] ZERO_PAGE = new byte[HdeFrame.PAGE_SIZE];
    private static final PageHash ZERO_HASH = new PageHasher().hash(ZERO_PAGE, 0);

    static final int SPOOL_BATCH_PAGES = 256;
    /** Batch buffers of a recording: one being filled, the rest written or waiting to be. */
    static final int SPOOL_BUFFERS = 4;
    /** Journal entries at most (12 bytes each) before the tables are brought up to date during the migration. */
    static final int JOURNAL_LIMIT = 1 << 22;
    // a journal entry for a page that is now zero or not recorded (its earlier version is superseded)
    private static final int FORGOTTEN = -1;
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
    // (a slot whose content an earlier slot holds too is never indexed and keeps no page)
    private final Chunked.Longs slotHigh = new Chunked.Longs();
    private final Chunked.Longs slotLow = new Chunked.Longs();
    private final Chunked.Longs slotPages = new Chunked.Longs();
    private int slots;
    private int liveSlots;
    // content hash -> slot + 1 (0: empty); open addressing on the hash's low bits, which are random
    private int[] contentIndex = new int[2048];
    private int indexedSlots;
    // what was recorded since the tables were last brought up to date, in order: each page's key and
    // the spool slot of its new content, or FORGOTTEN
    private final Chunked.Longs journalKeys = new Chunked.Longs();
    private final Chunked.Longs journalSlots = new Chunked.Longs();
    private int journaled;
    private final int journalLimit;
    private Path spoolFile;
    // the spool, opened for direct I/O (O_DIRECT) where the file system takes it: its pages go from
    // the batch buffers to the disk without a copy into the page cache, which cost the recording
    // thread about as much as the rest of the recording and evicted the encoder's working set from
    // the CPU's caches at every batch (and half a GiB of cache per GiB of guest it would never read)
    private FileChannel spool;
    private boolean directIo;
    // batches of SPOOL_BATCH_PAGES pages, aligned for direct I/O: the one being filled, and the free
    // ones; the others are being written by the writer thread (SPOOL_BUFFERS at most in flight: the
    // recording waits for a free one, so it never holds more memory than that)
    private ByteBuffer spoolBuffer;
    private final BlockingQueue<ByteBuffer> freeBuffers = new ArrayBlockingQueue<>(SPOOL_BUFFERS);
    // spool slot of the first page in spoolBuffer
    private int spoolBufferStart;
    // whether a batch went to the store's spool writer (then close waits for every buffer to come back)
    private boolean handedOver;
    // the first write that failed (set by the writer; reported by the recording thread at its next batch)
    private volatile IOException writeFailure;
    private final SpoolWrites spoolWrites;
    private long shedPages;
    private boolean done;

    BaselineRecorder(BaselineStore store, String id) throws BaselineStoreException {
        this(store, id, JOURNAL_LIMIT, true, BaselineRecorder::write);
    }

    /** How a batch goes to the spool file (a test's can be slow). */
    @FunctionalInterface
    interface SpoolWrites {
        void write(FileChannel channel, ByteBuffer batch, long position) throws IOException;
    }

    /**
     * @param journalLimit journal entries at most before the tables are brought up to date (a power of two)
     * @param directIo whether to try direct I/O for the spool (it falls back to the page cache where the file system refuses it)
     */
    BaselineRecorder(BaselineStore store, String id, int journalLimit, boolean directIo, SpoolWrites spoolWrites)
            throws BaselineStoreException {
        this.spoolWrites = requireNonNull(spoolWrites, "spoolWrites is null");
        if (journalLimit < 1 || Integer.bitCount(journalLimit) != 1) {
            throw new IllegalArgumentException("journalLimit must be a power of two: " + journalLimit);
        }
        this.journalLimit = journalLimit;
        this.store = requireNonNull(store, "store is null");
        this.id = requireNonNull(id, "id is null");
        this.spoolFile = store.spoolFile(id);
        this.directIo = directIo;
        try {
            this.spool = openSpool(spoolFile, true);
        } catch (IOException e) {
            throw new BaselineStoreException("cannot create " + spoolFile + ": " + e.getMessage(), e);
        }
        for (int i = 0; i < SPOOL_BUFFERS; i++) {
            freeBuffers.add(store.takeSpoolBuffer(SPOOL_BATCH_PAGES * HdeFrame.PAGE_SIZE));
        }
        this.spoolBuffer = freeBuffers.poll();
    }

    /**
     * Opens a spool file ({@code fresh}: created or emptied), for direct I/O if {@link #directIo} and the file system
     * takes it (tmpfs does not: then, and from then on, through the page cache). Every read and
     * write of a spool is of whole pages, at page-aligned positions, from page-aligned buffers.
     */
    private FileChannel openSpool(Path file, boolean fresh) throws IOException {
        java.util.Set<java.nio.file.OpenOption> options =
                new java.util.HashSet<>(List.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
        if (fresh) {
            options.add(StandardOpenOption.CREATE);
            options.add(StandardOpenOption.TRUNCATE_EXISTING);
        }
        if (directIo) {
            try {
                if (Files.getFileStore(file.getParent()).getBlockSize() <= HdeFrame.PAGE_SIZE) {
                    java.util.Set<java.nio.file.OpenOption> direct = new java.util.HashSet<>(options);
                    direct.add(ExtendedOpenOption.DIRECT);
                    return FileChannel.open(file, direct);
                }
            } catch (IOException | UnsupportedOperationException e) {
                log.debug("{}: no direct I/O ({}), the spool goes through the page cache", file, e.toString());
            }
            directIo = false;
        }
        return FileChannel.open(file, options);
    }

    /** Whether the spool is written with direct I/O. */
    boolean directIo() {
        return directIo;
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
        PageHash hash;
        if (knownHash != null) {
            hash = knownHash;
        } else if (Arrays.mismatch(
                        content, contentOffset, contentOffset + HdeFrame.PAGE_SIZE, ZERO_PAGE, 0, HdeFrame.PAGE_SIZE)
                < 0) {
            hash = ZERO_HASH;
        } else {
            hash = hasher.hash(content, contentOffset);
        }
        if (hash.equals(ZERO_HASH)) {
            journal(key, FORGOTTEN);
            return;
        }
        int slot = spoolPage(content, contentOffset, hash);
        // a page the spool could not take now is forgotten: its earlier version is no longer its last
        journal(key, slot < 0 ? FORGOTTEN : slot);
    }

    /** The page is now zero. */
    public void zero(String block, long offset) {
        forget(block, offset);
    }

    private void forget(String block, long offset) {
        checkOpen();
        long key = key(block, offset);
        if (key >= 0) {
            journal(key, FORGOTTEN);
        }
    }

    private void journal(long key, int slot) {
        if (journaled == journalLimit) {
            applyJournal();
        }
        if (journaled == journalKeys.capacity()) {
            journalKeys.ensure(journaled + 1);
            journalSlots.ensure(journaled + 1);
        }
        journalKeys.set(journaled, key);
        journalSlots.set(journaled, slot);
        journaled++;
    }

    /**
     * Brings the tables up to date with the journal, in the order it was recorded: each page points
     * to the slot of its latest content (an earlier slot with the same content if there is one: the
     * new slot then keeps no page, and compaction drops it), and each slot counts its pages.
     */
    private void applyJournal() {
        for (int i = 0; i < journaled; i++) {
            long key = journalKeys.get(i);
            int spooled = (int) journalSlots.get(i);
            if (spooled == FORGOTTEN) {
                unlink(pages.remove(key));
                continue;
            }
            int slot = slotOf(slotHigh.get(spooled), slotLow.get(spooled));
            if (slot < 0) {
                slot = spooled;
                indexSlot(slot);
            }
            int previous = pages.put(key, slot);
            if (previous != slot) {
                link(slot);
                unlink(previous);
            }
        }
        journaled = 0;
    }

    /** Distinct non-zero pages recorded. */
    /**
     * Whether no page's content was recorded at all, which it tells without bringing its tables up
     * to date: a session asks at its end, on its own lane, and leaves the rest to the commit.
     */
    public boolean recordedNothing() {
        checkOpen();
        return slots == 0;
    }

    public int distinctPages() {
        checkOpen();
        applyJournal();
        return liveSlots;
    }

    /** Writes the baseline (removing the oldest ones to stay within the limit) and returns it. */
    public BaselineStore.BaselineInfo commit() throws BaselineStoreException {
        checkOpen();
        applyJournal();
        return commitAs(id, sortedHashes());
    }

    /**
     * Writes the baseline under an id made of its content, {@code c-} and 32 hex digits of the
     * SHA-256 of its sorted page hashes (the same memory gives the same id, and replaces it).
     */
    public BaselineStore.BaselineInfo commitContentAddressed() throws BaselineStoreException {
        checkOpen();
        applyJournal();
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
            if (slotLow.get(entry - 1) == low && slotHigh.get(entry - 1) == high) {
                return entry - 1;
            }
        }
    }

    /** Enters {@code slot} in the content index (which must not hold its content yet), growing the index as needed. */
    private void indexSlot(int slot) {
        if ((indexedSlots + 1) * 2 > contentIndex.length) {
            int[] old = contentIndex;
            contentIndex = new int[old.length * 2];
            for (int entry : old) {
                if (entry != 0) {
                    place(entry - 1);
                }
            }
        }
        place(slot);
        indexedSlots++;
    }

    private void place(int slot) {
        int mask = contentIndex.length - 1;
        int i = (int) slotLow.get(slot) & mask;
        while (contentIndex[i] != 0) {
            i = (i + 1) & mask;
        }
        contentIndex[i] = slot + 1;
    }

    private void link(int slot) {
        if (slotPages.getAndAdd(slot, 1) == 0) {
            liveSlots++;
        }
    }

    private void unlink(int slot) {
        if (slot != LongIntTable.ABSENT && slotPages.getAndAdd(slot, -1) == 1) {
            liveSlots--;
        }
    }

    /**
     * Appends a page's content to the spool (compacting it first when full); returns its slot, which
     * the content index does not know until the journal is applied, or -1 when every batch buffer
     * is still being written: the recording never waits for the disk, so a disk slower than the
     * migration leaves a baseline without some pages, never a slower migration.
     */
    private int spoolPage(byte[] content, int contentOffset, PageHash hash) throws BaselineStoreException {
        if ((long) (slots + 1) * HdeFrame.PAGE_SIZE > store.sizeLimit()) {
            applyJournal();
            compact();
            if ((long) (slots + 1) * HdeFrame.PAGE_SIZE > store.sizeLimit()) {
                throw new BaselineStoreException("baseline '" + id + "' holds more than hde.baseline-size-limit ("
                        + store.sizeLimit() + " bytes) of distinct pages");
            }
        }
        if (spoolBuffer != null && !spoolBuffer.hasRemaining()) {
            handOver();
        }
        if (spoolBuffer == null) {
            checkWrites();
            spoolBuffer = freeBuffers.poll();
            if (spoolBuffer == null) {
                if (shedPages++ == 0) {
                    log.info(
                            "baseline '{}': the disk under {} writes slower than the migration records pages; pages it cannot take now are left out of the baseline",
                            id,
                            spoolFile.getParent());
                }
                return -1;
            }
        }
        spoolBuffer.put(content, contentOffset, HdeFrame.PAGE_SIZE);
        if (slots == slotHigh.capacity()) {
            slotHigh.ensure(slots + 1);
            slotLow.ensure(slots + 1);
            slotPages.ensure(slots + 1);
        }
        int slot = slots++;
        slotHigh.set(slot, hash.high());
        slotLow.set(slot, hash.low());
        slotPages.set(slot, 0);
        return slot;
    }

    /** The hashes of the contents some page has, ascending. */
    private PageHash[] sortedHashes() {
        PageHash[] hashes = new PageHash[liveSlots];
        int n = 0;
        for (int slot = 0; slot < slots; slot++) {
            if (slotPages.get(slot) > 0) {
                hashes[n++] = new PageHash(slotHigh.get(slot), slotLow.get(slot));
            }
        }
        Arrays.sort(hashes);
        return hashes;
    }

    /**
     * Makes the spool the baseline where it lies (version 4, {@link BaselineStore}): its pages are
     * on disk already, so only the header page and the index (hashes, places, addresses) are
     * written; when more than half its slots hold superseded versions, it is compacted first.
     */
    private BaselineStore.BaselineInfo commitAs(String id, PageHash[] hashes) throws BaselineStoreException {
        flushSpool();
        if (liveSlots < slots
                && ((long) liveSlots * 2 < slots
                        || spoolPosition(slots) + indexAtMost(hashes.length) > store.sizeLimit())) {
            // more than half superseded, or too large for the limit with them
            compact();
        }
        // each live slot's index in hashes, and each hash's place: its slot
        int[] indexOfSlot = new int[slots];
        int placesAt = hashes.length * PageHash.BYTES;
        ByteBuffer index = ByteBuffer.allocate(placesAt + hashes.length * BaselineStore.PLACE_LENGTH);
        for (int i = 0; i < hashes.length; i++) {
            int slot = slotOf(hashes[i].high(), hashes[i].low());
            indexOfSlot[slot] = i;
            index.putLong(hashes[i].high()).putLong(hashes[i].low());
            index.putInt(placesAt + i * BaselineStore.PLACE_LENGTH, slot);
        }
        ByteBuffer addresses = addressSection(indexOfSlot);
        long hashesAt = BaselineStore.hashesAt(BaselineStore.MAGIC_4, slots);
        long written = index.capacity() + (long) addresses.remaining();
        long bytes = hashesAt + written;
        store.reserve(id, bytes, HdeFrame.PAGE_SIZE + written);
        long created = store.nowMillis();
        CRC32C crc = new CRC32C();
        crc.update(index.array(), 0, index.capacity());
        ByteBuffer header = ByteBuffer.allocate(HdeFrame.PAGE_SIZE)
                .putLong(BaselineStore.MAGIC_4)
                .putInt(hashes.length)
                .putLong(created)
                .putInt((int) crc.getValue())
                .putInt(slots)
                .clear();
        // through the page cache (the spool's channel may be for direct I/O, which takes only whole
        // aligned pages); the contents before the index were written and flushed by now
        try (FileChannel out = FileChannel.open(spoolFile, StandardOpenOption.WRITE)) {
            write(out, index.clear(), hashesAt);
            write(out, addresses, hashesAt + index.capacity());
            out.truncate(bytes);
            write(out, header, 0);
            out.force(true);
        } catch (IOException e) {
            throw failed("writing baseline " + spoolFile + " (" + bytes + " bytes)", e);
        }
        try {
            store.publish(id, spoolFile);
        } catch (IOException e) {
            throw failed("renaming " + spoolFile + " to " + store.file(id), e);
        }
        close();
        if (shedPages > 0) {
            log.info(
                    "baseline {} committed: {} distinct pages, {} bytes; {} recorded pages left out (the disk was slower than the migration)",
                    id,
                    hashes.length,
                    bytes,
                    shedPages);
        } else {
            log.info("baseline {} committed: {} distinct pages, {} bytes", id, hashes.length, bytes);
        }
        return new BaselineStore.BaselineInfo(id, hashes.length, bytes, created);
    }

    /** The index of a baseline of {@code hashes} contents at most (its address section lists at most every block and page). */
    private long indexAtMost(int hashes) {
        return (long) hashes * (PageHash.BYTES + BaselineStore.PLACE_LENGTH)
                + 12
                + blockNames.stream()
                        .mapToLong(name -> 2 + name.getBytes(StandardCharsets.UTF_8).length)
                        .sum()
                + (long) pages.size() * BaselineStore.ADDRESS_ENTRY_LENGTH;
    }

    /**
     * Where slot {@code slot} is in the spool: after the first page, which a commit fills with the
     * header of the baseline the spool becomes.
     */
    static long spoolPosition(int slot) {
        return HdeFrame.PAGE_SIZE + (long) slot * HdeFrame.PAGE_SIZE;
    }

    /** Reads the spool's slots in order, a batch at a time, and gives each page to {@code visitor} (a buffer of its 4096 bytes). */
    private void readSpool(SpoolVisitor visitor) throws IOException {
        ByteBuffer batch = spoolBuffer;
        for (int first = 0; first < slots; first += SPOOL_BATCH_PAGES) {
            int count = Math.min(SPOOL_BATCH_PAGES, slots - first);
            batch.clear().limit(count * HdeFrame.PAGE_SIZE);
            BaselineStore.readFully(spool, batch, spoolPosition(first), spoolFile);
            for (int i = 0; i < count; i++) {
                visitor.visit(first + i, batch.slice(i * HdeFrame.PAGE_SIZE, HdeFrame.PAGE_SIZE));
            }
        }
        batch.clear();
    }

    @FunctionalInterface
    private interface SpoolVisitor {
        void visit(int slot, ByteBuffer page) throws IOException;
    }

    /** Drops the recording (nothing is committed). */
    @Override
    public void close() {
        if (done) {
            return;
        }
        done = true;
        stopWriter();
        // the buffers back to the store for the next recording (one still being written, after an
        // interrupted stop, is left to the collector)
        if (spoolBuffer != null) {
            store.giveBackSpoolBuffer(spoolBuffer);
            spoolBuffer = null;
        }
        for (ByteBuffer buffer = freeBuffers.poll(); buffer != null; buffer = freeBuffers.poll()) {
            store.giveBackSpoolBuffer(buffer);
        }
        try {
            spool.close();
            Files.deleteIfExists(spoolFile);
        } catch (IOException e) {
            log.warn("cannot remove {}: {} (it is removed when the store next opens)", spoolFile, e.getMessage());
        }
    }

    /** Hands the batch being filled to the writer (which returns the buffer to {@link #freeBuffers} once written). */
    private void handOver() throws BaselineStoreException {
        checkWrites();
        handedOver = true;
        ByteBuffer batch = spoolBuffer.flip();
        long position = spoolPosition(spoolBufferStart);
        FileChannel channel = spool;
        spoolBuffer = null;
        spoolBufferStart = slots;
        store.spoolWrite(() -> {
            try {
                if (writeFailure == null) {
                    spoolWrites.write(channel, batch, position);
                }
            } catch (IOException | RuntimeException e) {
                writeFailure = e instanceof IOException io ? io : new IOException(e.toString(), e);
            } finally {
                freeBuffers.add(batch.clear());
            }
        });
    }

    /** Writes every spooled page to the spool file and waits until it is there (before the spool is read). */
    void flushSpool() throws BaselineStoreException {
        if (spoolBuffer != null && spoolBuffer.position() > 0) {
            handOver();
        }
        // every buffer back: nothing is in flight
        List<ByteBuffer> back = new ArrayList<>(SPOOL_BUFFERS);
        if (spoolBuffer != null) {
            back.add(spoolBuffer);
        }
        try {
            while (back.size() < SPOOL_BUFFERS) {
                back.add(freeBuffers.take());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BaselineStoreException("baseline '" + id + "': interrupted while spooling pages", null);
        } finally {
            spoolBuffer = back.isEmpty() ? null : back.remove(back.size() - 1);
            freeBuffers.addAll(back);
        }
        spoolBufferStart = slots;
        checkWrites();
    }

    /** Pages left out of the recording because every batch buffer was still being written. */
    public long shedPages() {
        return shedPages;
    }

    private void checkWrites() throws BaselineStoreException {
        IOException failure = writeFailure;
        if (failure != null) {
            throw failed("spooling pages to " + spoolFile, failure);
        }
    }

    /** Waits until the writes this recording handed over are done (or have failed): every buffer is back. */
    private void stopWriter() {
        if (!handedOver) {
            return;
        }
        List<ByteBuffer> back = new ArrayList<>(SPOOL_BUFFERS);
        if (spoolBuffer != null) {
            back.add(spoolBuffer);
        }
        try {
            while (back.size() < SPOOL_BUFFERS) {
                ByteBuffer buffer = freeBuffers.poll(10, TimeUnit.SECONDS);
                if (buffer == null) {
                    log.warn("baseline '{}': still writing its spool to {}", id, spoolFile);
                } else {
                    back.add(buffer);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            spoolBuffer = back.isEmpty() ? null : back.remove(back.size() - 1);
            freeBuffers.addAll(back);
        }
    }

    /** Rewrites the spool with only the contents some page still has. */
    private void compact() throws BaselineStoreException {
        flushSpool();
        if (liveSlots == slots) {
            return;
        }
        Path compacted = spoolFile.resolveSibling(id + ".compact.spool");
        int[] moved = new int[slots];
        int[] kept = {0};
        // the pages kept, copied into batches written in order (the writer thread is idle: flushed)
        ByteBuffer out;
        try {
            out = freeBuffers.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BaselineStoreException("baseline '" + id + "': interrupted while compacting its spool", null);
        }
        try (FileChannel compactedChannel = openSpool(compacted, true)) {
            readSpool((slot, page) -> {
                if (slotPages.get(slot) == 0) {
                    moved[slot] = -1;
                    return;
                }
                if (!out.hasRemaining()) {
                    write(compactedChannel, out.flip(), spoolPosition(kept[0] - SPOOL_BATCH_PAGES));
                    out.clear();
                }
                out.put(page);
                moved[slot] = kept[0]++;
            });
            if (out.position() > 0) {
                out.flip();
                write(compactedChannel, out, spoolPosition(kept[0] - out.remaining() / HdeFrame.PAGE_SIZE));
            }
        } catch (IOException e) {
            deleteQuietly(compacted, e);
            throw failed("compacting " + spoolFile, e);
        } finally {
            freeBuffers.add(out.clear());
        }
        try {
            spool.close();
            Files.move(compacted, spoolFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            spool = openSpool(spoolFile, false);
        } catch (IOException e) {
            throw failed("replacing " + spoolFile, e);
        }
        for (int slot = 0; slot < slots; slot++) {
            int to = moved[slot];
            if (to >= 0) {
                slotHigh.set(to, slotHigh.get(slot));
                slotLow.set(to, slotLow.get(slot));
                slotPages.set(to, slotPages.get(slot));
            }
        }
        pages.remapValues(moved);
        slots = kept[0];
        spoolBufferStart = slots;
        // every slot kept has pages, and a content of its own
        contentIndex = new int[Math.max(2048, Integer.highestOneBit(Math.max(1, slots)) * 4)];
        indexedSlots = 0;
        for (int slot = 0; slot < slots; slot++) {
            indexSlot(slot);
        }
    }

    private BaselineStoreException failed(String what, IOException e) {
        if (e instanceof BaselineStoreException bse) {
            return bse;
        }
        String reason =
                e.getMessage() != null && e.getMessage().contains("No space left") ? "disk full" : e.getMessage();
        return new BaselineStoreException("baseline '" + id + "': " + what + " failed: " + reason, e);
    }

    static void write(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
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
