package io.dwcp.cli;

/** Exit status of {@code dwcp migrate}, documented in its help. */
public enum ExitCode {
    /** The domain runs at the destination. */
    OK(0),
    /** Bad options or URI, unreadable configuration. */
    USAGE(2),
    /** The local dwcpd is not running, does not answer, does not know the peer, or refused the migration. */
    DWCPD_UNAVAILABLE(3),
    /** libvirt refused before the migration started: no connection, no such domain, domain not running. */
    LIBVIRT_ERROR(4),
    /** The migration started and failed or timed out (--timeout); the domain keeps running at the source. */
    MIGRATION_FAILED(5),
    /** Ctrl-C (SIGINT): the migration job was aborted; the domain keeps running at the source. */
    INTERRUPTED(130);

    private final int code;

    ExitCode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }
}
