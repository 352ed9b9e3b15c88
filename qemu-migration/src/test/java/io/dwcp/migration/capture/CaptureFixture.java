package io.dwcp.migration.capture;

import com.github.luben.zstd.ZstdOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Captures one golden fixture: a real migration of the memfill guest between two QEMUs of the
 * same version, recorded by {@link CaptureProxy}.
 *
 * <pre>
 * java -cp qemu-migration/target/test-classes:$(cat qemu-migration/target/test-classpath.txt) \
 *     io.dwcp.migration.capture.CaptureFixture 10.0 multifd-zstd qemu-migration/src/test/resources/fixtures
 * </pre>
 *
 * writes {@code qemu-10.0-multifd-zstd/channel-N.bin.zst} (one per connection, accept order) and
 * {@code query-migrate.json} (the source's final statistics, to cross-check the counts).
 */
public final class CaptureFixture {
    enum Version {
        V7_2("7.2", List.of("/usr/bin/qemu-system-x86_64")),
        V10_0(
                "10.0",
                List.of(
                        "/opt/dwcp/qemu-10/usr/bin/qemu-system-x86_64",
                        "-L",
                        "/opt/dwcp/qemu-10/usr/share/qemu",
                        "-L",
                        "/opt/dwcp/qemu-10/usr/share/seabios"));

        final String label;
        final List<String> command;

        Version(String label, List<String> command) {
            this.label = label;
            this.command = command;
        }

        static Version of(String label) {
            for (Version v : values()) {
                if (v.label.equals(label)) {
                    return v;
                }
            }
            throw new IllegalArgumentException("unknown QEMU version " + label + " (7.2 or 10.0)");
        }
    }

    enum Scenario {
        PRECOPY,
        MULTIFD,
        XBZRLE,
        MULTIFD_ZSTD;

        String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        static Scenario of(String label) {
            return valueOf(label.toUpperCase(Locale.ROOT).replace('-', '_'));
        }
    }

    /** Slow enough that the guest dirties pages during the first pass: several passes, XBZRLE deltas. */
    private static final long MAX_BANDWIDTH = 8L << 20;

    /** With a 1 ms downtime limit the migration cannot converge; after this many dirty syncs it may. */
    private static final int RELEASE_AFTER_SYNCS = 5;

    private static int dirtySyncCount(String queryMigrate) {
        java.util.regex.Matcher m =
                java.util.regex.Pattern.compile("\"dirty-sync-count\": (\\d+)").matcher(queryMigrate);
        return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println(
                    "usage: CaptureFixture 7.2|10.0 precopy|multifd|xbzrle|multifd-zstd OUTPUT_DIR [GUEST_ELF]");
            System.exit(2);
        }
        Version version = Version.of(args[0]);
        Scenario scenario = Scenario.of(args[1]);
        Path output = Path.of(args[2]).resolve("qemu-" + version.label + "-" + scenario.label());
        Path work = Files.createTempDirectory("dwcp-capture");
        Path guest = args.length > 3 ? Path.of(args[3]) : buildGuest(work);
        try {
            capture(version, scenario, guest, work, output);
        } finally {
            try (Stream<Path> files = Files.walk(work)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static Path buildGuest(Path work) throws IOException, InterruptedException {
        Path script = Path.of("qemu-migration/src/test/guest/build-guest.sh");
        if (!Files.exists(script)) {
            script = Path.of("src/test/guest/build-guest.sh");
        }
        Path elf = work.resolve("memfill.elf");
        run(List.of("sh", script.toString(), elf.toString()));
        return elf;
    }

    static void capture(Version version, Scenario scenario, Path guest, Path work, Path output) throws Exception {
        Path raw = work.resolve("raw");
        Files.createDirectories(raw);
        Path sourceQmp = work.resolve("source.qmp");
        Path destinationQmp = work.resolve("destination.qmp");
        Path destinationSocket = work.resolve("destination.sock");
        Path proxySocket = work.resolve("proxy.sock");
        Path sourceSerial = work.resolve("source-serial.log");
        Process destination = startQemu(version, guest, destinationQmp, work.resolve("destination-serial.log"), true);
        Process source = startQemu(version, guest, sourceQmp, sourceSerial, false);
        try (Qmp src = connect(sourceQmp);
                Qmp dst = connect(destinationQmp);
                CaptureProxy proxy = new CaptureProxy(proxySocket, destinationSocket, raw)) {
            waitFor(
                    () -> Files.exists(sourceSerial)
                            && Files.readString(sourceSerial, StandardCharsets.ISO_8859_1)
                                    .contains("DWCP-READY"),
                    30_000,
                    "guest ready");
            Thread.sleep(300); // let the guest's dirtying loop run
            for (Qmp qmp : List.of(src, dst)) {
                String capabilities = switch (scenario) {
                    case PRECOPY -> "";
                    case MULTIFD, MULTIFD_ZSTD -> "{\"capability\":\"multifd\",\"state\":true}";
                    case XBZRLE -> "{\"capability\":\"xbzrle\",\"state\":true}";
                };
                qmp.execute("{\"execute\":\"migrate-set-capabilities\",\"arguments\":{\"capabilities\":[" + capabilities
                        + "]}}");
                String parameters = switch (scenario) {
                    case PRECOPY, XBZRLE -> "";
                    case MULTIFD -> ",\"multifd-channels\":2";
                    case MULTIFD_ZSTD -> ",\"multifd-channels\":2,\"multifd-compression\":\"zstd\"";
                };
                qmp.execute("{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"max-bandwidth\":" + MAX_BANDWIDTH
                        + ",\"downtime-limit\":1" + parameters + "}}");
            }
            dst.execute(
                    "{\"execute\":\"migrate-incoming\",\"arguments\":{\"uri\":\"unix:" + destinationSocket + "\"}}");
            waitFor(() -> Files.exists(destinationSocket), 10_000, "destination listening");
            proxy.start();
            src.execute("{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"unix:" + proxySocket + "\"}}");
            String status = "";
            boolean released = false;
            long deadline = System.currentTimeMillis() + 180_000;
            while (System.currentTimeMillis() < deadline) {
                status = src.execute("{\"execute\":\"query-migrate\"}");
                if (!released && dirtySyncCount(status) >= RELEASE_AFTER_SYNCS) {
                    // Enough passes with re-dirtied pages (XBZRLE hits need a page sent twice before): converge.
                    src.execute("{\"execute\":\"migrate-set-parameters\",\"arguments\":{\"downtime-limit\":2000}}");
                    released = true;
                }
                if (status.contains("\"status\": \"completed\"") || status.contains("\"status\": \"failed\"")) {
                    break;
                }
                Thread.sleep(100);
            }
            if (!status.contains("\"status\": \"completed\"")) {
                throw new IllegalStateException("migration did not complete: " + status);
            }
            String destinationStatus = "";
            deadline = System.currentTimeMillis() + 30_000;
            while (System.currentTimeMillis() < deadline) {
                destinationStatus = dst.execute("{\"execute\":\"query-status\"}");
                if (destinationStatus.contains("\"running\"")) {
                    break;
                }
                Thread.sleep(100);
            }
            if (!destinationStatus.contains("\"status\": \"running\"")) {
                throw new IllegalStateException("destination is not running: " + destinationStatus);
            }
            src.execute("{\"execute\":\"quit\"}");
            dst.execute("{\"execute\":\"quit\"}");
            proxy.awaitConnectionsDone(30_000);
            Files.createDirectories(output);
            try (Stream<Path> old = Files.list(output)) {
                for (Path p : (Iterable<Path>) old::iterator) {
                    Files.delete(p);
                }
            }
            Files.writeString(output.resolve("query-migrate.json"), status + "\n");
            try (Stream<Path> files = Files.list(raw)) {
                for (Path file : files.sorted().toList()) {
                    if (Files.size(file) == 0) {
                        continue;
                    }
                    try (OutputStream out = new ZstdOutputStream(
                            Files.newOutputStream(output.resolve(file.getFileName() + ".zst")), 19)) {
                        Files.copy(file, out);
                    }
                    System.out.printf("%s: %d bytes%n", file.getFileName(), Files.size(file));
                }
            }
            System.out.println(status);
        } finally {
            for (Process p : List.of(source, destination)) {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroy();
                    p.waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    private static Process startQemu(Version version, Path guest, Path qmp, Path serial, boolean incoming)
            throws IOException {
        List<String> command = new ArrayList<>(version.command);
        command.addAll(List.of(
                "-accel",
                "tcg,thread=multi",
                "-cpu",
                "qemu64",
                "-m",
                "64",
                "-display",
                "none",
                "-nodefaults",
                "-no-user-config",
                "-kernel",
                guest.toString(),
                "-serial",
                "file:" + serial,
                "-qmp",
                "unix:" + qmp + ",server=on,wait=off"));
        if (incoming) {
            command.addAll(List.of("-incoming", "defer"));
        }
        return new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(qmp.resolveSibling(qmp.getFileName() + ".log").toFile())
                .start();
    }

    private static Qmp connect(Path socket) throws Exception {
        waitFor(() -> Files.exists(socket), 10_000, "QMP socket " + socket);
        return new Qmp(socket);
    }

    interface Condition {
        boolean holds() throws IOException;
    }

    private static void waitFor(Condition condition, long millis, String what) throws Exception {
        long deadline = System.currentTimeMillis() + millis;
        while (!condition.holds()) {
            if (System.currentTimeMillis() > deadline) {
                throw new IllegalStateException("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).inheritIO().start();
        if (p.waitFor() != 0) {
            throw new IOException("failed: " + command);
        }
    }
}
