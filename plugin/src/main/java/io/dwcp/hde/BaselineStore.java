package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A content-addressed, bounded, on-disk store of baselines: copies of VM memory (page hash to
 * content) that a later migration to this host can reference instead of sending the pages.
 *
 * <h2>Files</h2>
 * One file per baseline, {@code <dir>/<id>.baseline}, forced to disk under a temporary name
 * (the recording's {@code <id>.spool}, or {@code <id>.baseline.tmp}) and renamed, so a crash never
 * leaves a half baseline under its real name:
 * <pre>
 * file      = be64 magic  be32 pages  be64 createdMillis  be32 crc   ; header: 24 bytes
 *             hashes  [places]  contents  [addresses]                ; versions 1 to 3
 *           | be64 magic  be32 pages  be64 createdMillis  be32 crc  be32 slots  zero[4068]
 *             contents  hashes  places  addresses                    ; version 4: header page
 * magic     = 0x4457435042534c31 ("DWCPBSL1"): no places, no addresses
 *           | 0x4457435042534c32 ("DWCPBSL2"): no places, addresses
 *           | 0x4457435042534c33 ("DWCPBSL3"): places and addresses
 *           | 0x4457435042534c34 ("DWCPBSL4"): the recording's spool as contents (what a commit writes)
 * crc       = CRC-32C of hashes (versions 1 and 2), of hashes and places (versions 3 and 4)
 * hashes    = pages * hash[16]          ; {@link PageHash}, ascending unsigned, distinct
 * places    = pages * be32 place        ; where the content of the hash at the same index is in
 *                                       ; contents: version 3, a permutation of 0 .. pages - 1;
 *                                       ; version 4, distinct slots, each below slots
 * contents  = pages * page[4096]        ; versions 1 and 2: in the order of hashes; version 3: in
 *                                       ; the order of places; no zero page
 *           | slots * page[4096]        ; version 4: the spool as recorded, slot s at 4096 * (s + 1);
 *                                       ; a slot no place names held a superseded version
 * addresses = be32 blocks  blocks * (be16 nameLength  name[nameLength] (UTF-8))
 *             be32 entries  entries * (be16 block  be64 offset  be32 hashIndex)
 *             be32 crc (CRC-32C of the section before it)
 * </pre>
 * A version 1 file's length must be {@code 24 + pages * 4112}; the address section of a version 2
 * to 4 file must end at the file's end. Version 3 keeps the contents in the order the recording
 * spooled them, so that a commit writes them sequentially, in large writes, instead of one write
 * per page at its place in hash order (which cost the kernel about as much again as the copy).
 * Version 4 goes further: the spool, whose pages were written during the migration (by direct
 * I/O, past the page cache), becomes the baseline's contents where it lies, and a commit writes
 * only the header page and the index after the contents; superseded versions stay in it as dead
 * slots, unless they are more than half of it ({@link BaselineRecorder} then compacts the spool
 * first). Versions 1 to 3 are still read. {@code addresses} say where each page was in guest memory (a RAM
 * block's name and the page's offset in it; {@code hashIndex} names its content), so that a later
 * migration from this host can send a page changed since as a delta against this version
 * ({@link StoredBaseline#versionAt}); only that source side reads them, on first use. Opening reads
 * the hashes (checked against the CRC) into memory; each page read is checked against its hash by
 * the decoder, so a flipped bit on disk is an error, never a wrong page.
 *
 * Beside it, {@code <id>.meta} (Java properties, written to {@code .meta.tmp} and renamed) says
 * what the store learnt about it later: {@code domain} and {@code uuid} of the VM whose memory it
 * is (when the control socket knew them), {@code lastUsedMillis} (when a migration last opened it;
 * kept in memory and written by {@link #saveUsage()}). A baseline without a {@code .meta} is one
 * of an unknown VM; a {@code .meta} without its baseline is removed when the store opens.
 *
 * <h2>Bounds</h2>
 * All baselines together stay within {@code hde.baseline-size-limit}: committing a new one first
 * removes the oldest (by creation time) that are not open, and a baseline larger than the limit
 * is refused. A baseline created longer than {@code hde.baseline-max-age} ago is removed (when not
 * open) before every commit and by {@link #removeExpired()}, which the daemon runs periodically
 * ({@link BaselineJobs}); {@code 0} means no age limit. Before writing, the store checks the file system has room ({@link
 * BaselineStoreException} naming the bytes needed and usable); a write that still fails (disk
 * full) removes its temporary file. Recording spools to {@code <id>.spool}, also bounded by the
 * limit; leftover {@code .tmp} and {@code .spool} files are removed when the store opens.
 *
 * <p>Thread-safe.
 */
public final class BaselineStore {
    private static final Logger log = LoggerFactory.getLogger(BaselineStore.class);
    static final long MAGIC = 0x4457435042534c31L;
    static final long MAGIC_2 = 0x4457435042534c32L;
    static final long MAGIC_3 = 0x4457435042534c33L;
    static final long MAGIC_4 = 0x4457435042534c34L;
    /** A place's length in a version 3 or 4 file. */
    static final int PLACE_LENGTH = 4;

    static final int ADDRESS_ENTRY_LENGTH = 2 + 8 + 4;
    static final int HEADER_LENGTH = 8 + 4 + 8 + 4;
    /** A version 4 header's fields (the header of version 3 and the slots); the header takes a whole page. */
    static final int HEADER_4_LENGTH = HEADER_LENGTH + 4;

    private static final String SUFFIX = ".baseline";
    private static final String META_SUFFIX = ".meta";
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final Path directory;
    private final long sizeLimit;
    private final Duration maxAge;
    private final LongSupplier usableSpace;
    private final LongSupplier clock;
    private final Map<String, Integer> pinned = new HashMap<>();
    // when a migration last opened each baseline, since the store opened (saved by saveUsage)
    private final Map<String, Long> lastUsed = new HashMap<>();
    private final Map<String, Long> unsavedUsage = new HashMap<>();
    private final List<Listener> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    /** A committed baseline. */
    public record BaselineInfo(String id, int pages, long bytes, long createdMillis) {}

    /** The VM whose memory a baseline holds, as far as this host was told: a libvirt domain name and, when known, its UUID. */
    public record Owner(String domain, Optional<String> uuid) {
        public Owner {
            requireNonNull(domain, "domain is null");
            requireNonNull(uuid, "uuid is null");
        }
    }

    /**
     * Told which baselines of a VM this store holds whenever that changes: a baseline labelled
     * with the VM ({@link #setOwner}, after a commit), or one of it removed (on request, expired,
     * evicted for room). Called on the thread that changed the store (the baseline jobs' thread,
     * the control socket's), under the store's lock: hand the news on, never block.
     */
    @FunctionalInterface
    public interface Listener {
        /** {@code newest}: the VM's newest baseline here, or empty once none is left. */
        void held(String domain, Optional<BaselineInfo> newest);
    }

    /** A committed baseline with what the store knows about it: its VM, when last opened, whether a migration has it open now. */
    public record Entry(BaselineInfo info, Optional<Owner> owner, OptionalLong lastUsedMillis, boolean inUse) {}

    public BaselineStore(HdeConfig config) throws BaselineStoreException {
        this(
                requireNonNull(config.getBaselineDirectory(), "hde.baseline-dir is not set"),
                config.getBaselineSizeLimit().bytes(),
                config.getBaselineMaxAge(),
                null,
                System::currentTimeMillis);
    }

    /** Without an age limit. */
    public BaselineStore(Path directory, long sizeLimit) throws BaselineStoreException {
        this(directory, sizeLimit, Duration.ZERO, null, System::currentTimeMillis);
    }

    /** {@code usableSpace}: the file system's free bytes for this user ({@code null}: ask the file system). */
    BaselineStore(Path directory, long sizeLimit, LongSupplier usableSpace) throws BaselineStoreException {
        this(directory, sizeLimit, Duration.ZERO, usableSpace, System::currentTimeMillis);
    }

    /**
     * @param maxAge baselines created longer ago are removed ({@link Duration#ZERO}: no age limit)
     * @param usableSpace the file system's free bytes for this user ({@code null}: ask the file system)
     * @param clock milliseconds since the epoch: creation times, ages and last use
     */
    BaselineStore(Path directory, long sizeLimit, Duration maxAge, LongSupplier usableSpace, LongSupplier clock)
            throws BaselineStoreException {
        this.directory = requireNonNull(directory, "directory is null");
        if (sizeLimit < 0) {
            throw new IllegalArgumentException("size limit is negative: " + sizeLimit);
        }
        this.sizeLimit = sizeLimit;
        this.maxAge = requireNonNull(maxAge, "maxAge is null");
        if (maxAge.isNegative()) {
            throw new IllegalArgumentException("max age is negative: " + maxAge);
        }
        this.clock = requireNonNull(clock, "clock is null");
        this.usableSpace = usableSpace != null
                ? usableSpace
                : () -> {
                    try {
                        return Files.getFileStore(directory).getUsableSpace();
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                };
        try {
            Files.createDirectories(directory);
            try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(directory, "*.{tmp,spool}")) {
                for (Path leftover : leftovers) {
                    log.info("removing {} left by an interrupted baseline write", leftover);
                    Files.deleteIfExists(leftover);
                }
            }
            try (DirectoryStream<Path> metas = Files.newDirectoryStream(directory, "*" + META_SUFFIX)) {
                for (Path meta : metas) {
                    String name = meta.getFileName().toString();
                    if (!Files.exists(
                            directory.resolve(name.substring(0, name.length() - META_SUFFIX.length()) + SUFFIX))) {
                        log.info("removing {}: its baseline is gone", meta);
                        Files.deleteIfExists(meta);
                    }
                }
            }
        } catch (IOException e) {
            throw new BaselineStoreException(
                    "cannot use baseline directory " + directory + " (hde.baseline-dir): " + e.getMessage(), e);
        }
    }

    public Path directory() {
        return directory;
    }

    public long sizeLimit() {
        return sizeLimit;
    }

    /** Baselines created longer ago are removed; {@link Duration#ZERO}: no age limit. */
    public Duration maxAge() {
        return maxAge;
    }

    /** Now, by the store's clock (creation times and ages). */
    long nowMillis() {
        return clock.getAsLong();
    }

    static void checkId(String id) {
        requireNonNull(id, "id is null");
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException(
                    "baseline id must be 1 to 128 characters of [A-Za-z0-9._-], not starting with . _ or -: '" + id
                            + "'");
        }
    }

    Path file(String id) {
        return directory.resolve(id + SUFFIX);
    }

    private Path metaFile(String id) {
        return directory.resolve(id + META_SUFFIX);
    }

    Path spoolFile(String id) {
        return directory.resolve(id + ".spool");
    }

    // writes the recordings' spool batches, each recording's in order: one thread for all of them
    // (a thread per recording, started and ended with each migration, left the daemon's resident
    // memory higher after each), which ends after a minute without work and starts again with the next
    private final java.util.concurrent.ThreadPoolExecutor spoolWriter = spoolWriter();

    private static java.util.concurrent.ThreadPoolExecutor spoolWriter() {
        java.util.concurrent.ThreadPoolExecutor writer = new java.util.concurrent.ThreadPoolExecutor(
                1,
                1,
                1,
                java.util.concurrent.TimeUnit.MINUTES,
                new java.util.concurrent.LinkedBlockingQueue<>(),
                new io.netty.util.concurrent.DefaultThreadFactory("hde-baseline-spool", true));
        writer.allowCoreThreadTimeOut(true);
        return writer;
    }

    /** Runs a recording's spool write on the store's writer thread, after those given before. */
    void spoolWrite(Runnable write) {
        spoolWriter.execute(write);
    }

    /** Spool batch buffers kept for the next recordings, at most. */
    static final int KEPT_SPOOL_BUFFERS = 16;

    // spool batch buffers (page-aligned, for direct I/O) that recordings gave back: the next
    // recording takes them instead of allocating its own, so that a daemon does not allocate and free
    // megabytes of native memory per migration (which its resident memory did not give back at once)
    private final java.util.ArrayDeque<ByteBuffer> spoolBuffers = new java.util.ArrayDeque<>();

    /** A spool batch buffer of {@code capacity} bytes, aligned to a page: a kept one if there is one. */
    synchronized ByteBuffer takeSpoolBuffer(int capacity) {
        ByteBuffer kept = spoolBuffers.pollFirst();
        if (kept != null && kept.capacity() == capacity) {
            return kept.clear();
        }
        return ByteBuffer.allocateDirect(capacity + HdeFrame.PAGE_SIZE)
                .alignedSlice(HdeFrame.PAGE_SIZE)
                .limit(capacity)
                .slice();
    }

    synchronized int keptSpoolBuffers() {
        return spoolBuffers.size();
    }

    /** Gives a buffer from {@link #takeSpoolBuffer} back, no longer used by anyone. */
    synchronized void giveBackSpoolBuffer(ByteBuffer buffer) {
        if (spoolBuffers.size() < KEPT_SPOOL_BUFFERS) {
            spoolBuffers.addFirst(buffer.clear());
        }
    }

    /** The committed baselines, oldest first. */
    public synchronized List<BaselineInfo> list() throws BaselineStoreException {
        List<BaselineInfo> result = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                String id = name.substring(0, name.length() - SUFFIX.length());
                try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                    ByteBuffer header = readHeader(id, channel);
                    result.add(new BaselineInfo(id, header.getInt(8), channel.size(), header.getLong(12)));
                }
            }
        } catch (BaselineStoreException e) {
            throw e;
        } catch (IOException e) {
            throw new BaselineStoreException("cannot list baselines in " + directory + ": " + e.getMessage(), e);
        }
        result.sort(Comparator.comparingLong(BaselineInfo::createdMillis).thenComparing(BaselineInfo::id));
        return result;
    }

    /** Bytes used by committed baselines. */
    public long usedBytes() throws BaselineStoreException {
        return list().stream().mapToLong(BaselineInfo::bytes).sum();
    }

    /**
     * Opens a baseline for a migration: its hashes are read into memory and it is not removed until
     * closed.
     */
    public StoredBaseline open(String id) throws BaselineStoreException {
        checkId(id);
        Path file = file(id);
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ);
        } catch (NoSuchFileException e) {
            throw new BaselineStoreException("no baseline '" + id + "' in " + directory);
        } catch (IOException e) {
            throw new BaselineStoreException("cannot open baseline " + file + ": " + e.getMessage(), e);
        }
        try {
            ByteBuffer header = readHeader(id, channel);
            long magic = header.getLong(0);
            int pages = header.getInt(8);
            int expectedCrc = header.getInt(20);
            int slots = slots(header);
            boolean hasPlaces = magic == MAGIC_3 || magic == MAGIC_4;
            int placesLength = hasPlaces ? pages * PLACE_LENGTH : 0;
            ByteBuffer hashes = ByteBuffer.allocate(pages * PageHash.BYTES + placesLength);
            readFully(channel, hashes, hashesAt(magic, slots), file);
            CRC32C crc = new CRC32C();
            crc.update(hashes.array(), 0, hashes.capacity());
            if ((int) crc.getValue() != expectedCrc) {
                throw new BaselineStoreException("baseline file " + file
                        + " is corrupt: CRC-32C of its hashes: expected " + Integer.toHexString(expectedCrc)
                        + ", found " + Integer.toHexString((int) crc.getValue()));
            }
            int[] places = null;
            if (hasPlaces) {
                int contentPages = magic == MAGIC_4 ? slots : pages;
                places = new int[pages];
                BitSet seen = new BitSet(contentPages);
                int at = pages * PageHash.BYTES;
                for (int i = 0; i < pages; i++) {
                    int place = hashes.getInt(at + i * PLACE_LENGTH);
                    if (place < 0 || place >= contentPages || seen.get(place)) {
                        throw new BaselineStoreException("baseline file " + file + " is corrupt: page " + i
                                + " is at place " + place + " (" + pages + " pages, each at its own place"
                                + (magic == MAGIC_4 ? " among " + slots + " slots" : "") + ")");
                    }
                    seen.set(place);
                    places[i] = place;
                }
            }
            long[] high = new long[pages];
            long[] low = new long[pages];
            for (int i = 0; i < pages; i++) {
                high[i] = hashes.getLong(i * PageHash.BYTES);
                low[i] = hashes.getLong(i * PageHash.BYTES + 8);
            }
            BaselineAnnouncement announcement;
            try {
                announcement = new BaselineAnnouncement(id, high, low);
            } catch (IllegalArgumentException e) {
                throw new BaselineStoreException("baseline file " + file + " is corrupt: " + e.getMessage());
            }
            synchronized (this) {
                pinned.merge(id, 1, Integer::sum);
                lastUsed.put(id, nowMillis());
                unsavedUsage.put(id, nowMillis());
            }
            long addresses = magic == MAGIC ? -1 : addressSection(magic, pages, slots);
            return new StoredBaseline(this, channel, file, announcement, contentsAt(magic, pages), places, addresses);
        } catch (BaselineStoreException e) {
            closeQuietly(channel, e);
            throw e;
        } catch (IOException e) {
            closeQuietly(channel, e);
            throw new BaselineStoreException("cannot read baseline " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            closeQuietly(channel, e);
            throw e;
        }
    }

    private static void closeQuietly(FileChannel channel, Exception cause) {
        try {
            channel.close();
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }

    synchronized void unpin(String id) {
        pinned.computeIfPresent(id, (key, count) -> count == 1 ? null : count - 1);
    }

    /** Starts recording a baseline (committed under {@code id}, replacing one of that id). */
    public BaselineRecorder record(String id) throws BaselineStoreException {
        checkId(id);
        return new BaselineRecorder(this, id);
    }

    public void addListener(Listener listener) {
        listeners.add(requireNonNull(listener, "listener is null"));
    }

    /** The VM's newest baseline here (labelled with its domain), if any. */
    public synchronized Optional<BaselineInfo> newestOf(String domain) throws BaselineStoreException {
        Optional<BaselineInfo> newest = Optional.empty();
        for (BaselineInfo info : list()) {
            if (domain.equals(readMeta(info.id()).getProperty("domain"))) {
                newest = Optional.of(info);
            }
        }
        return newest;
    }

    private void changed(String domain) {
        if (domain == null || listeners.isEmpty()) {
            return;
        }
        Optional<BaselineInfo> newest;
        try {
            newest = newestOf(domain);
        } catch (BaselineStoreException e) {
            log.warn("cannot tell which baselines of {} are left: {}", domain, e.getMessage());
            return;
        }
        for (Listener listener : listeners) {
            try {
                listener.held(domain, newest);
            } catch (RuntimeException e) {
                log.warn("a listener of the baselines of {} failed: {}", domain, e.toString());
            }
        }
    }

    public synchronized void delete(String id) throws BaselineStoreException {
        checkId(id);
        if (pinned.containsKey(id)) {
            throw new BaselineInUseException("baseline '" + id + "' is in use by a migration");
        }
        String domain = listeners.isEmpty() ? null : readMeta(id).getProperty("domain");
        try {
            Files.deleteIfExists(file(id));
            Files.deleteIfExists(metaFile(id));
        } catch (IOException e) {
            throw new BaselineStoreException("cannot delete baseline " + file(id) + ": " + e.getMessage(), e);
        }
        lastUsed.remove(id);
        unsavedUsage.remove(id);
        changed(domain);
    }

    /** The committed baselines with their VM, last use and whether a migration has them open; oldest first. */
    public synchronized List<Entry> entries() throws BaselineStoreException {
        List<Entry> entries = new ArrayList<>();
        for (BaselineInfo info : list()) {
            Properties meta = readMeta(info.id());
            String domain = meta.getProperty("domain");
            Optional<Owner> owner = domain == null
                    ? Optional.empty()
                    : Optional.of(new Owner(domain, Optional.ofNullable(meta.getProperty("uuid"))));
            OptionalLong used = OptionalLong.empty();
            if (lastUsed.containsKey(info.id())) {
                used = OptionalLong.of(lastUsed.get(info.id()));
            } else if (meta.getProperty("lastUsedMillis") != null) {
                try {
                    used = OptionalLong.of(Long.parseLong(meta.getProperty("lastUsedMillis")));
                } catch (NumberFormatException e) {
                    log.info(
                            "{}: lastUsedMillis is not a number: '{}' (ignored)",
                            metaFile(info.id()),
                            meta.getProperty("lastUsedMillis"));
                }
            }
            entries.add(new Entry(info, owner, used, pinned.containsKey(info.id())));
        }
        return entries;
    }

    /** Records which VM's memory the baseline holds (shown by {@link #entries()}, matched by {@link #removeOwnedBy}). */
    public synchronized void setOwner(String id, Owner owner) throws BaselineStoreException {
        checkId(id);
        requireNonNull(owner, "owner is null");
        if (!Files.exists(file(id))) {
            throw new BaselineStoreException("no baseline '" + id + "' in " + directory);
        }
        Properties meta = readMeta(id);
        String previous = meta.getProperty("domain");
        meta.setProperty("domain", owner.domain());
        owner.uuid().ifPresentOrElse(uuid -> meta.setProperty("uuid", uuid), () -> meta.remove("uuid"));
        writeMeta(id, meta);
        changed(owner.domain());
        if (previous != null && !previous.equals(owner.domain())) {
            changed(previous);
        }
    }

    /** Writes when each baseline was last opened to its {@code .meta} (the daemon's periodic job, and when it stops). */
    public synchronized void saveUsage() throws BaselineStoreException {
        for (Map.Entry<String, Long> used : Map.copyOf(unsavedUsage).entrySet()) {
            if (!Files.exists(file(used.getKey()))) {
                unsavedUsage.remove(used.getKey());
                continue;
            }
            Properties meta = readMeta(used.getKey());
            meta.setProperty("lastUsedMillis", Long.toString(used.getValue()));
            writeMeta(used.getKey(), meta);
            unsavedUsage.remove(used.getKey());
        }
    }

    /**
     * Removes every baseline of the VM: whose id is {@code vm}, or whose VM has the domain name or
     * the UUID {@code vm} (case-insensitive). All or nothing: when any of them is in use by a
     * migration, none is removed.
     *
     * @return the ids removed (empty: no baseline of that VM)
     * @throws BaselineInUseException naming the baselines a migration has open
     */
    public synchronized List<String> removeOwnedBy(String vm) throws BaselineStoreException {
        requireNonNull(vm, "vm is null");
        List<String> matching = new ArrayList<>();
        for (Entry entry : entries()) {
            boolean owned = entry.owner()
                    .map(owner -> owner.domain().equals(vm)
                            || owner.uuid()
                                    .map(uuid -> uuid.equalsIgnoreCase(vm))
                                    .orElse(false))
                    .orElse(false);
            if (owned || entry.info().id().equals(vm)) {
                matching.add(entry.info().id());
            }
        }
        List<String> inUse = matching.stream().filter(pinned::containsKey).toList();
        if (!inUse.isEmpty()) {
            throw new BaselineInUseException("baseline" + (inUse.size() == 1 ? " " : "s ") + String.join(", ", inUse)
                    + " of '" + vm + "' in use by a migration: nothing removed, try again once it ended");
        }
        for (String id : matching) {
            delete(id);
            log.info("baseline {} of {} removed on request", id, vm);
        }
        return matching;
    }

    /**
     * Removes the baselines created longer than {@code hde.baseline-max-age} ago that no migration
     * has open (those go once closed, at a later call).
     *
     * @return the ids removed
     */
    public synchronized List<String> removeExpired() throws BaselineStoreException {
        if (maxAge.isZero()) {
            return List.of();
        }
        long oldest = nowMillis() - maxAge.toMillis();
        List<String> removed = new ArrayList<>();
        for (BaselineInfo info : list()) {
            if (info.createdMillis() < oldest && !pinned.containsKey(info.id())) {
                delete(info.id());
                removed.add(info.id());
                log.info(
                        "baseline {} removed: created {} s ago, older than hde.baseline-max-age ({})",
                        info.id(),
                        (nowMillis() - info.createdMillis()) / 1000,
                        maxAge.toString().substring(2).toLowerCase(Locale.ROOT));
            }
        }
        return removed;
    }

    private Properties readMeta(String id) throws BaselineStoreException {
        Properties meta = new Properties();
        Path file = metaFile(id);
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            meta.load(in);
        } catch (NoSuchFileException e) {
            // no .meta: nothing known beyond the baseline itself
        } catch (IOException | IllegalArgumentException e) {
            throw new BaselineStoreException("cannot read " + file + ": " + e.getMessage(), e);
        }
        return meta;
    }

    private void writeMeta(String id, Properties meta) throws BaselineStoreException {
        Path file = metaFile(id);
        Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (Writer out = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8)) {
                meta.store(out, "what dwcpd knows about baseline " + id);
            }
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temporary);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new BaselineStoreException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Makes room for a baseline of {@code bytes}: checks the limit, removes the oldest unused
     * baselines, checks the disk has room for the {@code written} of them still to be written (the
     * rest is on disk already, as a recording's spool).
     */
    synchronized void reserve(String id, long bytes, long written) throws BaselineStoreException {
        if (bytes > sizeLimit) {
            throw new BaselineStoreException("baseline '" + id + "' needs " + bytes
                    + " bytes, more than hde.baseline-size-limit (" + sizeLimit + " bytes)");
        }
        removeExpired();
        List<BaselineInfo> baselines = list();
        long used = baselines.stream()
                .filter(b -> !b.id().equals(id))
                .mapToLong(BaselineInfo::bytes)
                .sum();
        for (BaselineInfo oldest : baselines) {
            if (used + bytes <= sizeLimit) {
                break;
            }
            if (oldest.id().equals(id) || pinned.containsKey(oldest.id())) {
                continue;
            }
            log.info(
                    "removing baseline {} ({} bytes, the oldest) to make room for {} within hde.baseline-size-limit",
                    oldest.id(),
                    oldest.bytes(),
                    id);
            delete(oldest.id());
            used -= oldest.bytes();
        }
        if (used + bytes > sizeLimit) {
            throw new BaselineStoreException(
                    "baseline '" + id + "' needs " + bytes + " bytes; baselines in use by migrations hold " + used
                            + " of hde.baseline-size-limit (" + sizeLimit + " bytes)");
        }
        long usable;
        try {
            usable = usableSpace.getAsLong();
        } catch (UncheckedIOException e) {
            throw new BaselineStoreException(
                    "cannot tell the free space of " + directory + ": "
                            + e.getCause().getMessage(),
                    e.getCause());
        }
        if (usable < written) {
            throw new BaselineStoreException("disk full: baseline '" + id + "' needs " + written + " bytes in "
                    + directory + ", the file system has " + usable + " usable");
        }
    }

    /** Moves a finished temporary file to its name. */
    synchronized void publish(String id, Path temporary) throws IOException {
        Files.move(temporary, file(id), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The header's fields: {@link #HEADER_LENGTH} bytes, {@link #HEADER_4_LENGTH} for a version 4
     * file (read {@link #slots} from it), checked against the file's length.
     */
    private ByteBuffer readHeader(String id, FileChannel channel) throws IOException {
        Path file = file(id);
        ByteBuffer header = ByteBuffer.allocate(HEADER_4_LENGTH);
        long size = channel.size();
        if (size < HEADER_LENGTH) {
            throw new BaselineStoreException(
                    "baseline file " + file + " is corrupt: " + size + " bytes, shorter than its header");
        }
        header.limit(HEADER_LENGTH);
        readFully(channel, header, 0, file);
        long magic = header.getLong(0);
        if (magic != MAGIC && magic != MAGIC_2 && magic != MAGIC_3 && magic != MAGIC_4) {
            throw new BaselineStoreException("baseline file " + file + " is corrupt: magic: expected "
                    + Long.toHexString(MAGIC) + ", " + Long.toHexString(MAGIC_2) + ", " + Long.toHexString(MAGIC_3)
                    + " or " + Long.toHexString(MAGIC_4) + ", found " + Long.toHexString(magic));
        }
        int pages = header.getInt(8);
        int slots = pages;
        if (magic == MAGIC_4) {
            if (size < HdeFrame.PAGE_SIZE) {
                throw new BaselineStoreException(
                        "baseline file " + file + " is corrupt: " + size + " bytes, shorter than its header page");
            }
            header.limit(HEADER_4_LENGTH);
            readFully(channel, header, 0, file);
            slots = header.getInt(HEADER_LENGTH);
            if (slots < 0 || pages > slots) {
                throw new BaselineStoreException("baseline file " + file + " is corrupt: "
                        + Integer.toUnsignedString(pages) + " pages in " + Integer.toUnsignedString(slots)
                        + " slots");
            }
        }
        header.clear();
        long expectedSize = addressSection(magic, pages, slots);
        if (pages < 0 || (magic == MAGIC ? size != expectedSize : size < expectedSize + 12)) {
            throw new BaselineStoreException("baseline file " + file + " is corrupt: length: expected "
                    + (magic == MAGIC ? expectedSize : "at least " + (expectedSize + 12)) + " bytes for "
                    + Integer.toUnsignedString(pages) + " pages"
                    + (magic == MAGIC_4 ? " in " + slots + " slots" : "") + ", found " + size);
        }
        return header;
    }

    /** The slots of a version 4 file's contents (from its header, {@link #readHeader}); its pages for the others. */
    private static int slots(ByteBuffer header) {
        return header.getLong(0) == MAGIC_4 ? header.getInt(HEADER_LENGTH) : header.getInt(8);
    }

    /** Where the contents start in a file of this version (its magic) and {@code pages}. */
    static long contentsAt(long magic, int pages) {
        if (magic == MAGIC_4) {
            return HdeFrame.PAGE_SIZE;
        }
        return HEADER_LENGTH + (long) pages * (magic == MAGIC_3 ? PageHash.BYTES + PLACE_LENGTH : PageHash.BYTES);
    }

    /** Where the hashes start: after the header, in a version 4 file after the contents (of {@code slots} pages). */
    static long hashesAt(long magic, int slots) {
        return magic == MAGIC_4 ? HdeFrame.PAGE_SIZE + (long) slots * HdeFrame.PAGE_SIZE : HEADER_LENGTH;
    }

    /** Where the address section starts (or, for a version 1 file, where the file ends). */
    static long addressSection(long magic, int pages, int slots) {
        if (magic == MAGIC_4) {
            return hashesAt(magic, slots) + (long) pages * (PageHash.BYTES + PLACE_LENGTH);
        }
        return contentsAt(magic, pages) + (long) pages * HdeFrame.PAGE_SIZE;
    }

    static void readFully(FileChannel channel, ByteBuffer buffer, long position, Path file) throws IOException {
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, position + buffer.position());
            if (n < 0) {
                throw new BaselineStoreException(
                        "baseline file " + file + " is truncated at " + (position + buffer.position()));
            }
        }
        buffer.flip();
    }
}
