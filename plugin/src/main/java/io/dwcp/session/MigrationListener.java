package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.netty.channel.Channel;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The unix socket of one announced migration, {@code <run-dir>/peer/<peer>/<migration-id>.sock},
 * opened by {@link QemuListeners#openMigration}. Its connections form one session; closing it
 * stops listening and removes the socket file (a session already started goes on). Opened and
 * closed off event loops (the control thread, or the daemon stopping); {@link #close} is
 * idempotent and safe from any thread.
 */
public final class MigrationListener implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(MigrationListener.class);

    private final String migrationId;
    private final String vm;
    private final Path socket;
    private final Consumer<MigrationListener> onClose;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Channel channel;

    MigrationListener(String migrationId, String vm, Path socket, Consumer<MigrationListener> onClose) {
        this.migrationId = requireNonNull(migrationId, "migrationId is null");
        this.vm = requireNonNull(vm, "vm is null");
        this.socket = requireNonNull(socket, "socket is null");
        this.onClose = requireNonNull(onClose, "onClose is null");
    }

    void bound(Channel channel) {
        this.channel = requireNonNull(channel, "channel is null");
    }

    public String migrationId() {
        return migrationId;
    }

    /** The domain name of the VM the migration carries, as announced; its session's OPEN names it to the destination. */
    public String vm() {
        return vm;
    }

    /** Where the source QEMU connects: {@code <run-dir>/peer/<peer>/<migration-id>.sock}. */
    public Path socket() {
        return socket;
    }

    /** Stops listening and removes the socket file; waits for the listener to close unless called on its event loop. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Channel bound = channel;
        if (bound != null) {
            if (bound.eventLoop().inEventLoop()) {
                bound.close();
            } else {
                bound.close().syncUninterruptibly();
            }
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            log.warn("[migration={}] cannot remove {}: {}", migrationId, socket, e.toString());
        }
        onClose.accept(this);
        log.info("[migration={}] closed {}", migrationId, socket);
    }

    @Override
    public String toString() {
        return "unix:" + socket;
    }
}
