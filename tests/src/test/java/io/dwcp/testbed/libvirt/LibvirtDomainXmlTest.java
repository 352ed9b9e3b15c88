package io.dwcp.testbed.libvirt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dwcp.testbed.qemu.Accelerator;
import io.dwcp.testbed.qemu.QemuBinary;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;

class LibvirtDomainXmlTest {
    private static LibvirtDomainXml domain(QemuBinary qemu, Accelerator accelerator, String cmdline) {
        return new LibvirtDomainXml(
                "dwcpl-1-vm1",
                qemu,
                accelerator,
                256,
                Path.of("/cache/k & v/vmlinuz"),
                Path.of("/cache/initrd.img"),
                cmdline,
                "/run/libvirt/qemu/dwcpl-1-vm1.console.sock");
    }

    private static Document parse(String xml) throws Exception {
        DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
        factory.setNamespaceAware(true);
        return factory.newDocumentBuilder().parse(new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)));
    }

    private static String text(Document document, String tag) {
        return document.getElementsByTagName(tag).item(0).getTextContent();
    }

    @Test
    void tcgDirectKernelBootWithTheConsoleOnAUnixSocket() throws Exception {
        Document xml = parse(domain(QemuBinary.QEMU_7_2, Accelerator.TCG, "console=ttyS0 dwcp.mem=128 a<b & 'c'")
                .toXml());
        Element root = xml.getDocumentElement();

        assertEquals("domain", root.getTagName());
        assertEquals("qemu", root.getAttribute("type"), "TCG is libvirt's type='qemu'");
        assertEquals("dwcpl-1-vm1", text(xml, "name"));
        assertEquals("256", text(xml, "memory"));
        assertEquals("MiB", ((Element) xml.getElementsByTagName("memory").item(0)).getAttribute("unit"));
        assertEquals("/cache/k & v/vmlinuz", text(xml, "kernel"));
        assertEquals("/cache/initrd.img", text(xml, "initrd"));
        assertEquals("console=ttyS0 dwcp.mem=128 a<b & 'c'", text(xml, "cmdline"));
        assertEquals("qemu64", text(xml, "model"));
        assertEquals("/usr/bin/qemu-system-x86_64", text(xml, "emulator"));
        Element serial = (Element) xml.getElementsByTagName("serial").item(0);
        assertEquals("unix", serial.getAttribute("type"));
        Element source = (Element) serial.getElementsByTagName("source").item(0);
        assertEquals("bind", source.getAttribute("mode"), "QEMU listens, the test bed connects");
        assertEquals("/run/libvirt/qemu/dwcpl-1-vm1.console.sock", source.getAttribute("path"));
        assertEquals("destroy", text(xml, "on_reboot"), "a guest panic (panic=-1) must end the domain");
        assertEquals(0, xml.getElementsByTagName("disk").getLength());
        assertEquals(0, xml.getElementsByTagName("interface").getLength());
    }

    @Test
    void kvmUsesHostPassthrough() throws Exception {
        Document xml = parse(domain(QemuBinary.QEMU_7_2, Accelerator.KVM, "x").toXml());
        assertEquals("kvm", xml.getDocumentElement().getAttribute("type"));
        assertEquals(
                "host-passthrough", ((Element) xml.getElementsByTagName("cpu").item(0)).getAttribute("mode"));
    }

    @Test
    void qemu10GetsItsFirmwarePathThroughQemuCommandline() throws Exception {
        String text = domain(QemuBinary.QEMU_10, Accelerator.TCG, "x").toXml();
        Document xml = parse(text);
        assertEquals(QemuBinary.QEMU_10.executable().toString(), text(xml, "emulator"));
        var arguments = xml.getElementsByTagNameNS("http://libvirt.org/schemas/domain/qemu/1.0", "arg");
        assertEquals(4, arguments.getLength());
        assertEquals("-L", ((Element) arguments.item(0)).getAttribute("value"));
        assertTrue(((Element) arguments.item(1)).getAttribute("value").endsWith("usr/share/qemu"));
        assertFalse(domain(QemuBinary.QEMU_7_2, Accelerator.TCG, "x").toXml().contains("qemu:commandline"));
    }

    @Test
    void rejectsARelativeConsolePathAndTinyMemory() {
        assertThrows(
                IllegalArgumentException.class,
                () -> new LibvirtDomainXml(
                        "d",
                        QemuBinary.QEMU_7_2,
                        Accelerator.TCG,
                        256,
                        Path.of("/k"),
                        Path.of("/i"),
                        "",
                        "relative.sock"));
        assertThrows(
                IllegalArgumentException.class,
                () -> new LibvirtDomainXml(
                        "d", QemuBinary.QEMU_7_2, Accelerator.TCG, 8, Path.of("/k"), Path.of("/i"), "", "/c.sock"));
    }
}
