package io.dwcp.bench;

import io.dwcp.testbed.qemu.NativeMode;
import java.util.List;
import java.util.Map;

/**
 * A mode of the benchmark, of one of three kinds:
 * <ul>
 *   <li>{@link Kind#NATIVE}: one of QEMU's own migration modes, straight over TCP with the
 *       congestion control of a stock KVM host (CUBIC) or, as an extra row, with BBR on both hosts
 *       ({@code precopy-bbr});</li>
 *   <li>{@link Kind#TUNNEL}: QEMU precopy through two dwcpd, with the tunnel's page encoding off
 *       ({@code dwcp-passthrough}) or on ({@code dwcp}), HDE without baselines (none recorded at
 *       either end, none offered: {@code dwcp-nobaselines}, what {@code dwcp} costs without them), a round trip A→B→A with HDE whose
 *       row is the way back, with the baseline the way there left ({@code dwcp-back}); QEMU multifd
 *       through the tunnel with HDE on every channel ({@code dwcp-multifd}); a migration cut and
 *       cancelled at 80 % of the guest's pages, then started again, whose row is the second
 *       attempt ({@code dwcp-resume}, and QEMU alone starting over: {@code precopy-resume},
 *       {@code multifd-zstd-resume}, any native mode with {@code -resume}). Any of them with
 *       {@code -warm}: the two dwcpd first carry a warm-up migration of another guest, so the row
 *       measures daemons whose code the JIT has already compiled, as on a host where dwcpd runs
 *       for days; the warm-up's baseline is never offered ({@code hde.baseline-announce-limit=0}),
 *       so the measured migration reuses nothing of it;</li>
 *   <li>{@link Kind#TRANSPORT}: no guest, the link's goodput for bulk data: one TCP stream with
 *       CUBIC ({@code tcp-cubic}) or BBR ({@code tcp-bbr}), or the AMST tunnel between two dwcpd
 *       ({@code amst}).</li>
 * </ul>
 */
record BenchMode(
        String label, Kind kind, NativeMode nativeMode, String congestionControl, Map<String, String> dwcpSettings) {
    enum Kind {
        NATIVE,
        TUNNEL,
        TRANSPORT
    }

    static final String STOCK_CONGESTION_CONTROL = "cubic";
    static final List<String> DEFAULTS = List.of("precopy", "multifd", "multifd-zstd", "xbzrle", "precopy-bbr");
    /** The order of rows in the tables (then alphabetical). */
    static final List<String> ORDER = List.of(
            "precopy",
            "multifd",
            "multifd-zstd",
            "xbzrle",
            "precopy-bbr",
            "precopy-resume",
            "multifd-resume",
            "multifd-zstd-resume",
            "dwcp-passthrough",
            "dwcp-passthrough-warm",
            "dwcp",
            "dwcp-warm",
            "dwcp-nobaselines",
            "dwcp-multifd",
            "dwcp-multifd-warm",
            "dwcp-back",
            "dwcp-resume",
            "tcp-cubic",
            "tcp-bbr",
            "amst");
    /** Suffix of a mode whose first attempt is cut at 80 % of the pages, then started again. */
    static final String RESUME_SUFFIX = "-resume";
    /** Suffix of a tunnel mode whose daemons carried a warm-up migration first. */
    static final String WARM_SUFFIX = "-warm";
    /** dwcpd settings added for a warm mode: the warm-up guest's baseline is recorded as usual but never offered. */
    static final Map<String, String> NO_BASELINE_OFFER = Map.of("hde.baseline-announce-limit", "0");
    /** dwcpd settings of the pass-through tunnel: QEMU's bytes as they are. */
    static final Map<String, String> PASSTHROUGH = Map.of("codec.mode", "passthrough");
    /** dwcpd settings with HDE page encoding. */
    static final Map<String, String> HDE = Map.of("codec.mode", "hde");
    /** dwcpd settings with HDE page encoding and no baselines: none recorded at either end, none offered. */
    static final Map<String, String> HDE_WITHOUT_BASELINES =
            Map.of("codec.mode", "hde", "hde.baseline-record", "none", "hde.baseline-announce-limit", "0");

    static BenchMode parse(String label) {
        if (label.endsWith(WARM_SUFFIX) && !label.equals("dwcp-back" + WARM_SUFFIX) && !label.endsWith(RESUME_SUFFIX)) {
            BenchMode cold = parse(label.substring(0, label.length() - WARM_SUFFIX.length()));
            if (cold.kind() != Kind.TUNNEL) {
                throw new IllegalArgumentException("'" + label + "': only modes through dwcpd have a warm variant");
            }
            Map<String, String> settings = new java.util.LinkedHashMap<>(cold.dwcpSettings());
            settings.putAll(NO_BASELINE_OFFER);
            return new BenchMode(label, Kind.TUNNEL, cold.nativeMode(), cold.congestionControl(), Map.copyOf(settings));
        }
        if (label.endsWith(RESUME_SUFFIX)) {
            BenchMode once = parse(label.substring(0, label.length() - RESUME_SUFFIX.length()));
            if (once.isTransport() || once.roundTrip() || once.warm()) {
                throw new IllegalArgumentException("'" + label
                        + "': only QEMU's modes and dwcp, dwcp-passthrough, dwcp-multifd have a" + " resume variant");
            }
            return new BenchMode(label, once.kind(), once.nativeMode(), once.congestionControl(), once.dwcpSettings());
        }
        return switch (label) {
            case "tcp-cubic" -> new BenchMode(label, Kind.TRANSPORT, null, "cubic", null);
            case "tcp-bbr" -> new BenchMode(label, Kind.TRANSPORT, null, "bbr", null);
            case "amst" -> new BenchMode(label, Kind.TRANSPORT, null, STOCK_CONGESTION_CONTROL, PASSTHROUGH);
            case "dwcp-passthrough" ->
                new BenchMode(label, Kind.TUNNEL, NativeMode.PRECOPY, STOCK_CONGESTION_CONTROL, PASSTHROUGH);
            case "dwcp", "dwcp-back" ->
                new BenchMode(label, Kind.TUNNEL, NativeMode.PRECOPY, STOCK_CONGESTION_CONTROL, HDE);
            case "dwcp-nobaselines" ->
                new BenchMode(label, Kind.TUNNEL, NativeMode.PRECOPY, STOCK_CONGESTION_CONTROL, HDE_WITHOUT_BASELINES);
            case "dwcp-multifd" -> new BenchMode(label, Kind.TUNNEL, NativeMode.MULTIFD, STOCK_CONGESTION_CONTROL, HDE);
            default ->
                label.endsWith("-bbr")
                        ? new BenchMode(
                                label,
                                Kind.NATIVE,
                                NativeMode.fromLabel(label.substring(0, label.length() - 4)),
                                "bbr",
                                null)
                        : new BenchMode(
                                label, Kind.NATIVE, NativeMode.fromLabel(label), STOCK_CONGESTION_CONTROL, null);
        };
    }

    /** A round trip whose reported leg is the way back (with the baseline the way there left). */
    boolean roundTrip() {
        return label.equals("dwcp-back");
    }

    /**
     * A migration cut and cancelled at {@link Bench#RESUME_CUT_AT} of the guest's pages, then started
     * again; the row is the second attempt ({@code dwcp-resume}: from what the first left at the
     * destination; a native mode's, e.g. {@code precopy-resume}: QEMU from zero).
     */
    boolean resume() {
        return label.endsWith(RESUME_SUFFIX);
    }

    /** Whether the daemons carry a warm-up migration before the measured one. */
    boolean warm() {
        return label.endsWith(WARM_SUFFIX);
    }

    boolean isTransport() {
        return kind == Kind.TRANSPORT;
    }
}
