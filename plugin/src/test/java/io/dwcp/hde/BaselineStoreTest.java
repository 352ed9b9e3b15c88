package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BaselineStoreTest {
    private static final long ENTRY = PageHash.BYTES + HdeFrame.PAGE_SIZE; // a hash and its page
    private static final long HEADER = BaselineStore.HEADER_LENGTH;
    private static final long PLACE = BaselineStore.PLACE_LENGTH;

    @TempDir
    Path directory;

    /** A baseline file's length: {@code pages} distinct pages at {@code addresses} addresses of block "pc.ram". */
    private static long size(int pages, int addresses) {
        return size(pages, pages, addresses);
    }

    /** A baseline file's length: its spool of {@code slots} pages, {@code pages} of them live, at {@code addresses} addresses. */
    private static long size(int slots, int pages, int addresses) {
        // the header page and the spool's slots; then the index: hashes, places and the address section
        return 4096L * (1 + slots) + written(pages, addresses) - 4096;
    }

    /** What a commit writes: the header page and the index (hashes, places, the address section: block count, "pc.ram", entry count, entries, CRC). */
    private static long written(int pages, int addresses) {
        return 4096 + pages * (16 + PLACE) + 4 + 2 + 6 + 4 + addresses * (long) BaselineStore.ADDRESS_ENTRY_LENGTH + 4;
    }

    private static byte[] page(long seed) {
        byte[] page = new byte[4096];
        new Random(seed).nextBytes(page);
        return page;
    }

    private static BaselineStore.BaselineInfo commit(BaselineStore store, String id, int pages, long seed)
            throws IOException {
        try (BaselineRecorder recorder = store.record(id)) {
            for (int i = 0; i < pages; i++) {
                recorder.page("pc.ram", i * 4096L, page(seed + i), 0);
            }
            return recorder.commit();
        }
    }

    /**
     * A version 4 file of {@code pages} pages (in as many slots) as a file of an earlier version: 3
     * (places, the contents in slot order after the hashes), 2 (contents in the order of hashes) or
     * 1 (that, and no address section).
     */
    private static byte[] olderVersion(byte[] version4, int pages, long magic) {
        java.nio.ByteBuffer in = java.nio.ByteBuffer.wrap(version4);
        assertEquals(BaselineStore.MAGIC_4, in.getLong(0));
        int slots = in.getInt((int) HEADER);
        assertEquals(pages, slots, "a version 4 file without superseded slots");
        int hashesAt = 4096 * (1 + slots);
        int addressesAt = hashesAt + pages * (16 + (int) PLACE);
        int addressesLength = magic == BaselineStore.MAGIC ? 0 : version4.length - addressesAt;
        int placesLength = magic == BaselineStore.MAGIC_3 ? pages * (int) PLACE : 0;
        java.nio.ByteBuffer out =
                java.nio.ByteBuffer.allocate((int) HEADER + pages * (16 + 4096) + placesLength + addressesLength);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(version4, hashesAt, pages * 16 + placesLength);
        out.putLong(magic).putInt(pages).putLong(in.getLong(12)).putInt((int) crc.getValue());
        out.put(version4, hashesAt, pages * 16 + placesLength);
        if (magic == BaselineStore.MAGIC_3) {
            out.put(version4, 4096, slots * 4096);
        } else {
            for (int i = 0; i < pages; i++) {
                int place = in.getInt(hashesAt + pages * 16 + i * 4);
                out.put(version4, 4096 + place * 4096, 4096);
            }
        }
        out.put(version4, addressesAt, addressesLength);
        return out.array();
    }

    @Test
    void roundTrip() throws IOException {
        BaselineStore store = new BaselineStore(directory, 1 << 20);
        byte[] a = page(1);
        byte[] b = page(2);
        byte[] c = page(3);
        try (BaselineRecorder recorder = store.record("vm1")) {
            recorder.page("pc.ram", 0, a, 0);
            recorder.page("pc.ram", 4096, a, 0); // the same content twice: stored once
            recorder.page("pc.ram", 8192, b, 0);
            recorder.page("pc.ram", 8192, c, 0); // superseded: b is not in the baseline
            recorder.page("pc.ram", 12288, new byte[4096], 0); // zero pages are not stored
            recorder.page("pc.bios", 0, b, 0);
            recorder.zero("pc.bios", 0); // ... nor pages that became zero
            assertEquals(2, recorder.distinctPages());
            BaselineStore.BaselineInfo info = recorder.commit();
            assertEquals("vm1", info.id());
            assertEquals(2, info.pages());
            assertEquals(size(2, 3), info.bytes());
        }
        assertEquals(
                List.of("vm1"),
                store.list().stream().map(BaselineStore.BaselineInfo::id).toList());
        assertEquals(size(2, 3), store.usedBytes());
        assertFalse(Files.exists(directory.resolve("vm1.spool")));
        PageHasher hasher = new PageHasher();
        try (StoredBaseline baseline = store.open("vm1")) {
            assertEquals(2, baseline.announcement().pages());
            assertArrayEquals(a, baseline.read(hasher.hash(a, 0)));
            assertArrayEquals(c, baseline.read(hasher.hash(c, 0)));
            assertNull(baseline.read(hasher.hash(b, 0)));
            assertTrue(baseline.announcement().contains(hasher.hash(c, 0)));
            assertFalse(baseline.announcement().contains(hasher.hash(b, 0)));
            // where each page was: a later migration from this host sends changes as deltas against them
            assertTrue(baseline.hasAddresses());
            assertEquals(hasher.hash(a, 0), baseline.versionAt("pc.ram", 0));
            assertEquals(hasher.hash(a, 0), baseline.versionAt("pc.ram", 4096));
            assertEquals(hasher.hash(c, 0), baseline.versionAt("pc.ram", 8192));
            assertNull(baseline.versionAt("pc.ram", 12288)); // zero
            assertNull(baseline.versionAt("pc.bios", 0)); // became zero
            assertNull(baseline.versionAt("pc.ram", 4097)); // not a page's offset
            assertNull(baseline.versionAt("other", 0));
            // what the destination sends the source
            List<BaselineAnnouncement> parsed =
                    BaselineAnnouncement.parse(BaselineAnnouncement.serialize(List.of(baseline.announcement())));
            assertEquals(List.of(baseline.announcement()), parsed);
        }
    }

    @Test
    void oldestBaselinesMakeRoom() throws IOException {
        BaselineStore store = new BaselineStore(directory, 2 * size(10, 10));
        commit(store, "a", 10, 100);
        commit(store, "b", 10, 200);
        commit(store, "c", 10, 300);
        assertEquals(
                List.of("b", "c"),
                store.list().stream().map(BaselineStore.BaselineInfo::id).toList());
        // the same id replaces its earlier version without counting it
        commit(store, "c", 10, 400);
        assertEquals(
                List.of("b", "c"),
                store.list().stream().map(BaselineStore.BaselineInfo::id).toList());
        assertTrue(store.usedBytes() <= store.sizeLimit());
    }

    @Test
    void baselinesInUseAreKept() throws IOException {
        BaselineStore store = new BaselineStore(directory, 2 * size(10, 10));
        commit(store, "a", 10, 100);
        commit(store, "b", 10, 200);
        try (StoredBaseline a = store.open("a");
                StoredBaseline b = store.open("b")) {
            BaselineStoreException e = assertThrows(BaselineStoreException.class, () -> commit(store, "c", 10, 300));
            assertEquals(
                    "baseline 'c' needs " + size(10, 10) + " bytes; baselines in use by migrations hold "
                            + 2 * size(10, 10) + " of hde.baseline-size-limit (" + store.sizeLimit() + " bytes)",
                    e.getMessage());
            assertThrows(BaselineStoreException.class, () -> store.delete("a"));
        }
        commit(store, "c", 10, 300);
        assertEquals(
                List.of("b", "c"),
                store.list().stream().map(BaselineStore.BaselineInfo::id).toList());
    }

    @Test
    void baselinesOlderThanTheMaxAgeGoAtTheNextCommitAndCheck() throws IOException {
        AtomicLong now = new AtomicLong(1_000_000_000L);
        BaselineStore store = new BaselineStore(directory, 1 << 20, Duration.ofHours(1), null, now::get);
        commit(store, "old", 2, 100);
        now.addAndGet(Duration.ofMinutes(40).toMillis());
        commit(store, "newer", 2, 200);
        assertEquals(1_000_000_000L, store.list().get(0).createdMillis(), "created at the store's clock");
        // 61 minutes: "old" has expired, "newer" not; nothing is removed until a commit or a check
        now.addAndGet(Duration.ofMinutes(21).toMillis());
        assertEquals(List.of("old", "newer"), ids(store));
        commit(store, "newest", 2, 300);
        assertEquals(List.of("newer", "newest"), ids(store));
        // a baseline a migration has open stays past its age until closed
        now.addAndGet(Duration.ofMinutes(50).toMillis());
        try (StoredBaseline newer = store.open("newer")) {
            assertEquals(List.of(), store.removeExpired());
            assertEquals(List.of("newer", "newest"), ids(store));
        }
        assertEquals(List.of("newer"), store.removeExpired());
        assertEquals(List.of("newest"), ids(store));
        // exactly the max age is not older than it
        now.addAndGet(Duration.ofMinutes(10).toMillis());
        assertEquals(List.of(), store.removeExpired());
        now.addAndGet(1);
        assertEquals(List.of("newest"), store.removeExpired());
        assertEquals(List.of(), ids(store));
        // no age limit: nothing expires
        BaselineStore unlimited = new BaselineStore(directory, 1 << 20, Duration.ZERO, null, now::get);
        commit(unlimited, "kept", 1, 400);
        now.addAndGet(Duration.ofDays(3650).toMillis());
        assertEquals(List.of(), unlimited.removeExpired());
        assertEquals(List.of("kept"), ids(unlimited));
    }

    @Test
    void listenersAreToldWhichBaselineOfAVmIsHeld() throws IOException {
        AtomicLong now = new AtomicLong(5_000_000L);
        BaselineStore store = new BaselineStore(directory, 1 << 20, Duration.ofDays(7), null, now::get);
        List<String> told = new java.util.ArrayList<>();
        store.addListener((domain, newest) -> told.add(
                domain + " " + newest.map(BaselineStore.BaselineInfo::id).orElse("none")));
        commit(store, "c-1", 2, 100);
        now.addAndGet(1000);
        commit(store, "c-2", 2, 200);
        // a commit alone names no VM: nothing to tell
        assertEquals(List.of(), told);
        store.setOwner("c-1", new BaselineStore.Owner("web1", Optional.empty()));
        store.setOwner("c-2", new BaselineStore.Owner("web1", Optional.empty()));
        assertEquals(List.of("web1 c-1", "web1 c-2"), told);
        // the newer one goes: the older is what is held now; then none
        store.delete("c-2");
        store.removeOwnedBy("web1");
        assertEquals(List.of("web1 c-1", "web1 c-2", "web1 c-1", "web1 none"), told);
        // relabelled: both VMs are told
        commit(store, "c-3", 2, 300);
        store.setOwner("c-3", new BaselineStore.Owner("db1", Optional.empty()));
        store.setOwner("c-3", new BaselineStore.Owner("web2", Optional.empty()));
        assertEquals(List.of("db1 c-3", "web2 c-3", "db1 none"), told.subList(4, 7));
        // expired
        now.addAndGet(Duration.ofDays(8).toMillis());
        store.removeExpired();
        assertEquals("web2 none", told.get(told.size() - 1));
    }

    @Test
    void ownersLastUseAndRemovalOfAVmsBaselines() throws IOException {
        AtomicLong now = new AtomicLong(5_000_000L);
        BaselineStore store = new BaselineStore(directory, 1 << 20, Duration.ofDays(7), null, now::get);
        commit(store, "c-1", 2, 100);
        commit(store, "c-2", 2, 200);
        commit(store, "c-3", 2, 300);
        store.setOwner("c-1", new BaselineStore.Owner("web1", Optional.of("c7a5fdbd-cdaf-9455-926a-d65c16db1809")));
        store.setOwner("c-2", new BaselineStore.Owner("web1", Optional.empty()));
        assertThrows(
                BaselineStoreException.class,
                () -> store.setOwner("c-9", new BaselineStore.Owner("web1", Optional.empty())));
        List<BaselineStore.Entry> entries = store.entries();
        assertEquals(
                Optional.of(new BaselineStore.Owner("web1", Optional.of("c7a5fdbd-cdaf-9455-926a-d65c16db1809"))),
                entries.get(0).owner());
        assertEquals(
                Optional.of(new BaselineStore.Owner("web1", Optional.empty())),
                entries.get(1).owner());
        assertEquals(Optional.empty(), entries.get(2).owner());
        assertTrue(entries.stream().allMatch(entry -> entry.lastUsedMillis().isEmpty() && !entry.inUse()));

        now.addAndGet(1000);
        try (StoredBaseline used = store.open("c-2")) {
            BaselineStore.Entry entry = store.entries().get(1);
            assertTrue(entry.inUse());
            assertEquals(OptionalLong.of(5_001_000L), entry.lastUsedMillis());
            // all or nothing: c-1 is not removed either while c-2 is open
            BaselineInUseException e = assertThrows(BaselineInUseException.class, () -> store.removeOwnedBy("web1"));
            assertEquals(
                    "baseline c-2 of 'web1' in use by a migration: nothing removed, try again once it ended",
                    e.getMessage());
            assertEquals(List.of("c-1", "c-2", "c-3"), ids(store));
        }
        // last use survives a restart once saved
        store.saveUsage();
        BaselineStore reopened = new BaselineStore(directory, 1 << 20, Duration.ofDays(7), null, now::get);
        assertEquals(OptionalLong.of(5_001_000L), reopened.entries().get(1).lastUsedMillis());
        assertEquals(
                Optional.of(new BaselineStore.Owner("web1", Optional.empty())),
                reopened.entries().get(1).owner());

        // by UUID (any case), by domain name, by id
        assertEquals(List.of("c-1"), reopened.removeOwnedBy("C7A5FDBD-CDAF-9455-926A-D65C16DB1809"));
        assertEquals(List.of("c-2"), reopened.removeOwnedBy("web1"));
        assertEquals(List.of(), reopened.removeOwnedBy("web1"));
        assertEquals(List.of("c-3"), reopened.removeOwnedBy("c-3"));
        try (Stream files = new Stream(directory)) {
            assertEquals(List.of(), files.names(), "baselines and their .meta are gone");
        }
    }

    @Test
    void aMetaFileWithoutItsBaselineIsRemovedWhenTheStoreOpens() throws IOException {
        Files.writeString(directory.resolve("c-gone.meta"), "domain=web1\n");
        Files.writeString(directory.resolve("c-x.meta.tmp"), "domain=web");
        new BaselineStore(directory, 1 << 20);
        try (Stream files = new Stream(directory)) {
            assertEquals(List.of(), files.names());
        }
    }

    private static List<String> ids(BaselineStore store) throws BaselineStoreException {
        return store.list().stream().map(BaselineStore.BaselineInfo::id).toList();
    }

    @Test
    void baselineLargerThanTheLimit() throws IOException {
        BaselineStore store = new BaselineStore(directory, 5 * ENTRY);
        BaselineStoreException e = assertThrows(BaselineStoreException.class, () -> commit(store, "big", 5, 1));
        assertEquals(
                "baseline 'big' needs " + size(5, 5) + " bytes, more than hde.baseline-size-limit (" + 5 * ENTRY
                        + " bytes)",
                e.getMessage());
        assertEquals(List.of(), store.list());
        try (Stream files = new Stream(directory)) {
            assertEquals(List.of(), files.names());
        }
    }

    @Test
    void fullDisk() throws IOException {
        // the pages are on disk already (the spool): what the commit still needs is the header page and the index
        BaselineStore store = new BaselineStore(directory, 1 << 20, () -> 4000);
        BaselineStoreException e = assertThrows(BaselineStoreException.class, () -> commit(store, "vm1", 3, 1));
        assertEquals(
                "disk full: baseline 'vm1' needs " + written(3, 3) + " bytes in " + directory
                        + ", the file system has 4000 usable",
                e.getMessage());
        try (Stream files = new Stream(directory)) {
            assertEquals(List.of(), files.names(), "the spool and temporary files are removed");
        }
    }

    @Test
    void recordingCompactsSupersededVersions() throws IOException {
        // room for 8 pages: 40 versions of 4 pages fit because superseded versions are dropped
        BaselineStore store = new BaselineStore(directory, HEADER + 8 * ENTRY);
        try (BaselineRecorder recorder = store.record("vm1")) {
            for (int version = 0; version < 10; version++) {
                for (int p = 0; p < 4; p++) {
                    recorder.page("pc.ram", p * 4096L, page(version * 10L + p), 0);
                }
            }
            assertEquals(4, recorder.commit().pages());
        }
        try (BaselineRecorder recorder = store.record("vm2")) {
            for (int p = 0; p < 8; p++) {
                recorder.page("pc.ram", p * 4096L, page(1000 + p), 0);
            }
            BaselineStoreException e =
                    assertThrows(BaselineStoreException.class, () -> recorder.page("pc.ram", 9 * 4096L, page(2000), 0));
            assertEquals(
                    "baseline 'vm2' holds more than hde.baseline-size-limit (" + (HEADER + 8 * ENTRY)
                            + " bytes) of distinct pages",
                    e.getMessage());
        }
    }

    @Test
    void theSpoolBecomesTheBaselineWhereItLies() throws IOException {
        BaselineStore store = new BaselineStore(directory, 1 << 20);
        PageHasher hasher = new PageHasher();
        // one page of four superseded: its old version stays in the file as a dead slot, nothing is copied
        try (BaselineRecorder recorder = store.record("vm1")) {
            for (int p = 0; p < 4; p++) {
                recorder.page("pc.ram", p * 4096L, page(10 + p), 0);
            }
            recorder.page("pc.ram", 4096, page(20), 0);
            BaselineStore.BaselineInfo info = recorder.commit();
            assertEquals(4, info.pages());
            assertEquals(size(5, 4, 4), info.bytes());
        }
        assertFalse(Files.exists(directory.resolve("vm1.spool")));
        byte[] file = Files.readAllBytes(directory.resolve("vm1.baseline"));
        assertEquals(size(5, 4, 4), file.length);
        java.nio.ByteBuffer header = java.nio.ByteBuffer.wrap(file);
        assertEquals(BaselineStore.MAGIC_4, header.getLong(0));
        assertEquals(4, header.getInt(8));
        assertEquals(5, header.getInt(24));
        for (int i = 28; i < 4096; i++) {
            assertEquals(0, file[i], "the header page past its fields, byte " + i);
        }
        // the slots in the order the pages were recorded, the superseded one among them
        for (int slot = 0; slot < 5; slot++) {
            byte[] expected = page(slot < 4 ? 10 + slot : 20);
            assertArrayEquals(expected, java.util.Arrays.copyOfRange(file, 4096 * (1 + slot), 4096 * (2 + slot)));
        }
        try (StoredBaseline baseline = store.open("vm1")) {
            assertEquals(4, baseline.announcement().pages());
            for (long seed : new long[] {10, 12, 13, 20}) {
                assertArrayEquals(page(seed), baseline.read(hasher.hash(page(seed), 0)), "page " + seed);
            }
            assertNull(baseline.read(hasher.hash(page(11), 0)));
            assertEquals(hasher.hash(page(20), 0), baseline.versionAt("pc.ram", 4096));
            assertEquals(hasher.hash(page(13), 0), baseline.versionAt("pc.ram", 3 * 4096));
        }

        // more than half the slots superseded: compacted before the commit
        try (BaselineRecorder recorder = store.record("vm2")) {
            for (int version = 0; version < 3; version++) {
                for (int p = 0; p < 2; p++) {
                    recorder.page("pc.ram", p * 4096L, page(100 + 10 * version + p), 0);
                }
            }
            assertEquals(size(2, 2, 2), recorder.commit().bytes());
        }
        try (StoredBaseline baseline = store.open("vm2")) {
            assertArrayEquals(page(120), baseline.read(hasher.hash(page(120), 0)));
            assertArrayEquals(page(121), baseline.read(hasher.hash(page(121), 0)));
            assertNull(baseline.read(hasher.hash(page(100), 0)));
        }
    }

    @Test
    void corruptFiles() throws IOException {
        BaselineStore store = new BaselineStore(directory, 1 << 20);
        commit(store, "vm1", 3, 1);
        Path file = directory.resolve("vm1.baseline");
        byte[] bytes = Files.readAllBytes(file);

        int hashesAt = 4096 * (1 + 3); // version 4: the header page and three slots, then the index
        bytes[hashesAt + 3] ^= 1; // a hash bit
        Files.write(file, bytes);
        BaselineStoreException e = assertThrows(BaselineStoreException.class, () -> store.open("vm1"));
        assertTrue(
                e.getMessage().startsWith("baseline file " + file + " is corrupt: CRC-32C of its hashes: expected "),
                e.getMessage());

        bytes[hashesAt + 3] ^= 1;
        // a place is covered by the CRC too
        bytes[hashesAt + 3 * 16 + 3] ^= 1;
        Files.write(file, bytes);
        e = assertThrows(BaselineStoreException.class, () -> store.open("vm1"));
        assertTrue(e.getMessage().contains("is corrupt: CRC-32C of its hashes"), e.getMessage());
        bytes[hashesAt + 3 * 16 + 3] ^= 1;

        // two hashes at one place (the CRC made to match): refused, never a wrong page
        byte[] twoAtOnePlace = bytes.clone();
        java.nio.ByteBuffer view = java.nio.ByteBuffer.wrap(twoAtOnePlace);
        view.putInt(hashesAt + 3 * 16 + 4, view.getInt(hashesAt + 3 * 16));
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(twoAtOnePlace, hashesAt, 3 * 20);
        view.putInt(20, (int) crc.getValue());
        Files.write(file, twoAtOnePlace);
        e = assertThrows(BaselineStoreException.class, () -> store.open("vm1"));
        assertEquals(
                "baseline file " + file + " is corrupt: page 1 is at place " + view.getInt(hashesAt + 3 * 16)
                        + " (3 pages, each at its own place among 3 slots)",
                e.getMessage());

        // a place past the slots (the CRC made to match)
        byte[] pastTheSlots = bytes.clone();
        view = java.nio.ByteBuffer.wrap(pastTheSlots);
        view.putInt(hashesAt + 3 * 16 + 8, 3);
        crc.reset();
        crc.update(pastTheSlots, hashesAt, 3 * 20);
        view.putInt(20, (int) crc.getValue());
        Files.write(file, pastTheSlots);
        e = assertThrows(BaselineStoreException.class, () -> store.open("vm1"));
        assertEquals(
                "baseline file " + file + " is corrupt: page 2 is at place 3 (3 pages, each at its own place among 3"
                        + " slots)",
                e.getMessage());

        // more pages than slots
        byte[] moreThanSlots = bytes.clone();
        java.nio.ByteBuffer.wrap(moreThanSlots).putInt((int) HEADER, 2);
        Files.write(file, moreThanSlots);
        e = assertThrows(BaselineStoreException.class, () -> store.open("vm1"));
        assertEquals("baseline file " + file + " is corrupt: 3 pages in 2 slots", e.getMessage());

        long pagesEnd = hashesAt + 3 * (16 + PLACE);
        Files.write(file, java.util.Arrays.copyOf(bytes, (int) pagesEnd - 1));
        e = assertThrows(BaselineStoreException.class, () -> store.open("vm1"));
        assertEquals(
                "baseline file " + file + " is corrupt: length: expected at least " + (pagesEnd + 12)
                        + " bytes for 3 pages in 3 slots, found " + (pagesEnd - 1),
                e.getMessage());

        // the address section is checked when first used: a flipped bit there costs the deltas, not a wrong page
        bytes[bytes.length - 10] ^= 1;
        Files.write(file, bytes);
        try (StoredBaseline baseline = store.open("vm1")) {
            e = assertThrows(BaselineStoreException.class, () -> baseline.versionAt("pc.ram", 0));
            assertEquals("baseline file " + file + " is corrupt: CRC-32C of its address section", e.getMessage());
        }
        bytes[bytes.length - 10] ^= 1;
        Files.write(file, bytes);
        List<byte[]> pagesOfVersion4 = new java.util.ArrayList<>();
        PageHash atZero;
        try (StoredBaseline baseline = store.open("vm1")) {
            for (int i = 0; i < 3; i++) {
                pagesOfVersion4.add(baseline.read(baseline.announcement().hash(i)));
            }
            atZero = baseline.versionAt("pc.ram", 0);
            assertEquals(new PageHasher().hash(page(1), 0), atZero);
        }

        // files of the versions before still open, with the same pages: version 3 (contents in spool order
        // after the hashes), version 2 (contents in the order of hashes) with its addresses, version 1 without
        // (its pages are referenced, never delta bases)
        for (long magic : new long[] {BaselineStore.MAGIC_3, BaselineStore.MAGIC_2, BaselineStore.MAGIC}) {
            Files.write(file, olderVersion(bytes, 3, magic));
            try (StoredBaseline baseline = store.open("vm1")) {
                assertEquals(magic != BaselineStore.MAGIC, baseline.hasAddresses());
                assertEquals(magic != BaselineStore.MAGIC ? atZero : null, baseline.versionAt("pc.ram", 0));
                assertEquals(3, baseline.announcement().pages());
                for (int i = 0; i < 3; i++) {
                    assertArrayEquals(
                            pagesOfVersion4.get(i),
                            baseline.read(baseline.announcement().hash(i)),
                            "page " + i);
                }
            }
        }

        e = assertThrows(BaselineStoreException.class, () -> store.open("vm2"));
        assertEquals("no baseline 'vm2' in " + directory, e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> store.open("../etc/passwd"));
    }

    @Test
    void leftoversOfAnInterruptedWriteAreRemoved() throws IOException {
        Files.write(directory.resolve("vm1.baseline.tmp"), new byte[10]);
        Files.write(directory.resolve("vm2.spool"), new byte[10]);
        new BaselineStore(directory, 1 << 20);
        try (Stream files = new Stream(directory)) {
            assertEquals(List.of(), files.names());
        }
    }

    @Test
    void malformedAnnouncements() {
        byte[] good = BaselineAnnouncement.serialize(
                List.of(BaselineAnnouncement.of("vm1", List.of(new PageHash(1, 2), new PageHash(3, 4)))));
        assertEquals(
                "baseline announcement: pages of baseline 0: expected at most 1 (the bytes left), found 2",
                assertThrows(
                                BaselineStoreException.class,
                                () -> BaselineAnnouncement.parse(java.util.Arrays.copyOf(good, good.length - 1)))
                        .getMessage());
        assertEquals(
                "baseline announcement: truncated (6 bytes)",
                assertThrows(
                                BaselineStoreException.class,
                                () -> BaselineAnnouncement.parse(java.util.Arrays.copyOf(good, 6)))
                        .getMessage());
        byte[] badMagic = good.clone();
        badMagic[0] = 0;
        assertEquals(
                "baseline announcement: magic: expected 0x48444541, found 0x444541",
                assertThrows(BaselineStoreException.class, () -> BaselineAnnouncement.parse(badMagic))
                        .getMessage());
        byte[] unsorted = good.clone();
        unsorted[unsorted.length - 1] = 0; // the second hash becomes (3, 0) ... still above (1, 2)
        unsorted[unsorted.length - 9] = 0; // ... and now (0, 0): below the first
        assertEquals(
                "baseline announcement: hashes of baseline vm1 are not ascending and distinct at index 1",
                assertThrows(BaselineStoreException.class, () -> BaselineAnnouncement.parse(unsorted))
                        .getMessage());
    }

    /** The names in a directory. */
    private static final class Stream implements AutoCloseable {
        private final java.util.stream.Stream<Path> files;

        Stream(Path directory) throws IOException {
            this.files = Files.list(directory);
        }

        List<String> names() {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }

        @Override
        public void close() {
            files.close();
        }
    }

    /** Spooled pages are written in batches: a baseline spanning several batches, compacted midway, reads back every page. */
    @Test
    void pagesSpanningSeveralSpoolBatchesAndACompactionReadBack() throws IOException {
        int pages = BaselineRecorder.SPOOL_BATCH_PAGES * 2 + 17;
        // room for the final baseline, but not for every version spooled: the recorder compacts
        BaselineStore store = new BaselineStore(directory, size(pages + 10, pages + 40));
        PageHasher hasher = new PageHasher();
        try (BaselineRecorder recorder = store.record("vm1")) {
            // first versions of 30 pages, superseded later: compaction drops them
            for (int i = 0; i < 30; i++) {
                recorder.page("pc.ram", i * 4096L, page(100_000 + i), 0);
            }
            for (int i = 0; i < pages; i++) {
                byte[] content = page(i);
                // the caller's hash for half the pages, the recorder's own for the others
                recorder.page("pc.ram", i * 4096L, content, 0, i % 2 == 0 ? hasher.hash(content, 0) : null);
            }
            assertEquals(pages, recorder.commit().pages());
        }
        try (StoredBaseline baseline = store.open("vm1")) {
            for (int i = 0; i < pages; i++) {
                byte[] content = page(i);
                assertArrayEquals(content, baseline.read(hasher.hash(content, 0)), "page " + i);
            }
            assertNull(baseline.read(hasher.hash(page(100_000), 0)));
        }
    }

    /**
     * Random versions of pages in two RAM blocks, shared contents, pages turning zero, a page at an
     * offset that is not page-aligned, and a spool small enough to be compacted several times: the
     * committed baseline holds exactly the last non-zero version of every page, at its address.
     */
    @Test
    void aRandomRecordingKeepsTheLastVersionOfEveryPage() throws IOException {
        randomRecording(BaselineRecorder.JOURNAL_LIMIT, true);
    }

    /**
     * The same, with the journal brought into the tables every 8 entries, as it is for a guest of
     * more pages than the limit, and the spool written through the page cache, as it is on a file
     * system without direct I/O.
     */
    @Test
    void aRandomRecordingThroughASmallJournalAndThePageCacheKeepsTheLastVersionOfEveryPage() throws IOException {
        randomRecording(8, false);
    }

    private void randomRecording(int journalLimit, boolean directIo) throws IOException {
        Random random = new Random(7);
        String[] blocks = {"pc.ram", "vga.vram"};
        int pagesPerBlock = 150;
        // room for about 420 contents in the spool, and at most 300 are live: 1,500 writes of mostly
        // new contents pass that room only because compaction drops the superseded ones (several times)
        BaselineStore store = new BaselineStore(directory, size(420, 2 * pagesPerBlock));
        java.util.Map<String, byte[]> expected = new java.util.HashMap<>();
        PageHasher hasher = new PageHasher();
        try (BaselineRecorder recorder =
                new BaselineRecorder(store, "vm1", journalLimit, directIo, BaselineRecorder::write)) {
            assertEquals(directIo && directIoWorksIn(directory), recorder.directIo(), "direct I/O for the spool");
            for (int step = 0; step < 1_500; step++) {
                String block = blocks[random.nextInt(blocks.length)];
                long offset = random.nextInt(pagesPerBlock) * 4096L + (step == 700 ? 8 : 0);
                String address = block + "@" + offset;
                int what = random.nextInt(10);
                if (what == 0) {
                    recorder.zero(block, offset);
                    expected.remove(address);
                } else if (what == 1) {
                    recorder.page(block, offset, new byte[4096], 0);
                    expected.remove(address);
                } else {
                    byte[] content = page(random.nextInt(5_000));
                    recorder.page(block, offset, content, 0, what == 2 ? null : hasher.hash(content, 0));
                    expected.put(address, content);
                }
            }
            long distinct = expected.values().stream()
                    .map(content -> hasher.hash(content, 0))
                    .distinct()
                    .count();
            assertEquals(distinct, recorder.distinctPages());
            assertEquals(distinct, recorder.commit().pages());
        }
        try (StoredBaseline baseline = store.open("vm1")) {
            for (String block : blocks) {
                for (int p = 0; p < pagesPerBlock; p++) {
                    byte[] content = expected.get(block + "@" + p * 4096L);
                    PageHash version = baseline.versionAt(block, p * 4096L);
                    if (content == null) {
                        assertNull(version, block + " page " + p);
                    } else {
                        assertEquals(hasher.hash(content, 0), version, block + " page " + p);
                        assertArrayEquals(content, baseline.read(version), block + " page " + p);
                    }
                }
            }
            for (java.util.Map.Entry<String, byte[]> entry : expected.entrySet()) {
                assertArrayEquals(entry.getValue(), baseline.read(hasher.hash(entry.getValue(), 0)), entry.getKey());
            }
        }
    }

    /**
     * A spool that cannot keep up: while its writes are held, the recording goes on without waiting
     * and leaves out the pages no batch buffer can take (forgetting their earlier versions too);
     * once they are written, it records again, and the commit holds exactly the pages recorded.
     */
    @Test
    void aRecordingLeavesOutWhatASlowDiskCannotTakeAndNeverWaits() throws Exception {
        BaselineStore store = new BaselineStore(directory, size(8_192, 8_192));
        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.atomic.AtomicInteger writes = new java.util.concurrent.atomic.AtomicInteger();
        int batch = BaselineRecorder.SPOOL_BATCH_PAGES;
        int buffers = BaselineRecorder.SPOOL_BUFFERS;
        BaselineRecorder.SpoolWrites slow = (channel, pages, position) -> {
            try {
                held.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
            writes.incrementAndGet();
            BaselineRecorder.write(channel, pages, position);
        };
        PageHasher hasher = new PageHasher();
        try (BaselineRecorder recorder =
                new BaselineRecorder(store, "vm1", BaselineRecorder.JOURNAL_LIMIT, true, slow)) {
            // page p at address p: every buffer filled while the first write is held, then 100 more
            int taken = buffers * batch;
            for (int p = 0; p < taken + 100; p++) {
                recorder.page("pc.ram", p * 4096L, page(p), 0);
            }
            assertEquals(100, recorder.shedPages(), "pages left out while every buffer was being written");
            // a page recorded before is left out now: its earlier version must not stand as its last
            recorder.page("pc.ram", 0, page(50_000), 0);
            assertEquals(101, recorder.shedPages());
            held.countDown();
            recorder.flushSpool();
            recorder.page("pc.ram", (taken + 200) * 4096L, page(60_000), 0);
            assertEquals(101, recorder.shedPages(), "once written, the buffers take pages again");
            // the pages taken, but the one at address 0 (left out later), and the last one
            assertEquals(taken, recorder.commit().pages());
            assertTrue(writes.get() >= buffers, "every batch was written: " + writes.get());
        }
        try (StoredBaseline baseline = store.open("vm1")) {
            assertNull(baseline.versionAt("pc.ram", 0), "a page left out has no version");
            assertEquals(hasher.hash(page(1), 0), baseline.versionAt("pc.ram", 4096L));
            assertArrayEquals(page(buffers * batch - 1), baseline.read(hasher.hash(page(buffers * batch - 1), 0)));
            assertNull(baseline.versionAt("pc.ram", (buffers * batch) * 4096L), "the first page left out");
            assertArrayEquals(
                    page(60_000), baseline.read(baseline.versionAt("pc.ram", (buffers * batch + 200) * 4096L)));
        }
    }

    /** A recording's spool buffers go back to the store when it ends, and the next recording takes them instead of new ones. */
    @Test
    void recordingsReuseTheSpoolBuffers() throws IOException {
        BaselineStore store = new BaselineStore(directory, size(8_192, 8_192));
        assertEquals(0, store.keptSpoolBuffers());
        for (int round = 0; round < 3; round++) {
            try (BaselineRecorder recorder = store.record("vm" + round)) {
                assertEquals(0, store.keptSpoolBuffers(), "taken by the recording");
                for (int p = 0; p < 3 * BaselineRecorder.SPOOL_BATCH_PAGES; p++) {
                    recorder.page("pc.ram", p * 4096L, page(round * 10_000 + p), 0);
                }
                if (round != 1) {
                    assertEquals(
                            3 * BaselineRecorder.SPOOL_BATCH_PAGES,
                            recorder.commit().pages());
                }
            }
            assertEquals(BaselineRecorder.SPOOL_BUFFERS, store.keptSpoolBuffers(), "given back, committed or not");
        }
    }

    /** A spool write that fails (the disk filled up) ends the recording at its next batch with a clear error, and leaves no file. */
    @Test
    void aFailedSpoolWriteEndsTheRecording() throws IOException {
        BaselineStore store = new BaselineStore(directory, size(8_192, 8_192));
        BaselineRecorder.SpoolWrites full = (channel, pages, position) -> {
            throw new IOException("No space left on device");
        };
        try (BaselineRecorder recorder =
                new BaselineRecorder(store, "vm1", BaselineRecorder.JOURNAL_LIMIT, true, full)) {
            for (int p = 0; p < BaselineRecorder.SPOOL_BATCH_PAGES; p++) {
                recorder.page("pc.ram", p * 4096L, page(p), 0);
            }
            BaselineStoreException e = assertThrows(BaselineStoreException.class, () -> {
                for (int p = 0; p < BaselineRecorder.SPOOL_BATCH_PAGES * BaselineRecorder.SPOOL_BUFFERS * 2; p++) {
                    recorder.page("pc.ram", p * 4096L, page(10_000 + p), 0);
                }
                recorder.commit();
            });
            assertEquals(
                    "baseline 'vm1': spooling pages to " + store.spoolFile("vm1") + " failed: disk full",
                    e.getMessage());
        }
        try (Stream files = new Stream(directory)) {
            assertEquals(List.of(), files.names(), "the spool is removed");
        }
    }

    /** Whether a file in {@code directory} opens for direct I/O (not on tmpfs, for one). */
    private static boolean directIoWorksIn(Path directory) {
        Path probe = directory.resolve("direct-io.probe");
        try (java.nio.channels.FileChannel channel = java.nio.channels.FileChannel.open(
                probe,
                java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE,
                com.sun.nio.file.ExtendedOpenOption.DIRECT)) {
            return true;
        } catch (IOException | UnsupportedOperationException e) {
            return false;
        } finally {
            try {
                Files.deleteIfExists(probe);
            } catch (IOException e) {
                // the test directory goes anyway
            }
        }
    }

    /**
     * Made-up hashes (only a hostile peer's or a test's are not SHA-256) with many equal high words,
     * a third of them with the top bit set: the commit sorts them as {@link PageHash#compareTo} does
     * (unsigned, high word first, then the low one). The baseline finds a page by binary search on
     * its hash, so a page of a missorted baseline would not be found.
     */
    @Test
    void madeUpHashesWithEqualHighWordsAreSortedAsUnsigned() throws IOException {
        int pages = 300;
        BaselineStore store = new BaselineStore(directory, size(pages + 10, pages + 10));
        Random random = new Random(3);
        List<PageHash> hashes = new java.util.ArrayList<>();
        try (BaselineRecorder recorder = store.record("vm1")) {
            for (int i = 0; i < pages; i++) {
                PageHash hash = new PageHash((i % 3 == 0 ? Long.MIN_VALUE : 0) | random.nextInt(50), random.nextLong());
                hashes.add(hash);
                recorder.page("pc.ram", i * 4096L, page(i), 0, hash);
            }
            assertEquals(pages, recorder.commit().pages());
        }
        try (StoredBaseline baseline = store.open("vm1")) {
            for (int i = 0; i < pages; i++) {
                assertArrayEquals(page(i), baseline.read(hashes.get(i)), "page " + i);
            }
        }
    }

    /** A content-addressed baseline's id: {@code c-} and the first 16 bytes of the SHA-256 of its sorted hashes. */
    @Test
    void aContentAddressedIdIsTheDigestOfTheSortedHashes() throws Exception {
        BaselineStore store = new BaselineStore(directory, size(100, 100));
        PageHasher hasher = new PageHasher();
        List<PageHash> hashes = new java.util.ArrayList<>();
        String id;
        try (BaselineRecorder recorder = store.record("vm1")) {
            for (int i = 0; i < 60; i++) {
                byte[] content = page(500 + i % 40);
                recorder.page("pc.ram", i * 4096L, content, 0);
                if (i < 40) {
                    hashes.add(hasher.hash(content, 0));
                }
            }
            id = recorder.commitContentAddressed().id();
        }
        java.util.Collections.sort(hashes);
        java.security.MessageDigest sha256 = java.security.MessageDigest.getInstance("SHA-256");
        byte[] bytes = new byte[PageHash.BYTES];
        for (PageHash hash : hashes) {
            hash.write(bytes, 0);
            sha256.update(bytes);
        }
        assertEquals("c-" + java.util.HexFormat.of().formatHex(sha256.digest(), 0, 16), id);
        try (StoredBaseline baseline = store.open(id)) {
            assertEquals(40, baseline.announcement().pages());
        }
    }
}
