package io.dwcp.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dwcp.amst.AmstOpen;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The unix target grammar an OPEN may name: NAME, or NAME/MIGRATION-ID naming this host. */
class TargetTest {
    private static final byte[] OFFER = {0};

    @Test
    void acceptedForms() {
        Target peer = Target.of(unix("beta"), "beta");
        assertEquals(new Target(Target.Kind.UNIX, "beta"), peer);
        assertEquals(Optional.empty(), peer.migrationId());
        // the per-peer form names the socket as today, whatever the name
        assertEquals(new Target(Target.Kind.UNIX, "gamma.example-1_x"), Target.of(unix("gamma.example-1_x"), "beta"));

        Target migration = Target.of(unix("beta/0123456789abcdef"), "beta");
        assertEquals(new Target(Target.Kind.UNIX, "beta/0123456789abcdef"), migration);
        assertEquals(Optional.of("0123456789abcdef"), migration.migrationId());
        assertEquals("unix:beta/0123456789abcdef", migration.toString());
        assertEquals(migration, Target.migration("beta", "0123456789abcdef"));
        assertEquals(
                Path.of("/run/dwcp/peer/beta/0123456789abcdef.sock"),
                new io.dwcp.node.NodeConfig().peerSocket(migration.value()));

        Target tcp = Target.of(new AmstOpen(AmstOpen.TargetKind.TCP_PORT, "4444", OFFER), "beta");
        assertEquals(Target.tcp(4444), tcp);
        assertEquals(Optional.empty(), tcp.migrationId());
    }

    @Test
    void targetsThatLeaveTheirFolderAreRefused() {
        String rule = "1-63 characters of [A-Za-z0-9._-], starting with a letter or digit";
        for (String target : new String[] {
            "beta/../x",
            "beta/..",
            "beta/.",
            "beta/a/b",
            "beta/",
            "/beta",
            "/",
            "//",
            "../beta",
            "./beta",
            "beta//x",
            "beta/x/",
            "/etc/passwd",
            "beta/" + "a".repeat(64),
            "beta/a b",
            "beta/\u00e9"
        }) {
            assertRefused(target, "unix target '" + target + "' is neither NAME nor NAME/MIGRATION-ID, each " + rule);
        }
        for (String target : new String[] {"..", ".", ".hidden", "-x", "a b", "a".repeat(64)}) {
            assertRefused(target, "unix target '" + target + "' is not a name: expected " + rule);
        }
        assertRefused("beta/\nx", "unix target 'beta/?x' is neither NAME nor NAME/MIGRATION-ID, each " + rule);
    }

    @Test
    void aMigrationForAnotherHostIsRefused() {
        assertRefused(
                "alpha/0123456789abcdef",
                "unix target 'alpha/0123456789abcdef' names the migration socket of host 'alpha', but this host is 'beta'");
    }

    @Test
    void migrationTargetsAreBuiltFromNamesOnly() {
        IllegalArgumentException refused =
                assertThrows(IllegalArgumentException.class, () -> Target.migration("beta", "../x"));
        assertEquals(
                "a migration's unix target is NAME/MIGRATION-ID, each 1-63 characters of [A-Za-z0-9._-], starting with a letter or digit: 'beta/../x'",
                refused.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Target.migration("a/b", "x"));
    }

    private static void assertRefused(String target, String message) {
        IllegalArgumentException refused =
                assertThrows(IllegalArgumentException.class, () -> Target.of(unix(target), "beta"), target);
        assertEquals(message, refused.getMessage());
    }

    private static AmstOpen unix(String target) {
        return new AmstOpen(AmstOpen.TargetKind.UNIX_SOCKET, target, OFFER);
    }
}
