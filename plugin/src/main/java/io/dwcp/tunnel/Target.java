package io.dwcp.tunnel;

import io.dwcp.transport.AmstOpen;

import static java.util.Objects.requireNonNull;

/**
 * What the destination dwcpd connects to: the unix socket {@code <run-dir>/peer/<name>.sock} or
 * the loopback TCP port QEMU -incoming listens on. Named in the OPEN frame ({@link AmstOpen}).
 */
public record Target(Kind kind, String value)
{
    public enum Kind
    {
        UNIX, TCP
    }

    public Target
    {
        requireNonNull(kind, "kind is null");
        requireNonNull(value, "value is null");
    }

    public static Target unix(String name)
    {
        return new Target(Kind.UNIX, name);
    }

    public static Target tcp(int port)
    {
        return new Target(Kind.TCP, Integer.toString(port));
    }

    /** The OPEN that names this target, with the source's codec offer. */
    public AmstOpen open(byte[] codecOffer)
    {
        return new AmstOpen(switch (kind) {
            case UNIX -> AmstOpen.TargetKind.UNIX_SOCKET;
            case TCP -> AmstOpen.TargetKind.TCP_PORT;
        }, value, codecOffer);
    }

    /**
     * The target an OPEN names (its grammar is checked by {@link AmstOpen#decode}); throws
     * IllegalArgumentException when a socket name breaks the host name rule.
     */
    public static Target of(AmstOpen open)
    {
        return switch (open.targetKind()) {
            case UNIX_SOCKET -> {
                io.dwcp.node.NodeConfig.checkName(open.target(), "OPEN unix target");
                yield unix(open.target());
            }
            case TCP_PORT -> tcp(open.port());
        };
    }

    @Override
    public String toString()
    {
        return kind == Kind.UNIX ? "unix:" + value : "tcp:" + value;
    }
}
