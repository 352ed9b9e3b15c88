package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import io.dwcp.migration.stream.Token;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records the memory a migration moved (the last version of every page) and commits it as a
 * baseline. The source records what it sends: after the migration the VM runs elsewhere, and a
 * later migration back to this host references these pages. Zero pages are not stored.
 *
 * <p>Distinct page contents are spooled to {@code <id>.spool} as they come (at most the store's
 * size limit; superseded versions are compacted away when it fills); memory holds a hash per page
 * and per distinct content. One thread; not thread-safe.
 */
public final class BaselineRecorder implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(BaselineRecorder.class);
    private static final byte[] ZERO_PAGE = new byte[HdeFrame.PAGE_SIZE];

    private record BlockPage(String block, long offset) {}

    static final int SPOOL_BATCH_PAGES = 256;

    private final BaselineStore store;
    private final String id;
    private final PageHasher hasher = new PageHasher();
    private final Map<BlockPage, PageHash> pages = new HashMap<>();
    private Map<PageHash, Long> spooled = new HashMap<>();
    private Path spoolFile;
    private FileChannel spool;
    // spooled pages not yet written: one write per SPOOL_BATCH_PAGES pages instead of one per page
    private final ByteBuffer spoolBuffer = ByteBuffer.allocateDirect(SPOOL_BATCH_PAGES * HdeFrame.PAGE_SIZE);
    // spool file offset of the first page in spoolBuffer
    private long spoolBufferStart;
    private long spoolLength;
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
            case XBZRLE_PAGE, COMPRESSED_PAGE ->
                pages.remove(new BlockPage(blockName(token.blockName()), token.pageOffset()));
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
     * migration's REF, never deliver wrong bytes.
     */
    public void page(String block, long offset, byte[] content, int contentOffset, PageHash knownHash)
            throws BaselineStoreException {
        checkOpen();
        BlockPage key = new BlockPage(blockName(block), offset);
        if (Arrays.mismatch(
                        content, contentOffset, contentOffset + HdeFrame.PAGE_SIZE, ZERO_PAGE, 0, HdeFrame.PAGE_SIZE)
                < 0) {
            pages.remove(key);
            return;
        }
        PageHash hash = knownHash != null ? knownHash : hasher.hash(content, contentOffset);
        if (spooled.containsKey(hash)) {
            pages.put(key, hash);
            return;
        }
        pages.remove(key); // its earlier version is superseded: compaction may drop it
        if (spoolLength + HdeFrame.PAGE_SIZE > store.sizeLimit()) {
            compact();
            if (spoolLength + HdeFrame.PAGE_SIZE > store.sizeLimit()) {
                throw new BaselineStoreException("baseline '" + id + "' holds more than hde.baseline-size-limit ("
                        + store.sizeLimit() + " bytes) of distinct pages");
            }
        }
        if (!spoolBuffer.hasRemaining()) {
            flushSpool();
        }
        spoolBuffer.put(content, contentOffset, HdeFrame.PAGE_SIZE);
        spooled.put(hash, spoolLength);
        spoolLength += HdeFrame.PAGE_SIZE;
        pages.put(key, hash);
    }

    /** The page is now zero. */
    public void zero(String block, long offset) {
        checkOpen();
        pages.remove(new BlockPage(blockName(block), offset));
    }

    /** Distinct non-zero pages recorded. */
    public int distinctPages() {
        return (int) pages.values().stream().distinct().count();
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

    private PageHash[] sortedHashes() {
        PageHash[] hashes = new HashSet<>(pages.values()).toArray(PageHash[]::new);
        Arrays.sort(hashes);
        return hashes;
    }

    private BaselineStore.BaselineInfo commitAs(String id, PageHash[] hashes) throws BaselineStoreException {
        flushSpool();
        ByteBuffer addresses = addressSection(hashes);
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
            for (PageHash hash : hashes) {
                if (!spoolBuffer.hasRemaining()) {
                    position = writeBatch(out, position);
                }
                ByteBuffer page = spoolBuffer.slice(spoolBuffer.position(), HdeFrame.PAGE_SIZE);
                BaselineStore.readFully(spool, page, spooled.get(hash), spoolFile);
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
            write(spool, spoolBuffer, spoolBufferStart);
        } catch (IOException e) {
            throw failed("spooling pages to " + spoolFile, e);
        } finally {
            spoolBuffer.clear();
        }
        spoolBufferStart = spoolLength;
    }

    /** Rewrites the spool with only the contents some page still has. */
    private void compact() throws BaselineStoreException {
        flushSpool();
        Set<PageHash> live = new HashSet<>(pages.values());
        if (live.size() == spooled.size()) {
            return;
        }
        Path compacted = spoolFile.resolveSibling(id + ".compact.spool");
        Map<PageHash, Long> positions = new HashMap<>();
        long length = 0;
        try (FileChannel out = FileChannel.open(
                compacted,
                StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            ByteBuffer page = ByteBuffer.allocate(HdeFrame.PAGE_SIZE);
            for (PageHash hash : live) {
                page.clear();
                BaselineStore.readFully(spool, page, spooled.get(hash), spoolFile);
                write(out, page, length);
                positions.put(hash, length);
                length += HdeFrame.PAGE_SIZE;
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
        spooled = positions;
        spoolLength = length;
        spoolBufferStart = length;
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
     */
    private ByteBuffer addressSection(PageHash[] hashes) {
        // QEMU's page offsets are page-aligned; one that is not is left out (its page goes whole)
        List<Map.Entry<BlockPage, PageHash>> entries = pages.entrySet().stream()
                .filter(e -> (e.getKey().offset() & (HdeFrame.PAGE_SIZE - 1)) == 0
                        && e.getKey().offset() >= 0)
                .toList();
        Map<String, Integer> blocks = new java.util.LinkedHashMap<>();
        for (Map.Entry<BlockPage, PageHash> entry : entries) {
            blocks.putIfAbsent(entry.getKey().block(), blocks.size());
        }
        int namesLength = 0;
        for (String block : blocks.keySet()) {
            namesLength += 2 + block.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        }
        ByteBuffer section =
                ByteBuffer.allocate(4 + namesLength + 4 + entries.size() * BaselineStore.ADDRESS_ENTRY_LENGTH + 4);
        section.putInt(blocks.size());
        for (String block : blocks.keySet()) {
            byte[] name = block.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            section.putShort((short) name.length).put(name);
        }
        section.putInt(entries.size());
        for (Map.Entry<BlockPage, PageHash> entry : entries) {
            int index = Arrays.binarySearch(hashes, entry.getValue());
            section.putShort((short) (int) blocks.get(entry.getKey().block()))
                    .putLong(entry.getKey().offset())
                    .putInt(index);
        }
        CRC32C crc = new CRC32C();
        crc.update(section.array(), 0, section.position());
        section.putInt((int) crc.getValue());
        return section.flip();
    }

    private static String blockName(String block) {
        return block == null ? "" : block;
    }

    private void checkOpen() {
        if (done) {
            throw new IllegalStateException("baseline recording of '" + id + "' is finished");
        }
    }
}
