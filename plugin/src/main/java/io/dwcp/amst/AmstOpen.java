package io.dwcp.amst;

import static java.util.Objects.requireNonNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * OPEN: sequence 0 of the source, channel 0: what the destination connects to, the VM the
 * migration carries (when the source was told) and the codec the source chose.
 * <pre>
 * Open =&gt;
 *   TargetKind   =&gt; int8    0 = unix socket name, 1 = TCP port
 *   TargetLength =&gt; uint16  1..255
 *   Target       =&gt; bytes   TargetLength bytes of UTF-8: a unix target, NAME (the socket
 *                            &lt;run-dir&gt;/peer/NAME.sock) or NAME "/" MIGRATION-ID (one announced
 *                            migration's socket &lt;run-dir&gt;/peer/NAME/MIGRATION-ID.sock, NAME the
 *                            destination's own), each part under the host name rule (the
 *                            destination checks it, io.dwcp.session.Target#of); or the TCP port in
 *                            decimal, 1..65535, digits only, no leading zero
 *   VmLength     =&gt; uint16  0..1024; 0 when the source knows no VM (a migration through the
 *                            peer's socket rather than an announced one)
 *   Vm           =&gt; bytes   VmLength bytes of UTF-8 without NUL or newline: the domain name the
 *                            migration was announced with at the source (dwcp migrate), by which
 *                            the destination finds the libvirt hook's announcement of it
 *   CodecOffer   =&gt; bytes   the rest, at least 1 byte: int8 mode, then the mode's parameters
 *                            (see io.dwcp.codec.SessionCodecs; the codec checks them)
 * </pre>
 */
public record AmstOpen(TargetKind targetKind, String target, String vm, byte[] codecOffer) implements ControlPayload {
    public static final int MAX_TARGET_LENGTH = 255;
    /** The longest VM name in bytes (the control socket's limit on a domain name). */
    public static final int MAX_VM_LENGTH = 1024;

    public enum TargetKind {
        UNIX_SOCKET(0),
        TCP_PORT(1);

        private final int code;

        TargetKind(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }
    }

    public AmstOpen {
        requireNonNull(targetKind, "targetKind is null");
        requireNonNull(target, "target is null");
        requireNonNull(vm, "vm is null");
        requireNonNull(codecOffer, "codecOffer is null");
        int length = target.getBytes(StandardCharsets.UTF_8).length;
        if (length < 1 || length > MAX_TARGET_LENGTH) {
            throw new IllegalArgumentException("target must be 1.." + MAX_TARGET_LENGTH + " bytes: '" + target + "'");
        }
        if (targetKind == TargetKind.TCP_PORT && parsePort(target) < 0) {
            throw new IllegalArgumentException("TCP port target is not a port: '" + target + "'");
        }
        checkVm(vm);
        if (codecOffer.length == 0) {
            throw new IllegalArgumentException("codecOffer is empty");
        }
        codecOffer = codecOffer.clone();
    }

    /** Throws IllegalArgumentException unless {@code vm} fits in an OPEN: at most {@value #MAX_VM_LENGTH} bytes of UTF-8, no NUL or newline. */
    public static void checkVm(String vm) {
        if (vm.getBytes(StandardCharsets.UTF_8).length > MAX_VM_LENGTH
                || vm.indexOf('\0') >= 0
                || vm.indexOf('\n') >= 0) {
            throw new IllegalArgumentException(
                    "a VM name must be at most " + MAX_VM_LENGTH + " bytes of UTF-8 without NUL or newline");
        }
    }

    /** An OPEN that names no VM. */
    public AmstOpen(TargetKind targetKind, String target, byte[] codecOffer) {
        this(targetKind, target, "", codecOffer);
    }

    @Override
    public byte[] codecOffer() {
        return codecOffer.clone();
    }

    /** The TCP port of a {@link TargetKind#TCP_PORT} target. */
    public int port() {
        if (targetKind != TargetKind.TCP_PORT) {
            throw new IllegalStateException("not a TCP port target: " + this);
        }
        return parsePort(target);
    }

    @Override
    public FrameType type() {
        return FrameType.OPEN;
    }

    @Override
    public ByteBuf encode() {
        byte[] bytes = target.getBytes(StandardCharsets.UTF_8);
        byte[] vmBytes = vm.getBytes(StandardCharsets.UTF_8);
        return Unpooled.buffer(5 + bytes.length + vmBytes.length + codecOffer.length)
                .writeByte(targetKind.code)
                .writeShort(bytes.length)
                .writeBytes(bytes)
                .writeShort(vmBytes.length)
                .writeBytes(vmBytes)
                .writeBytes(codecOffer);
    }

    public static AmstOpen decode(ByteBuf payload) {
        if (payload.readableBytes() < 3) {
            throw new AmstProtocolException(
                    FrameType.OPEN,
                    "payload length",
                    "at least 3 bytes (TargetKind, TargetLength)",
                    payload.readableBytes() + " bytes");
        }
        int code = payload.readUnsignedByte();
        TargetKind kind = switch (code) {
            case 0 -> TargetKind.UNIX_SOCKET;
            case 1 -> TargetKind.TCP_PORT;
            default ->
                throw new AmstProtocolException(
                        FrameType.OPEN, "TargetKind", "0 (unix socket) or 1 (TCP port)", Integer.toString(code));
        };
        int length = payload.readUnsignedShort();
        if (length < 1 || length > MAX_TARGET_LENGTH) {
            throw new AmstProtocolException(
                    FrameType.OPEN, "TargetLength", "1.." + MAX_TARGET_LENGTH, Integer.toString(length));
        }
        if (length > payload.readableBytes()) {
            throw new AmstProtocolException(
                    FrameType.OPEN,
                    "Target",
                    length + " bytes (TargetLength)",
                    payload.readableBytes() + " bytes before the payload's end");
        }
        String target = Utf8.decode(FrameType.OPEN, "Target", payload, length);
        if (kind == TargetKind.TCP_PORT && parsePort(target) < 0) {
            throw new AmstProtocolException(
                    FrameType.OPEN, "Target", "a TCP port 1..65535 in decimal", "'" + target + "'");
        }
        if (payload.readableBytes() < 2) {
            throw new AmstProtocolException(
                    FrameType.OPEN, "VmLength", "2 bytes", payload.readableBytes() + " bytes before the payload's end");
        }
        int vmLength = payload.readUnsignedShort();
        if (vmLength > MAX_VM_LENGTH) {
            throw new AmstProtocolException(
                    FrameType.OPEN, "VmLength", "0.." + MAX_VM_LENGTH, Integer.toString(vmLength));
        }
        if (vmLength > payload.readableBytes()) {
            throw new AmstProtocolException(
                    FrameType.OPEN,
                    "Vm",
                    vmLength + " bytes (VmLength)",
                    payload.readableBytes() + " bytes before the payload's end");
        }
        String vm = Utf8.decode(FrameType.OPEN, "Vm", payload, vmLength);
        if (vm.indexOf('\0') >= 0 || vm.indexOf('\n') >= 0) {
            throw new AmstProtocolException(FrameType.OPEN, "Vm", "a name without NUL or newline", "a NUL or newline");
        }
        if (!payload.isReadable()) {
            throw new AmstProtocolException(FrameType.OPEN, "CodecOffer", "at least 1 byte (the mode)", "0 bytes");
        }
        byte[] offer = new byte[payload.readableBytes()];
        payload.readBytes(offer);
        return new AmstOpen(kind, target, vm, offer);
    }

    /** The port, or -1 unless the text is 1..65535 in decimal digits without a leading zero. */
    private static int parsePort(String text) {
        if (text.isEmpty() || text.length() > 5 || text.charAt(0) == '0') {
            return -1;
        }
        int port = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            port = port * 10 + (c - '0');
        }
        return port <= 65535 ? port : -1;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof AmstOpen that
                && targetKind == that.targetKind
                && target.equals(that.target)
                && vm.equals(that.vm)
                && Arrays.equals(codecOffer, that.codecOffer);
    }

    @Override
    public int hashCode() {
        return ((targetKind.hashCode() * 31 + target.hashCode()) * 31 + vm.hashCode()) * 31
                + Arrays.hashCode(codecOffer);
    }

    @Override
    public String toString() {
        return "AmstOpen[" + targetKind + " '" + target + "' vm '" + vm + "' codecOffer="
                + HexFormat.of().formatHex(codecOffer) + "]";
    }
}
