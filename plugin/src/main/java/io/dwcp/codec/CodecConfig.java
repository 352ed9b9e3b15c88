package io.dwcp.codec;

import io.dwcp.config.Config;
import io.dwcp.config.ConfigurationException;

/**
 * Which codec the tunnel uses for the sessions this host starts. A destination follows the mode
 * its source chose (told in the session's OPEN); it refuses the session only when it cannot honour
 * the source's parameters (e.g. HDE caches larger than its own limits).
 */
public class CodecConfig {
    private String mode = CodecMode.HDE.configName();

    public String getMode() {
        return mode;
    }

    @Config(
            value = "codec.mode",
            description =
                    "hde (page encoding) or passthrough (QEMU's bytes as they are, see tunnel.tokenize-source); the source's mode is the session's")
    public CodecConfig setMode(String mode) {
        try {
            CodecMode.ofConfigName(mode);
        } catch (IllegalArgumentException e) {
            throw ConfigurationException.invalidValue("codec.mode", mode, "expected hde or passthrough");
        }
        this.mode = mode;
        return this;
    }

    public CodecMode codecMode() {
        return CodecMode.ofConfigName(mode);
    }

    public void validate() {
        try {
            codecMode();
        } catch (IllegalArgumentException e) {
            throw new ConfigurationException(e.getMessage());
        }
    }
}
