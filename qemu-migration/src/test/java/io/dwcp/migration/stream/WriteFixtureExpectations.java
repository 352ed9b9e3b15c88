package io.dwcp.migration.stream;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes {@code expected.properties} for fixtures from what the (strict) tokenizer counts. Run it
 * after recapturing, then review the diff against QEMU's own counters in {@code query-migrate.json}
 * (FixtureTest checks both).
 *
 * <pre>java -cp ... io.dwcp.migration.stream.WriteFixtureExpectations qemu-migration/src/test/resources/fixtures/qemu-10.0-precopy ...</pre>
 */
public final class WriteFixtureExpectations {
    private WriteFixtureExpectations() {}

    public static void main(String[] args) throws IOException {
        for (String arg : args) {
            Path fixture = Path.of(arg);
            StringBuilder out = new StringBuilder("# Counts of ")
                    .append(fixture.getFileName())
                    .append(", written by WriteFixtureExpectations and checked against query-migrate.json.\n")
                    .append("# block.NAME = pages/zero pages/xbzrle pages/compressed (multifd) pages\n");
            List<Path> channels = Fixtures.channels(fixture);
            out.append("channels=").append(channels.size()).append('\n');
            for (int i = 0; i < channels.size(); i++) {
                StreamStatistics s = Fixtures.statistics(Fixtures.read(channels.get(i)), TokenizerOptions.strict());
                for (String[] count : Fixtures.counts(i, s)) {
                    out.append(count[0].replace(" ", "\\ "))
                            .append('=')
                            .append(count[1])
                            .append('\n');
                }
            }
            Files.writeString(fixture.resolve("expected.properties"), out);
            System.out.print(out);
        }
    }
}
