package io.dwcp.session;

import static java.util.Objects.requireNonNull;

import io.dwcp.amst.AmstOpen;
import io.dwcp.config.Printable;
import io.dwcp.node.NodeConfig;
import java.util.Optional;

/**
 * What the destination dwcpd connects to: a unix socket under {@code <run-dir>/peer/}, or the
 * loopback TCP port QEMU -incoming listens on. Named in the OPEN frame ({@link AmstOpen}).
 *
 * <p>A unix target is one of
 * <pre>
 * UnixTarget =&gt; Name                  the peer's socket {@code <run-dir>/peer/<Name>.sock} (plain virsh migrate)
 *             | Name "/" MigrationId   one announced migration's socket {@code <run-dir>/peer/<Name>/<MigrationId>.sock}
 * Name, MigrationId =&gt; 1-63 characters of [A-Za-z0-9._-], starting with a letter or digit (the host name rule)
 * </pre>
 * so it always names a file directly in {@code <run-dir>/peer/} or in one folder below it: no
 * {@code ..}, no absolute path, no further segments. In the second form, {@code Name} is the
 * destination's own name (the source's name for its peer, which the peer's certificate proves).
 */
public record Target(Kind kind, String value) {
    private static final String RULE = "1-63 characters of [A-Za-z0-9._-], starting with a letter or digit";

    public enum Kind {
        UNIX,
        TCP
    }

    public Target {
        requireNonNull(kind, "kind is null");
        requireNonNull(value, "value is null");
    }

    public static Target unix(String name) {
        return new Target(Kind.UNIX, name);
    }

    /** The unix target of one announced migration to the peer: {@code <peer>/<migrationId>}. */
    public static Target migration(String peer, String migrationId) {
        if (!NodeConfig.isName(peer) || !NodeConfig.isName(migrationId)) {
            throw new IllegalArgumentException("a migration's unix target is NAME/MIGRATION-ID, each " + RULE + ": '"
                    + printable(peer + "/" + migrationId) + "'");
        }
        return new Target(Kind.UNIX, peer + "/" + migrationId);
    }

    public static Target tcp(int port) {
        return new Target(Kind.TCP, Integer.toString(port));
    }

    /** The migration id of a {@code <peer>/<migrationId>} unix target; empty for the other forms. */
    public Optional<String> migrationId() {
        int slash = value.indexOf('/');
        return kind == Kind.UNIX && slash >= 0 ? Optional.of(value.substring(slash + 1)) : Optional.empty();
    }

    /** The OPEN that names this target and the migration's VM ("" if unknown), with the source's codec offer. */
    public AmstOpen open(String vm, byte[] codecOffer) {
        return new AmstOpen(
                switch (kind) {
                    case UNIX -> AmstOpen.TargetKind.UNIX_SOCKET;
                    case TCP -> AmstOpen.TargetKind.TCP_PORT;
                },
                value,
                vm,
                codecOffer);
    }

    /**
     * The target an OPEN names (the frame's grammar is checked by {@link AmstOpen#decode}); throws
     * IllegalArgumentException when a unix target breaks the {@code UnixTarget} grammar, or when a
     * migration's target names another host than {@code thisHost}.
     */
    public static Target of(AmstOpen open, String thisHost) {
        return switch (open.targetKind()) {
            case UNIX_SOCKET -> unixTarget(open.target(), thisHost);
            case TCP_PORT -> tcp(open.port());
        };
    }

    private static Target unixTarget(String target, String thisHost) {
        int slash = target.indexOf('/');
        if (slash < 0) {
            if (!NodeConfig.isName(target)) {
                throw new IllegalArgumentException(
                        "unix target '" + printable(target) + "' is not a name: " + NodeConfig.NAME_RULE);
            }
            return unix(target);
        }
        String host = target.substring(0, slash);
        String migration = target.substring(slash + 1);
        if (!NodeConfig.isName(host) || !NodeConfig.isName(migration)) {
            throw new IllegalArgumentException(
                    "unix target '" + printable(target) + "' is neither NAME nor NAME/MIGRATION-ID, each " + RULE);
        }
        if (!host.equals(thisHost)) {
            throw new IllegalArgumentException("unix target '" + printable(target)
                    + "' names the migration socket of host '" + host + "', but this host is '" + thisHost + "'");
        }
        return new Target(Kind.UNIX, target);
    }

    /** At most 100 characters, control characters shown as '?': safe to quote in a log or an ABORT. */
    private static String printable(String text) {
        return Printable.of(text, 100);
    }

    @Override
    public String toString() {
        return kind == Kind.UNIX ? "unix:" + value : "tcp:" + value;
    }
}
