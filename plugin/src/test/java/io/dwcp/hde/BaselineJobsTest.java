package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The daemon's baseline jobs: a session's commit and its published outcome, the periodic expiry, closing. */
class BaselineJobsTest {
    private static final long HEADER = BaselineStore.HEADER_LENGTH;
    private static final long ENTRY = PageHash.BYTES + HdeFrame.PAGE_SIZE; // a hash and its page

    @TempDir
    Path directory;

    private final AtomicLong now = new AtomicLong(1_700_000_000_000L);

    private static byte[] page(long seed) {
        byte[] page = new byte[4096];
        new Random(seed).nextBytes(page);
        return page;
    }

    private SessionRecording recording(BaselineJobs jobs, BaselineStore store, long sessionId, int pages)
            throws BaselineStoreException {
        SessionRecording recording = new SessionRecording(
                jobs, sessionId, "source", "[session=" + sessionId + "]", store.record("recording-" + sessionId));
        for (int i = 0; i < pages; i++) {
            recording.page("pc.ram", i * 4096L, page(sessionId * 1000 + i), 0, null);
        }
        return recording;
    }

    @Test
    void aCompletedSessionsCommitIsPublishedWithItsVm() throws Exception {
        BaselineStore store = new BaselineStore(directory, 1 << 20, Duration.ofDays(7), null, now::get);
        try (BaselineJobs jobs = new BaselineJobs(store, Duration.ofHours(1), Duration.ofSeconds(30), now::get)) {
            jobs.setOwners(session ->
                    session == 7 ? Optional.of(new BaselineStore.Owner("web1", Optional.empty())) : Optional.empty());
            assertEquals(Optional.empty(), jobs.outcome(7));
            SessionRecording recording = recording(jobs, store, 7, 5);
            BaselineJobs.Outcome started = jobs.outcome(7).orElseThrow();
            assertEquals(BaselineJobs.State.RECORDING, started.state());
            assertEquals("source", started.role());
            assertEquals(now.get(), started.startedMillis());
            recording.commit();
            // the job thread runs in order: once a check queued after the commit ran, the commit has ended
            jobs.checkNow();
            BaselineJobs.Outcome outcome = jobs.outcome(7).orElseThrow();
            assertEquals(BaselineJobs.State.COMMITTED, outcome.state(), outcome.toString());
            BaselineStore.BaselineInfo info = outcome.baseline().orElseThrow();
            assertTrue(info.id().startsWith("c-"), info.id());
            assertEquals(5, info.pages());
            assertTrue(info.bytes() >= HEADER + 5 * ENTRY, info.toString());
            assertEquals(store.list().get(0).bytes(), info.bytes(), "the outcome names the file's size");
            assertEquals(OptionalLong.of(now.get()), outcome.endedMillis());
            assertEquals(
                    Optional.of(new BaselineStore.Owner("web1", Optional.empty())),
                    store.entries().get(0).owner());
            // the session's close after its commit changes nothing
            recording.close();
            assertEquals(
                    BaselineJobs.State.COMMITTED, jobs.outcome(7).orElseThrow().state());

            // a second session, whose VM this host was not told
            now.addAndGet(1000);
            SessionRecording other = recording(jobs, store, 8, 3);
            other.commit();
            jobs.checkNow();
            assertEquals(
                    BaselineJobs.State.COMMITTED, jobs.outcome(8).orElseThrow().state());
            assertEquals(
                    List.of(7L, 8L),
                    jobs.outcomes().stream()
                            .map(BaselineJobs.Outcome::sessionId)
                            .toList());
            assertEquals(Optional.empty(), store.entries().get(1).owner());
        }
    }

    @Test
    void recordingsThatStopOrDoNotCompleteSayWhy() throws Exception {
        // room for 4 distinct pages of recording
        BaselineStore store = new BaselineStore(directory, 4 * 4096, Duration.ofDays(7), null, now::get);
        try (BaselineJobs jobs = new BaselineJobs(store, Duration.ofHours(1), Duration.ofSeconds(30), now::get)) {
            SessionRecording tooLarge = recording(jobs, store, 1, 5);
            BaselineJobs.Outcome failed = jobs.outcome(1).orElseThrow();
            assertEquals(BaselineJobs.State.FAILED, failed.state());
            assertEquals(
                    Optional.of(
                            "recording stopped: baseline 'recording-1' holds more than hde.baseline-size-limit (16384 bytes) of distinct pages"),
                    failed.reason());
            tooLarge.commit();
            assertEquals(
                    BaselineJobs.State.FAILED,
                    jobs.outcome(1).orElseThrow().state(),
                    "a stopped recording commits nothing");

            SessionRecording unfinished = recording(jobs, store, 2, 2);
            unfinished.close();
            assertEquals(BaselineJobs.State.NONE, jobs.outcome(2).orElseThrow().state());
            assertEquals(
                    Optional.of("the migration did not complete"),
                    jobs.outcome(2).orElseThrow().reason());

            // the commit itself fails: the baseline with its header is larger than the limit
            SessionRecording full = recording(jobs, store, 3, 4);
            full.commit();
            jobs.checkNow();
            BaselineJobs.Outcome commitFailed = jobs.outcome(3).orElseThrow();
            assertEquals(BaselineJobs.State.FAILED, commitFailed.state());
            assertTrue(
                    commitFailed.reason().orElseThrow().contains("more than hde.baseline-size-limit"),
                    commitFailed.toString());
        }
        try (Stream<Path> files = Files.list(directory)) {
            assertEquals(List.of(), files.toList(), "no spool or baseline left");
        }
    }

    @Test
    void aFailedSessionKeepsWhatItRecordedUnlessItRecordedNothing() throws Exception {
        BaselineStore store = new BaselineStore(directory, 1 << 20, Duration.ofDays(7), null, now::get);
        try (BaselineJobs jobs = new BaselineJobs(store, Duration.ofHours(1), Duration.ofSeconds(30), now::get)) {
            recording(jobs, store, 1, 3).keepPartial();
            recording(jobs, store, 2, 0).keepPartial();
            jobs.checkNow();
            BaselineJobs.Outcome partial = jobs.outcome(1).orElseThrow();
            assertEquals(BaselineJobs.State.COMMITTED, partial.state(), partial.toString());
            assertEquals(3, partial.baseline().orElseThrow().pages());
            BaselineJobs.Outcome empty = jobs.outcome(2).orElseThrow();
            assertEquals(BaselineJobs.State.NONE, empty.state(), empty.toString());
            assertEquals(1, store.list().size());
        }
    }

    @Test
    void aRecordingWhosePagesAllWentAgainAsZeroStoresNothing() throws Exception {
        BaselineStore store = new BaselineStore(directory, 1 << 20, Duration.ofDays(7), null, now::get);
        try (BaselineJobs jobs = new BaselineJobs(store, Duration.ofHours(1), Duration.ofSeconds(30), now::get)) {
            BaselineRecorder recorder = store.record("recording-5");
            SessionRecording recording = new SessionRecording(jobs, 5, "destination", "[session=5]", recorder);
            recording.page("pc.ram", 0, page(1), 0, null);
            recording.page("pc.ram", 4096, page(2), 0, null);
            recorder.zero("pc.ram", 0);
            recorder.zero("pc.ram", 4096);
            // the session's end does not bring the recorder's tables up to date: the commit job finds it empty
            recording.commit();
            jobs.checkNow();
            BaselineJobs.Outcome outcome = jobs.outcome(5).orElseThrow();
            assertEquals(BaselineJobs.State.NONE, outcome.state(), outcome.toString());
            assertEquals(Optional.of("no page was recorded"), outcome.reason());
            assertEquals(List.of(), store.list());
        }
        try (Stream<Path> files = Files.list(directory)) {
            assertEquals(
                    List.of(),
                    files.filter(file -> !file.getFileName().toString().startsWith("usage"))
                            .toList(),
                    "no spool or baseline left");
        }
    }

    @Test
    void closingWaitsForCommitsInFlightAndRefusesLaterOnes() throws Exception {
        BaselineStore store = new BaselineStore(directory, 64 << 20, Duration.ofDays(7), null, now::get);
        BaselineJobs jobs = new BaselineJobs(store, Duration.ofHours(1), Duration.ofSeconds(60), now::get);
        SessionRecording large = recording(jobs, store, 1, 4000);
        SessionRecording late = recording(jobs, store, 2, 3);
        large.commit();
        jobs.close();
        assertEquals(
                BaselineJobs.State.COMMITTED, jobs.outcome(1).orElseThrow().state(), "close waited for the commit");
        assertEquals(
                4000, jobs.outcome(1).orElseThrow().baseline().orElseThrow().pages());
        late.commit();
        BaselineJobs.Outcome refused = jobs.outcome(2).orElseThrow();
        assertEquals(BaselineJobs.State.FAILED, refused.state());
        assertEquals(Optional.of("dwcpd stopped before the baseline was written"), refused.reason());
        assertFalse(Files.exists(store.spoolFile("recording-2")), "the refused recording's spool is removed");
        assertThrows(IllegalStateException.class, jobs::checkNow);
        jobs.close();
    }

    @Test
    void thePeriodicCheckRemovesExpiredBaselines() throws Exception {
        BaselineStore store = new BaselineStore(directory, 1 << 20, Duration.ofHours(1), null, now::get);
        try (BaselineJobs jobs = new BaselineJobs(store, Duration.ofMillis(20), Duration.ofSeconds(30), now::get)) {
            SessionRecording recording = recording(jobs, store, 1, 2);
            recording.commit();
            jobs.checkNow();
            assertEquals(1, store.list().size());
            jobs.start();
            assertThrows(IllegalStateException.class, jobs::start);
            now.addAndGet(Duration.ofMinutes(61).toMillis());
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!store.list().isEmpty()) {
                assertTrue(
                        System.nanoTime() < deadline,
                        "the periodic check did not remove the expired baseline within 10 s");
                Thread.sleep(10);
            }
        }
    }

    @Test
    void theCheckIntervalFollowsTheAgeLimit() {
        assertEquals(Duration.ofHours(1), BaselineJobs.checkInterval(Duration.ofDays(7)));
        assertEquals(Duration.ofMinutes(6), BaselineJobs.checkInterval(Duration.ofHours(1)));
        assertEquals(Duration.ofMinutes(1), BaselineJobs.checkInterval(Duration.ofMinutes(5)));
        assertEquals(Duration.ofHours(1), BaselineJobs.checkInterval(Duration.ZERO));
    }

    @Test
    void aLostOutcomeIsNotInventedAndOldOnesAreForgotten() throws IOException {
        BaselineStore store = new BaselineStore(directory, 1 << 20);
        try (BaselineJobs jobs = new BaselineJobs(store, Duration.ofHours(1), Duration.ofSeconds(30), now::get)) {
            for (long session = 0; session < BaselineJobs.KEPT_OUTCOMES + 10; session++) {
                recording(jobs, store, session, 0).close();
            }
            assertEquals(BaselineJobs.KEPT_OUTCOMES, jobs.outcomes().size());
            assertEquals(Optional.empty(), jobs.outcome(0));
            assertEquals(
                    BaselineJobs.State.NONE,
                    jobs.outcome(BaselineJobs.KEPT_OUTCOMES + 9).orElseThrow().state());
        }
    }
}
