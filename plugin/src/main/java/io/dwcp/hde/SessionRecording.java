package io.dwcp.hde;

import io.dwcp.migration.stream.Token;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static java.util.Objects.requireNonNull;

/**
 * The baseline one session records (the pages it moved, last version of each), committed under a
 * content-addressed id once the migration completed. Recording is best effort: a failure (size
 * limit, disk) is logged once and ends the recording, never the migration. On the session's loop;
 * the commit runs on the daemon's {@link BaselineJobs} (it writes the whole baseline), which also
 * publishes how the session's baseline ended.
 */
final class SessionRecording
{
    private static final Logger log = LoggerFactory.getLogger(SessionRecording.class);

    private final BaselineJobs jobs;
    private final long sessionId;
    private final String context;
    private BaselineRecorder recorder;

    SessionRecording(BaselineJobs jobs, long sessionId, String role, String context, BaselineRecorder recorder)
    {
        this.jobs = requireNonNull(jobs, "jobs is null");
        this.sessionId = sessionId;
        this.context = requireNonNull(context, "context is null");
        this.recorder = requireNonNull(recorder, "recorder is null");
        jobs.recordingStarted(sessionId, requireNonNull(role, "role is null"));
    }

    /** @param pageHash the content hash of a RAM page token when the caller has it (else it is computed) */
    void token(Token token, PageHash pageHash)
    {
        if (recorder == null) {
            return;
        }
        try {
            recorder.token(token, pageHash);
        }
        catch (BaselineStoreException | RuntimeException e) {
            abandon(e);
        }
    }

    void page(String blockName, long pageOffset, byte[] content, PageHash hash)
    {
        if (recorder == null || pageOffset < 0) {
            return;
        }
        try {
            recorder.page(blockName, pageOffset, content, 0, hash);
        }
        catch (BaselineStoreException | RuntimeException e) {
            abandon(e);
        }
    }

    /** The migration completed: writes the baseline in the background. */
    void commit()
    {
        BaselineRecorder committing = recorder;
        recorder = null;
        if (committing == null) {
            return;
        }
        jobs.commit(sessionId, context, committing);
    }

    /** The session ended without completing: nothing is stored. */
    void close()
    {
        if (recorder != null) {
            recorder.close();
            recorder = null;
            jobs.recordingEnded(sessionId, BaselineJobs.State.NONE, "the migration did not complete");
        }
    }

    private void abandon(Exception e)
    {
        log.info("{} baseline recording stopped (the migration goes on): {}", context, e.getMessage());
        recorder.close();
        recorder = null;
        jobs.recordingEnded(sessionId, BaselineJobs.State.FAILED, "recording stopped: " + e.getMessage());
    }
}
