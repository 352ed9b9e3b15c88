package io.dwcp.bench;

import io.dwcp.testbed.qemu.NativeMode;

import java.util.List;

/**
 * A mode of the benchmark: one of QEMU's own migration modes, run with the TCP congestion control
 * of a stock KVM host (CUBIC) or, as an extra row, with BBR on both hosts ({@code precopy-bbr}).
 */
record BenchMode(String label, NativeMode nativeMode, String congestionControl) {
    static final String STOCK_CONGESTION_CONTROL = "cubic";
    static final List<String> DEFAULTS = List.of("precopy", "multifd", "multifd-zstd", "xbzrle", "precopy-bbr");

    static BenchMode parse(String label) {
        if (label.endsWith("-bbr")) {
            return new BenchMode(label, NativeMode.fromLabel(label.substring(0, label.length() - 4)), "bbr");
        }
        return new BenchMode(label, NativeMode.fromLabel(label), STOCK_CONGESTION_CONTROL);
    }
}
