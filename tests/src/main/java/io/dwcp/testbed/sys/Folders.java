package io.dwcp.testbed.sys;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.logging.Logger;
import java.util.stream.Stream;

/** Folder helpers of the test bed. */
public final class Folders {
    private static final Logger LOG = Logger.getLogger(Folders.class.getName());

    private Folders() {}

    /**
     * Removes {@code folder} and everything below it, if it exists. A failure is logged, not thrown:
     * callers tidy up after work whose result is already decided.
     */
    public static void deleteTree(Path folder) {
        if (!Files.exists(folder)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(folder)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warning("cannot remove " + folder + ": " + e);
        }
    }
}
