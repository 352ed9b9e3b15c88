package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import io.dwcp.migration.stream.Token;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The baseline one session records (the pages it moved, last version of each), committed under a
 * content-addressed id once the migration completed, or when it failed ({@link #keepPartial}). Recording is best effort: a failure (size
 * limit, disk) is logged once and ends the recording, never the migration. On the session's loop;
 * the commit runs on the daemon's {@link BaselineJobs} (it writes the whole baseline), which also
 * publishes how the session's baseline ended.
 */
final class SessionRecording {
    private static final Logger log = LoggerFactory.getLogger(SessionRecording.class);

    private final BaselineJobs jobs;
    private final long sessionId;
    private final String context;
    private BaselineRecorder recorder;

    SessionRecording(BaselineJobs jobs, long sessionId, String role, String context, BaselineRecorder recorder) {
        this.jobs = requireNonNull(jobs, "jobs is null");
        this.sessionId = sessionId;
        this.context = requireNonNull(context, "context is null");
        this.recorder = requireNonNull(recorder, "recorder is null");
        jobs.recordingStarted(sessionId, requireNonNull(role, "role is null"));
    }

    /** @param pageHash the content hash of a RAM page token when the caller has it (else it is computed) */
    void token(Token token, PageHash pageHash) {
        if (recorder == null) {
            return;
        }
        try {
            recorder.token(token, pageHash);
        } catch (BaselineStoreException | RuntimeException e) {
            abandon(e);
        }
    }

    void page(String blockName, long pageOffset, byte[] content, int contentOffset, PageHash hash) {
        if (recorder == null || pageOffset < 0) {
            return;
        }
        try {
            recorder.page(blockName, pageOffset, content, contentOffset, hash);
        } catch (BaselineStoreException | RuntimeException e) {
            abandon(e);
        }
    }

    /** The migration completed: writes the baseline in the background (none when no page was recorded). */
    void commit() {
        if (recorder != null && recorder.recordedNothing()) {
            // e.g. a destination at tier 1, where pages pass as RAW records (hde.tier1-pages raw)
            end(BaselineJobs.State.NONE, "no page was recorded");
            return;
        }
        BaselineRecorder committing = recorder;
        recorder = null;
        if (committing == null) {
            return;
        }
        jobs.commit(sessionId, context, committing);
    }

    /**
     * Ends the recording while the migration goes on, keeping nothing: the pages pass without
     * being recorded from now on ({@code reason} says why), and a baseline of only the pages
     * before would hold versions the destination no longer has. Idempotent.
     */
    void stop(String reason) {
        if (recorder != null) {
            log.info("{} no baseline recorded: {}", context, reason);
            end(BaselineJobs.State.NONE, reason);
        }
    }

    /**
     * The session ended without completing: what it recorded is stored as a baseline all the same,
     * so that the next attempt to the same destination resumes from it (the destination announces
     * it; the source finds its versions for deltas). Safe however the session failed: every page is
     * stored under the hash of its own content and every use of it is checked against that hash,
     * so a partial baseline only ever stands for the pages it holds.
     */
    void keepPartial() {
        if (recorder != null && recorder.recordedNothing()) {
            close();
            return;
        }
        commit();
    }

    /** The session ended without completing and nothing is to be kept. */
    void close() {
        if (recorder != null) {
            end(BaselineJobs.State.NONE, "the migration did not complete");
        }
    }

    private void end(BaselineJobs.State state, String reason) {
        recorder.close();
        recorder = null;
        jobs.recordingEnded(sessionId, state, reason);
    }

    private void abandon(Exception e) {
        log.info("{} baseline recording stopped (the migration goes on): {}", context, e.getMessage());
        end(BaselineJobs.State.FAILED, "recording stopped: " + e.getMessage());
    }
}
