package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import io.dwcp.codec.CodecException;
import io.dwcp.codec.CodecMode;
import io.dwcp.codec.CodecThreads;
import io.dwcp.codec.DestinationCodec;
import io.dwcp.codec.IdentityStreamCodec;
import io.dwcp.codec.LinkMeasurement;
import io.dwcp.codec.SessionCodecs;
import io.dwcp.codec.SourceCodec;
import io.dwcp.codec.StreamDecoder;
import io.dwcp.codec.StreamEncoder;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link CodecMode#HDE} sessions: one {@link HdeStreamCodec} per session, QEMU's streams HDE-encoded
 * from source to destination, the return path as it is.
 *
 * <h2>Handshake</h2>
 * <pre>
 * offer  (source, in OPEN)  = be32 formatVersion ({@link HdeFrame#FORMAT_VERSION})
 *                             be32 deltaCacheEntries  be32 hashCacheEntries   ; the first QEMU connection's,
 *                                 ; the next ones' are a share of them ({@link HdeFrame#connectionCacheEntries})
 *                             u8 zstdWindowLog   ; per QEMU connection, 0: no ZSTD_STREAM frames
 *                             be32 sessionDeltaEntries  be32 sessionHashEntries
 *                                 ; all the session's connections together: what the source's
 *                                 ; {@code hde.cache-budget} let it reserve, at most their shares summed
 * answer (destination)      = be32 sessionDeltaEntries  be32 sessionHashEntries
 *                                 ; what the destination reserved of its own budget, at most the offer's
 *                             {@link BaselineAnnouncement} of the baselines it holds (possibly none)
 * </pre>
 * (The offer had 13 bytes and the answer was the announcement alone before the session's caches
 * were part of the handshake; the frames' format did not change.) The session's connections then
 * hold at most the lesser of the two ({@link SessionCaches}): each
 * end keeps its caches within its {@link CacheBudget} whatever number of migrations run at once, and
 * a session that found the budget short runs with smaller caches (or none) rather than running the
 * daemon out of memory.
 * The destination refuses (the session fails at once, with the reason at both ends) a format it
 * does not know, caches larger than its own {@code hde.delta-cache-size} / {@code
 * hde.hash-cache-size}, or a zstd window larger than its own {@code hde.zstd-window}: its memory
 * stays bounded by its own configuration. The source reads QEMU
 * only once it has the answer, and references pages of the announced baselines by content hash.
 *
 * <h2>Baselines</h2>
 * Identified by content only: a destination offers its {@code hde.baseline-announce-limit} newest
 * baselines, whatever VM they came from, and the source references the pages whose hashes are in
 * them (each reference is checked against its hash at the destination). So no VM identity is
 * needed and a wrong guess costs nothing but the announcement. After a completed migration the
 * source (what it sent) and/or the destination (what it verified) stores the last version of
 * every page as a new baseline ({@code hde.baseline-record}), under the hash of its content, with
 * where each page was in guest memory, written by {@link BaselineJobs} (which publishes how each
 * session's baseline ended). A session that fails or is cancelled stores what it recorded the
 * same way: the next attempt to the same destination then sends only what that partial baseline
 * lacks or what changed since (a resume; each page is still checked against its hash, so a
 * partial baseline only ever stands for the pages it holds).
 *
 * <p>The source opens its own newest baselines too ({@code hde.baseline-announce-limit} of them):
 * a page that is neither referable nor in the stream's previous-version cache, but that one of them
 * holds at the same guest address in an earlier version which the destination holds as well (by
 * hash), goes as a delta against that version ({@link BaselineVersions}). The hash names the
 * version, so the ends agree on it without a round trip; a baseline of another VM only costs a
 * delta that is not taken (larger than half a page).
 *
 * <h2>Tier and level</h2>
 * {@code hde.tier} 1, 2 or 3, or {@code auto}: the tier of the session's lowest measured RTT
 * ({@link HdeConfig#tierOfRtt}), measured before the first byte is encoded and again at every
 * stream-count adaptation; the zstd level of tier 3 then follows {@link LevelController} with the
 * link rate the session measured.
 */
public final class HdeSessionCodecs implements SessionCodecs {
    private static final Logger log = LoggerFactory.getLogger(HdeSessionCodecs.class);
    static final int OFFER_LENGTH = 21;
    static final int ANSWER_CACHES_LENGTH = 8;

    private final HdeConfig config;
    private final HdeStats stats;
    private final BaselineStore store;
    private final BaselineJobs jobs;
    private final CacheBudget budget;
    /** Where dictionary training runs (the daemon's codec threads). */
    private final Executor training;

    private final IdentityStreamCodec identity = new IdentityStreamCodec();
    private final AtomicLong recordings = new AtomicLong();

    @Inject
    public HdeSessionCodecs(
            HdeConfig config,
            HdeStats stats,
            BaselineStore store,
            BaselineJobs jobs,
            CacheBudget budget,
            CodecThreads codecThreads) {
        this(
                config,
                stats,
                store,
                jobs,
                budget,
                requireNonNull(codecThreads, "codecThreads is null").background());
    }

    /** @param training where the encoders train their zstd dictionaries (CPU-heavy, once per stream) */
    public HdeSessionCodecs(
            HdeConfig config,
            HdeStats stats,
            BaselineStore store,
            BaselineJobs jobs,
            CacheBudget budget,
            Executor training) {
        this.config = requireNonNull(config, "config is null");
        this.stats = requireNonNull(stats, "stats is null");
        this.store = requireNonNull(store, "store is null");
        this.jobs = requireNonNull(jobs, "jobs is null");
        this.budget = requireNonNull(budget, "budget is null");
        this.training = requireNonNull(training, "training is null");
    }

    @Override
    public SourceCodec newSource(long sessionId, String context) {
        return new Source(sessionId, context);
    }

    @Override
    public DestinationCodec newDestination(long sessionId, String context, byte[] offer) {
        int version = offer.length >= 4 ? ByteBuffer.wrap(offer).getInt() : HdeFrame.FORMAT_VERSION;
        if (version != HdeFrame.FORMAT_VERSION) {
            throw new CodecException("HDE offer: format version " + version + ", this host knows "
                    + HdeFrame.FORMAT_VERSION + ": install the same DWCP version on both hosts");
        }
        if (offer.length != OFFER_LENGTH) {
            // 13 bytes: a source from before the session's caches were part of the handshake
            throw new CodecException("HDE offer: expected " + OFFER_LENGTH + " bytes, found " + offer.length
                    + ": install the same DWCP version on both hosts");
        }
        ByteBuffer parameters = ByteBuffer.wrap(offer);
        parameters.getInt();
        int deltaEntries = parameters.getInt();
        int hashEntries = parameters.getInt();
        int windowLog = parameters.get() & 0xff;
        int sessionDelta = parameters.getInt();
        int sessionHash = parameters.getInt();
        if (deltaEntries < 0 || deltaEntries > config.deltaCacheEntries()) {
            throw new CodecException("the source's HDE delta cache (" + Integer.toUnsignedString(deltaEntries)
                    + " pages) is larger than this host's hde.delta-cache-size (" + config.deltaCacheEntries()
                    + " pages): configure both hosts alike");
        }
        if (hashEntries < 0 || hashEntries > config.hashCacheEntries()) {
            throw new CodecException("the source's HDE hash cache (" + Integer.toUnsignedString(hashEntries)
                    + " pages) is larger than this host's hde.hash-cache-size (" + config.hashCacheEntries()
                    + " pages): configure both hosts alike");
        }
        if (windowLog > config.zstdWindowLog()) {
            throw new CodecException("the source's HDE zstd window ("
                    + (windowLog > HdeFrame.MAX_ZSTD_WINDOW_LOG ? "2^" + windowLog : 1L << windowLog)
                    + " bytes) is larger than this host's hde.zstd-window ("
                    + config.getZstdWindow().bytes() + " bytes): configure both hosts alike");
        }
        int maxSessionDelta = HdeFrame.sessionCacheEntries(config.deltaCacheEntries());
        int maxSessionHash = HdeFrame.sessionCacheEntries(config.hashCacheEntries());
        if (sessionDelta < 0 || sessionDelta > maxSessionDelta || sessionHash < 0 || sessionHash > maxSessionHash) {
            throw new CodecException(
                    "the source's HDE caches for the whole session (" + Integer.toUnsignedString(sessionDelta)
                            + " + " + Integer.toUnsignedString(sessionHash) + " pages) are larger than this host's ("
                            + maxSessionDelta + " + " + maxSessionHash + "): configure both hosts alike");
        }
        CacheBudget.Grant grant = budget.reserve(CacheBudget.End.DESTINATION, sessionDelta, sessionHash);
        try {
            return new Destination(sessionId, context, grant);
        } catch (RuntimeException e) {
            grant.close();
            throw e;
        }
    }

    /** A session's caches smaller than asked: why, in its log. */
    private static void logReduced(String context, String end, CacheBudget.Grant grant) {
        if (grant.reduced()) {
            log.info("{} HDE caches reduced at the {}: {}", context, end, grant.describe());
        }
    }

    private SessionRecording recording(long sessionId, String role, String context, boolean enabled) {
        if (!enabled || config.getBaselineSizeLimit().bytes() == 0) {
            return null;
        }
        try {
            return new SessionRecording(
                    jobs,
                    sessionId,
                    role,
                    context,
                    store.record("recording-" + ProcessHandle.current().pid() + "-" + recordings.incrementAndGet()));
        } catch (BaselineStoreException e) {
            log.info("{} no baseline recorded for this migration: {}", context, e.getMessage());
            return null;
        }
    }

    private final class Source implements SourceCodec {
        private final String context;
        private final SessionRecording recording;
        private final HdeStreamCodec codec;
        private final CacheBudget.Grant grant;
        private volatile LinkTier tier = config.linkTier();

        private final List<StoredBaseline> ownBaselines;
        // this session's counters (the daemon's count them too): its level control and its report
        private final HdeStats sessionStats = new HdeStats(stats);
        private volatile long baselinePages;

        private Source(long sessionId, String context) {
            this.context = context;
            this.recording = recording(
                    sessionId, "source", context, config.baselineRecording().atSource());
            this.codec = new HdeStreamCodec(
                    config, sessionStats, context, List.of(), List.of(), recording, () -> tier, training);
            this.grant = budget.reserve(
                    CacheBudget.End.SOURCE,
                    HdeFrame.sessionCacheEntries(config.deltaCacheEntries()),
                    HdeFrame.sessionCacheEntries(config.hashCacheEntries()));
            logReduced(context, "source", grant);
            List<StoredBaseline> newest = openNewestBaselines(context);
            this.ownBaselines =
                    newest.stream().filter(StoredBaseline::hasAddresses).toList();
            closeAll(context, newest.stream().filter(b -> !b.hasAddresses()).toList());
        }

        @Override
        public CodecMode mode() {
            return CodecMode.HDE;
        }

        @Override
        public byte[] offer() {
            return ByteBuffer.allocate(OFFER_LENGTH)
                    .putInt(HdeFrame.FORMAT_VERSION)
                    .putInt(config.deltaCacheEntries())
                    .putInt(config.hashCacheEntries())
                    .put((byte) config.zstdWindowLog())
                    .putInt(grant.deltaEntries())
                    .putInt(grant.hashEntries())
                    .array();
        }

        @Override
        public boolean awaitsAnswer() {
            return true;
        }

        @Override
        public void answer(byte[] answer) {
            if (answer.length < ANSWER_CACHES_LENGTH) {
                throw new CodecException("HDE answer of the destination: " + answer.length
                        + " bytes, shorter than its caches (" + ANSWER_CACHES_LENGTH + ")");
            }
            ByteBuffer caches = ByteBuffer.wrap(answer, 0, ANSWER_CACHES_LENGTH);
            int grantedDelta = caches.getInt();
            int grantedHash = caches.getInt();
            if (grantedDelta < 0
                    || grantedDelta > grant.deltaEntries()
                    || grantedHash < 0
                    || grantedHash > grant.hashEntries()) {
                throw new CodecException(
                        "HDE answer of the destination: caches of " + Integer.toUnsignedString(grantedDelta)
                                + " + " + Integer.toUnsignedString(grantedHash) + " pages, more than the "
                                + grant.deltaEntries()
                                + " + " + grant.hashEntries() + " offered");
            }
            if (grantedDelta < grant.deltaEntries() || grantedHash < grant.hashEntries()) {
                log.info(
                        "{} HDE caches of {} + {} pages: the destination reserved no more of its hde.cache-budget",
                        context,
                        grantedDelta,
                        grantedHash);
            }
            grant.trimTo(grantedDelta, grantedHash);
            codec.sessionCaches(new SessionCaches(grantedDelta, grantedHash));
            List<BaselineAnnouncement> baselines;
            try {
                baselines = BaselineAnnouncement.parse(
                        java.util.Arrays.copyOfRange(answer, ANSWER_CACHES_LENGTH, answer.length));
            } catch (BaselineStoreException e) {
                throw new CodecException("HDE answer of the destination: " + e.getMessage(), e);
            }
            codec.destinationBaselines(baselines);
            baselinePages =
                    baselines.stream().mapToLong(BaselineAnnouncement::pages).sum();
            if (!baselines.isEmpty() && !ownBaselines.isEmpty()) {
                // a page changed since a version both hosts hold goes as a delta against that version
                codec.baselineVersions(new RecordedVersions(ownBaselines));
            }
            log.info(
                    "{} HDE at tier {}{}{}",
                    context,
                    tier.number(),
                    baselines.isEmpty()
                            ? ", the destination holds no baseline"
                            : ", referencing the destination's " + baselines,
                    baselines.isEmpty() || ownBaselines.isEmpty()
                            ? ""
                            : ", deltas against this host's "
                                    + ownBaselines.stream()
                                            .map(StoredBaseline::id)
                                            .toList());
        }

        @Override
        public StreamEncoder newEncoder(int channel) {
            return codec.newEncoder(channel);
        }

        @Override
        public Reuse reuse() {
            return new Reuse(
                    baselinePages,
                    sessionStats.baselineReferences(),
                    sessionStats.pages(PageLevel.BASELINE_DELTA) + sessionStats.pages(PageLevel.BASELINE_ZSTD));
        }

        @Override
        public StreamDecoder newDecoder(int channel) {
            return identity.newDecoder(channel);
        }

        @Override
        public void linkMeasured(LinkMeasurement link) {
            if (config.isTierAuto() && link.minRttMicros() > 0) {
                LinkTier measured = config.tierOfRtt(link.minRttMicros());
                if (measured != tier) {
                    log.info(
                            "{} HDE tier {} -> {} (RTT {} ms)",
                            context,
                            tier.number(),
                            measured.number(),
                            String.format("%.2f", link.minRttMicros() / 1000.0));
                    tier = measured;
                }
            }
            codec.adjust(link.bytesPerSecond(), link.codecHeldNanos());
        }

        @Override
        public void completed() {
            if (recording != null) {
                recording.commit();
            }
        }

        @Override
        public void close() {
            codec.close();
            log.info("{} HDE encoded: {}", context, sessionStats.describe());
            grant.close();
            if (recording != null) {
                // after a completed session there is nothing left to keep; after a failed one, what
                // was sent is kept for the next attempt's deltas
                recording.keepPartial();
            }
            closeAll(context, ownBaselines);
        }
    }

    private final class Destination implements DestinationCodec {
        private final String context;
        private final List<StoredBaseline> baselines;
        private final SessionRecording recording;
        private final HdeStreamCodec codec;
        private final CacheBudget.Grant grant;

        private Destination(long sessionId, String context, CacheBudget.Grant grant) {
            this.context = context;
            this.grant = grant;
            logReduced(context, "destination", grant);
            this.baselines = openNewestBaselines(context);
            this.recording = recording(
                    sessionId,
                    "destination",
                    context,
                    config.baselineRecording().atDestination());
            this.codec = new HdeStreamCodec(
                    config, new HdeStats(stats), context, List.of(), baselines, recording, config::linkTier, training);
            codec.sessionCaches(new SessionCaches(grant.deltaEntries(), grant.hashEntries()));
        }

        @Override
        public CodecMode mode() {
            return CodecMode.HDE;
        }

        @Override
        public byte[] answer() {
            byte[] announcement = BaselineAnnouncement.serialize(
                    baselines.stream().map(StoredBaseline::announcement).toList());
            return ByteBuffer.allocate(ANSWER_CACHES_LENGTH + announcement.length)
                    .putInt(grant.deltaEntries())
                    .putInt(grant.hashEntries())
                    .put(announcement)
                    .array();
        }

        @Override
        public StreamDecoder newDecoder(int channel) {
            return codec.newDecoder(channel);
        }

        @Override
        public StreamEncoder newEncoder(int channel) {
            return identity.newEncoder(channel);
        }

        @Override
        public void completed() {
            if (recording != null) {
                recording.commit();
            }
        }

        @Override
        public void close() {
            codec.close();
            grant.close();
            if (recording != null) {
                // a failed session's verified pages become a baseline: the next attempt resumes
                recording.keepPartial();
            }
            closeAll(context, baselines);
        }
    }

    private static void closeAll(String context, List<StoredBaseline> baselines) {
        for (StoredBaseline baseline : baselines) {
            try {
                baseline.close();
            } catch (IOException e) {
                log.info("{} cannot close baseline {}: {}", context, baseline.id(), e.getMessage());
            }
        }
    }

    private List<StoredBaseline> openNewestBaselines(String context) {
        List<StoredBaseline> opened = new ArrayList<>();
        List<BaselineStore.BaselineInfo> all;
        try {
            all = store.list();
        } catch (BaselineStoreException e) {
            log.warn("{} no baseline offered: {}", context, e.getMessage());
            return opened;
        }
        List<BaselineStore.BaselineInfo> newest = all.stream()
                .sorted(Comparator.comparingLong(BaselineStore.BaselineInfo::createdMillis)
                        .reversed())
                .limit(config.getBaselineAnnounceLimit())
                .toList();
        for (BaselineStore.BaselineInfo info : newest) {
            try {
                opened.add(store.open(info.id()));
            } catch (BaselineStoreException e) {
                log.warn("{} baseline {} not offered: {}", context, info.id(), e.getMessage());
            }
        }
        return opened;
    }
}
