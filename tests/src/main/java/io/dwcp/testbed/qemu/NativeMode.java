package io.dwcp.testbed.qemu;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * QEMU's own migration modes, configured on both ends as libvirt would for an operator who asks
 * for them: unlimited bandwidth (libvirt's default), QEMU's default 300 ms downtime limit.
 */
public enum NativeMode {
    /** Plain precopy over one TCP connection. */
    PRECOPY("precopy"),
    /** Multifd with 4 channels, no compression. */
    MULTIFD("multifd"),
    /** Multifd with 4 channels and zstd (QEMU's default level 1). */
    MULTIFD_ZSTD("multifd-zstd"),
    /** Precopy with XBZRLE page deltas; a 256 MiB cache holds the heavy workload's hot set twice over. */
    XBZRLE("xbzrle");

    public static final int MULTIFD_CHANNELS = 4;
    public static final long XBZRLE_CACHE_BYTES = 256L << 20;
    /** Effectively unlimited, as libvirt sets it: QEMU's own default would cap at 32 or 128 MiB/s. */
    public static final long UNLIMITED_BANDWIDTH = 1L << 40;

    private final String label;

    NativeMode(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static NativeMode fromLabel(String label) {
        for (NativeMode mode : values()) {
            if (mode.label.equals(label)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("unknown native mode '" + label + "'");
    }

    /** Sets capabilities and parameters; call on the source and on the destination before migrating. */
    public void configure(Qmp qmp) {
        // every capability a mode may set is set either way: a guest migrated before keeps what its
        // earlier migration set (a multifd source cannot migrate to a precopy destination)
        Map<String, Boolean> capabilities = new LinkedHashMap<>();
        capabilities.put("multifd", this == MULTIFD || this == MULTIFD_ZSTD);
        capabilities.put("xbzrle", this == XBZRLE);
        qmp.execute(
                "migrate-set-capabilities",
                Map.of(
                        "capabilities",
                        capabilities.entrySet().stream()
                                .map(e -> Map.of("capability", e.getKey(), "state", e.getValue()))
                                .toList()));
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("max-bandwidth", UNLIMITED_BANDWIDTH);
        switch (this) {
            case PRECOPY -> {}
            case MULTIFD -> {
                parameters.put("multifd-channels", MULTIFD_CHANNELS);
                parameters.put("multifd-compression", "none");
            }
            case MULTIFD_ZSTD -> {
                parameters.put("multifd-channels", MULTIFD_CHANNELS);
                parameters.put("multifd-compression", "zstd");
            }
            case XBZRLE -> parameters.put("xbzrle-cache-size", XBZRLE_CACHE_BYTES);
        }
        qmp.execute("migrate-set-parameters", parameters);
    }

    public static List<String> labels() {
        return java.util.Arrays.stream(values()).map(NativeMode::label).toList();
    }
}
