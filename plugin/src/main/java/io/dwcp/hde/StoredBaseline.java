package io.dwcp.hde;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

import static java.util.Objects.requireNonNull;

/**
 * A baseline file opened for a migration: its hashes in memory, its pages read on demand. It stays
 * in the store until closed. Thread-safe (positional reads).
 */
public final class StoredBaseline
        implements Baseline, Closeable
{
    private final BaselineStore store;
    private final FileChannel channel;
    private final Path file;
    private final BaselineAnnouncement announcement;
    private boolean closed;

    StoredBaseline(BaselineStore store, FileChannel channel, Path file, BaselineAnnouncement announcement)
    {
        this.store = requireNonNull(store, "store is null");
        this.channel = requireNonNull(channel, "channel is null");
        this.file = requireNonNull(file, "file is null");
        this.announcement = requireNonNull(announcement, "announcement is null");
    }

    @Override
    public String id()
    {
        return announcement.id();
    }

    @Override
    public BaselineAnnouncement announcement()
    {
        return announcement;
    }

    @Override
    public byte[] read(PageHash hash)
            throws IOException
    {
        int index = announcement.indexOf(hash);
        if (index < 0) {
            return null;
        }
        ByteBuffer page = ByteBuffer.allocate(HdeFrame.PAGE_SIZE);
        long position = BaselineStore.HEADER_LENGTH + (long) announcement.pages() * PageHash.BYTES + (long) index * HdeFrame.PAGE_SIZE;
        try {
            BaselineStore.readFully(channel, page, position, file);
        }
        catch (IOException e) {
            throw e instanceof BaselineStoreException ? e : new BaselineStoreException("cannot read baseline " + file + ": " + e.getMessage(), e);
        }
        return page.array();
    }

    @Override
    public synchronized void close()
            throws IOException
    {
        if (closed) {
            return;
        }
        closed = true;
        store.unpin(id());
        channel.close();
    }
}
