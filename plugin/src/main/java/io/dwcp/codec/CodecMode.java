package io.dwcp.codec;

import java.util.Locale;

/** How the tunnel carries QEMU's bytes ({@code codec.mode}); the source's choice is the session's. */
public enum CodecMode {
    /** QEMU's bytes as they are (tokenized at the source for statistics if {@code tunnel.tokenize-source}). */
    PASSTHROUGH(0),
    /** HDE page encoding ({@code io.dwcp.hde}). */
    HDE(1);

    private final int code;

    CodecMode(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    public String configName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static CodecMode ofConfigName(String name) {
        for (CodecMode mode : values()) {
            if (mode.configName().equals(name)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("codec mode must be 'hde' or 'passthrough': '" + name + "'");
    }

    /** The mode of a wire code, or null when unknown. */
    public static CodecMode ofCode(int code) {
        for (CodecMode mode : values()) {
            if (mode.code == code) {
                return mode;
            }
        }
        return null;
    }
}
