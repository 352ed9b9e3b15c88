package io.dwcp.testbed.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.UUID;
import org.junit.jupiter.api.Test;

class LibvirtHostTest {
    @Test
    void libvirtdListensOnTheHostAddressOnlyWithItsOwnUuid() {
        UUID uuid = UUID.fromString("11111111-2222-3333-4444-555555555555");
        String conf = LibvirtHost.libvirtdConf(uuid, "10.231.2.2");
        assertTrue(conf.contains("\nhost_uuid = \"11111111-2222-3333-4444-555555555555\"\n"), conf);
        assertTrue(conf.contains("\nlisten_tcp = 1\n"), conf);
        assertTrue(conf.contains("\nlisten_tls = 0\n"), conf);
        assertTrue(conf.contains("\nlisten_addr = \"10.231.2.2\"\n"), conf);
        assertTrue(conf.contains("\nauth_tcp = \"none\"\n"), conf);
    }

    @Test
    void qemuRunsAsRootWithoutCgroupsOrNamespacesAndMigratesToTheHostAddress() {
        String conf = LibvirtHost.qemuConf("10.231.1.2");
        for (String line : new String[] {
            "user = \"root\"",
            "security_driver = \"none\"",
            "namespaces = [ ]",
            "cgroup_controllers = [ ]",
            "migration_address = \"10.231.1.2\"",
            "migration_host = \"10.231.1.2\""
        }) {
            assertTrue(conf.contains("\n" + line + "\n"), line + " in\n" + conf);
        }
    }

    @Test
    void domainNamesCarryTheOwnerPid() {
        assertEquals(LibvirtHost.PREFIX + ProcessHandle.current().pid() + "-vm1", LibvirtHost.domainName("vm1"));
        assertThrows(IllegalArgumentException.class, () -> LibvirtHost.domainName("VM 1"));
        assertEquals("/run/libvirt/qemu/d.console.sock", LibvirtHost.consoleSocketInside("d"));
    }
}
