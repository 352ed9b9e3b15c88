package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import java.io.IOException;
import java.util.List;
import java.util.function.Predicate;

/**
 * {@link BaselineVersions} from the baselines this host recorded (version 2 and 3 files, which say where
 * each page was), newest first: the first that holds a page at the address gives its version.
 * Each version read is checked against its hash here, so a flipped bit on this host's disk costs a
 * whole page, never a wrong delta. Thread-safe: multifd channels encode at once.
 */
final class RecordedVersions implements BaselineVersions {
    private static final ThreadLocal<PageHasher> HASHER = ThreadLocal.withInitial(PageHasher::new);

    private final List<StoredBaseline> baselines;

    RecordedVersions(List<StoredBaseline> baselines) {
        this.baselines = List.copyOf(requireNonNull(baselines, "baselines is null"));
    }

    @Override
    public Version versionAt(String block, long offset, Predicate<PageHash> wanted) throws IOException {
        for (StoredBaseline baseline : baselines) {
            PageHash hash = baseline.versionAt(block, offset);
            if (hash == null) {
                continue;
            }
            if (!wanted.test(hash)) {
                return null; // the newest version here is the one to send against; the decoder lacks it
            }
            byte[] content = baseline.read(hash);
            if (content == null || !HASHER.get().hash(content, 0).equals(hash)) {
                throw new BaselineStoreException("baseline " + baseline.id() + " holds a page at block '" + block
                        + "' offset 0x" + Long.toHexString(offset) + " whose content does not match its hash " + hash);
            }
            return new Version(hash, content);
        }
        return null;
    }

    @Override
    public String toString() {
        return "versions of " + baselines.stream().map(StoredBaseline::id).toList();
    }
}
