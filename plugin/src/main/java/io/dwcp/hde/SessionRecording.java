package io.dwcp.hde;

import io.dwcp.migration.stream.Token;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import static java.util.Objects.requireNonNull;

/**
 * The baseline one session records (the pages it moved, last version of each), committed under a
 * content-addressed id once the migration completed, or when it failed ({@link #keepPartial}). Recording is best effort: a failure (size
 * limit, disk) is logged once and ends the recording, never the migration. On the session's loop;
 * the commit runs on a thread of its own (it writes the whole baseline).
 */
final class SessionRecording
{
    private static final Logger log = LoggerFactory.getLogger(SessionRecording.class);

    private final String context;
    private BaselineRecorder recorder;

    SessionRecording(String context, BaselineRecorder recorder)
    {
        this.context = requireNonNull(context, "context is null");
        this.recorder = requireNonNull(recorder, "recorder is null");
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
        Thread thread = new Thread(() -> {
            try {
                BaselineStore.BaselineInfo info = committing.commitContentAddressed();
                log.info("{} baseline {} stored: {} distinct pages, {} bytes", context, info.id(), info.pages(), info.bytes());
            }
            catch (BaselineStoreException | RuntimeException e) {
                committing.close();
                log.info("{} baseline not stored: {}", context, e.getMessage());
            }
        }, "hde-baseline-commit");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * The session ended without completing: what it recorded is stored as a baseline all the same,
     * so that the next attempt to the same destination resumes from it (the destination announces
     * it; the source finds its versions for deltas). Safe however the session failed: every page is
     * stored under the hash of its own content and every use of it is checked against that hash,
     * so a partial baseline only ever stands for the pages it holds.
     */
    void keepPartial()
    {
        if (recorder != null && recorder.distinctPages() == 0) {
            close();
            return;
        }
        commit();
    }

    /** The session ended without completing and nothing is to be kept. */
    void close()
    {
        if (recorder != null) {
            recorder.close();
            recorder = null;
        }
    }

    private void abandon(Exception e)
    {
        log.info("{} baseline recording stopped (the migration goes on): {}", context, e.getMessage());
        recorder.close();
        recorder = null;
    }
}
