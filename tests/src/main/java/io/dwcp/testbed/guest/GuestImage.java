package io.dwcp.testbed.guest;

import static java.util.Objects.requireNonNull;

import io.dwcp.testbed.sys.Command;
import io.dwcp.testbed.sys.Folders;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * The test guest: Debian's cloud kernel plus an initramfs of busybox-static and two workloads, both
 * compiled with {@code gcc -static -O2}: the synthetic one ({@code tests/src/main/c/workload.c}) and
 * the application one ({@code tests/src/main/c/appload.c}: a SQLite database from Debian's
 * {@code libsqlite3-dev} under transactions, its text from the licences in
 * {@code /usr/share/common-licenses}, copied into the guest's {@code /usr/share/corpus}). The
 * {@code /init} runs one of them on the serial console ({@link WorkloadSpec#program()}).
 *
 * <p>Built at test time and cached in a folder named by a SHA-256 of every input (kernel, busybox,
 * workload sources and their header, init script, corpus, format version), so a second build only hashes the inputs (the
 * digests of kernel and busybox are remembered by path, size, time and inode). Builds
 * go into a temporary folder renamed into place atomically: JVMs building at once are safe, the
 * loser of the rename uses the winner's image. Images unused for a week are removed by the next build.
 *
 * <p>Where things are found (system property, then environment variable, then default):
 * <ul>
 * <li>cache: {@code dwcp.guest.cache}, {@code DWCP_GUEST_CACHE}, {@code /var/cache/dwcp-testbed/guest}
 *     (or {@code ~/.cache/dwcp-testbed/guest} when that cannot be created);</li>
 * <li>kernel: {@code dwcp.guest.kernel} (a file), else the newest {@code vmlinuz-*} in
 *     {@code dwcp.guest.dir}, {@code DWCP_GUEST_DIR}, {@code /opt/dwcp/guest}, else unpacked from a
 *     {@code linux-image-*cloud-amd64*.deb} in that folder or in {@code /var/cache/apt/archives};</li>
 * <li>busybox: {@code dwcp.guest.busybox}, {@code /bin/busybox} (must be static: busybox-static);</li>
 * <li>workload source: {@code dwcp.guest.workload.source}, the class path, {@code src/main/c} of the
 *     tests module this class was loaded from.</li>
 * </ul>
 */
public final class GuestImage {
    private static final Logger LOG = Logger.getLogger(GuestImage.class.getName());
    /** Bump when the way the image is assembled changes, so old cache entries are not reused. */
    private static final String FORMAT = "dwcp-guest-image-2";

    private static final Path CORPUS = Path.of("/usr/share/common-licenses");
    /** What both workloads include (clock, console output, parameters). */
    private static final String HEADER = "guest_console.h";

    private static final String RESOURCES = "/io/dwcp/testbed/guest/";
    private static final Duration COMPILE_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration STALE_TEMPORARY = Duration.ofHours(1);
    private static final Duration UNUSED_IMAGE = Duration.ofDays(7);

    private final Path directory;
    private final String key;

    private GuestImage(Path directory, String key) {
        this.directory = directory;
        this.key = key;
    }

    /** Builds the image from the inputs found as described above, or returns the cached one. */
    public static GuestImage build() {
        Path cache = cacheDirectory();
        return build(findKernel(cache), findBusybox(), cache);
    }

    /** Builds the image from these inputs, or returns the cached one. */
    public static GuestImage build(Path kernel, Path busybox, Path cacheDirectory) {
        requireNonNull(kernel, "kernel is null");
        requireNonNull(busybox, "busybox is null");
        requireNonNull(cacheDirectory, "cacheDirectory is null");
        if (!Files.isRegularFile(kernel)) {
            throw new IllegalStateException("guest kernel " + kernel + " is not a file");
        }
        requireStaticBusybox(busybox);
        byte[] workload = cSource("workload.c", "dwcp.guest.workload.source");
        byte[] app = cSource("appload.c", "dwcp.guest.app.source");
        byte[] header = cSource(HEADER, "dwcp.guest.header.source");
        List<CorpusFile> corpus = corpus();
        byte[] init = resource("init");
        createDirectories(cacheDirectory);
        String key = cacheKey(
                fileDigest(kernel, cacheDirectory),
                fileDigest(busybox, cacheDirectory),
                workload,
                init,
                app,
                corpusBytes(corpus),
                header);
        Path target = cacheDirectory.resolve(key);
        if (Files.isRegularFile(target.resolve("initrd.img"))) {
            markUsed(target);
            return new GuestImage(target, key);
        }
        removeStale(cacheDirectory);
        Path temporary = cacheDirectory.resolve(".tmp-" + key.substring(0, 16) + "-"
                + ProcessHandle.current().pid() + "-" + Long.toHexString(System.nanoTime()));
        Instant start = Instant.now();
        try {
            createDirectories(temporary);
            assemble(temporary, kernel, busybox, workload, app, header, corpus, init);
            try {
                Files.move(temporary, target, StandardCopyOption.ATOMIC_MOVE);
                LOG.info("built guest image " + target + " in "
                        + Duration.between(start, Instant.now()).toMillis() + " ms");
            } catch (AtomicMoveNotSupportedException e) {
                throw new IllegalStateException(
                        "cannot rename " + temporary + " to " + target
                                + " atomically: the cache must be a folder of one file system",
                        e);
            } catch (IOException e) {
                if (!Files.isRegularFile(target.resolve("initrd.img"))) {
                    throw e;
                }
                // another build finished first (rename onto its non-empty folder failed): its image is the same
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build the guest image in " + temporary, e);
        } finally {
            Folders.deleteTree(temporary);
        }
        if (!Files.isRegularFile(target.resolve("initrd.img"))) {
            throw new IllegalStateException("guest image " + target + " is incomplete after its build");
        }
        return new GuestImage(target, key);
    }

    /** The kernel to boot ({@code -kernel}). */
    public Path kernel() {
        return directory.resolve("vmlinuz");
    }

    /**
     * A copy of this image's kernel and initramfs in {@code folder}, owned by the caller: a long run
     * (the benchmark) keeps its guest even if the shared cache is pruned meanwhile.
     */
    public GuestImage copyTo(Path folder) {
        try {
            Files.createDirectories(folder);
            for (Path file : List.of(kernel(), initrd())) {
                Files.copy(file, folder.resolve(file.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy the guest image to " + folder, e);
        }
        return new GuestImage(folder, key);
    }

    /** The initramfs ({@code -initrd}): gzip'ed cpio with busybox, the workload and /init. */
    public Path initrd() {
        return directory.resolve("initrd.img");
    }

    /** The workload binary inside the initramfs (static; it also runs on the host: {@code workload "dwcp.mem=64 ..."}). */
    public Path workloadBinary() {
        return directory.resolve("workload");
    }

    /** The application workload's binary (static, SQLite inside; also runs on a host: {@code appload "dwcp.mem=32 dwcp.db=... dwcp.corpus=..."}). */
    public Path appBinary() {
        return directory.resolve("appload");
    }

    /** SHA-256 of the inputs, in hex: the name of the cache folder. */
    public String cacheKey() {
        return key;
    }

    /**
     * The kernel command line for a guest running {@code spec}: serial console on ttyS0, only
     * critical kernel messages on it (so they cannot split the workload's lines), reboot at once on
     * panic and oops (QEMU's {@code -no-reboot} turns that into an exit), the workload's
     * {@code dwcp.*} parameters, and, with {@code qemu72Workaround}, {@code pti=on nopcid}: the guest
     * option that avoids QEMU 7.2's lost dirty pages under TCG (FACTS.md).
     */
    public String kernelCommandLine(WorkloadSpec spec, boolean qemu72Workaround) {
        return commandLine(spec, qemu72Workaround);
    }

    static String commandLine(WorkloadSpec spec, boolean qemu72Workaround) {
        requireNonNull(spec, "spec is null");
        return "console=ttyS0 panic=-1 oops=panic quiet loglevel=3 " + spec.kernelParameters()
                + (qemu72Workaround ? " pti=on nopcid" : "");
    }

    @Override
    public String toString() {
        return "GuestImage[" + directory + "]";
    }

    // ---- building ----

    private static void assemble(
            Path dir,
            Path kernel,
            Path busybox,
            byte[] workloadSource,
            byte[] appSource,
            byte[] header,
            List<CorpusFile> corpus,
            byte[] init)
            throws IOException {
        Files.copy(kernel, dir.resolve("vmlinuz"));
        Files.write(dir.resolve(HEADER), header);
        if (!Files.isExecutable(Path.of("/usr/bin/gcc")) && !onPath("gcc")) {
            throw new IllegalStateException("gcc is not installed: run tests/setup/install-deps.sh as root"
                    + " (it needs gcc and libc6-dev for the static workload)");
        }
        Path binary = compile(dir, "workload", workloadSource, List.of());
        if (!Files.isRegularFile(Path.of("/usr/lib/x86_64-linux-gnu/libsqlite3.a"))
                && !Files.isRegularFile(Path.of("/usr/lib/libsqlite3.a"))) {
            throw new IllegalStateException("libsqlite3.a is missing: run tests/setup/install-deps.sh as root"
                    + " (the application workload links Debian's libsqlite3-dev statically)");
        }
        Path appBinary = compile(dir, "appload", appSource, List.of("-lsqlite3", "-lm"));
        Files.delete(dir.resolve(HEADER));
        ByteArrayOutputStream cpio = new ByteArrayOutputStream(4 << 20);
        Cpio archive = new Cpio(cpio);
        for (String d : List.of(
                "bin",
                "dev",
                "etc",
                "proc",
                "root",
                "sbin",
                "sys",
                "tmp",
                "usr",
                "usr/bin",
                "usr/sbin",
                "usr/share",
                "usr/share/corpus",
                "var",
                "var/app")) {
            archive.directory(d, d.equals("tmp") ? 01777 : 0755);
        }
        archive.characterDevice("dev/console", 0600, 5, 1);
        archive.characterDevice("dev/null", 0666, 1, 3);
        archive.characterDevice("dev/ttyS0", 0660, 4, 64);
        archive.file("init", 0755, init);
        archive.file("bin/busybox", 0755, Files.readAllBytes(busybox));
        archive.file("bin/workload", 0755, Files.readAllBytes(binary));
        archive.file("bin/appload", 0755, Files.readAllBytes(appBinary));
        for (CorpusFile file : corpus) {
            archive.file("usr/share/corpus/" + file.name(), 0644, file.content());
        }
        archive.finish();
        Path initrd = dir.resolve("initrd.img");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(initrd), 1 << 16)) {
            cpio.writeTo(out);
        }
        Files.writeString(
                dir.resolve("inputs.txt"),
                FORMAT + "\nkernel " + kernel + "\nbusybox " + busybox + "\n",
                StandardCharsets.UTF_8);
    }

    /** Compiles {@code source} statically into {@code dir/name}, logging gcc's warnings. */
    private static Path compile(Path dir, String name, byte[] source, List<String> libraries) throws IOException {
        Path file = dir.resolve(name + ".c");
        Files.write(file, source);
        Path binary = dir.resolve(name);
        List<String> command = new ArrayList<>(List.of(
                "gcc",
                "-static",
                "-O2",
                "-Wall",
                "-Wextra",
                "-I",
                dir.toString(),
                "-o",
                binary.toString(),
                file.toString()));
        command.addAll(libraries);
        String warnings = Command.run(COMPILE_TIMEOUT, command).stderr();
        // a static libsqlite3 always warns that dlopen needs glibc's shared objects at run time:
        // the workload loads no extension, so that one is expected
        boolean unexpected =
                warnings.lines().anyMatch(l -> !l.isBlank() && !l.contains("dlopen") && !l.contains("unixDlOpen"));
        if (unexpected) {
            LOG.warning("gcc warnings for " + name + ":\n" + warnings.strip());
        }
        Files.delete(file);
        return binary;
    }

    /** A text file of the application workload's corpus. */
    record CorpusFile(String name, byte[] content) {}

    /** The corpus: the regular files (not the links) of {@code /usr/share/common-licenses}, by name. */
    static List<CorpusFile> corpus() {
        Path folder = Path.of(System.getProperty("dwcp.guest.corpus", CORPUS.toString()));
        try (Stream<Path> files = Files.list(folder)) {
            List<CorpusFile> corpus = new ArrayList<>();
            for (Path file : files.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS))
                    .sorted()
                    .toList()) {
                corpus.add(new CorpusFile(file.getFileName().toString(), Files.readAllBytes(file)));
            }
            if (corpus.stream().mapToLong(f -> f.content().length).sum() < 64 * 1024) {
                throw new IllegalStateException(
                        "the corpus folder " + folder + " holds less than 64 KiB of text"
                                + " (Debian's base-files puts the licences there; -Ddwcp.guest.corpus=FOLDER to choose another)");
            }
            return corpus;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the corpus folder " + folder, e);
        }
    }

    private static byte[] corpusBytes(List<CorpusFile> corpus) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        for (CorpusFile file : corpus) {
            byte[] name = file.name().getBytes(StandardCharsets.UTF_8);
            all.writeBytes(ByteBuffer.allocate(8)
                    .putInt(name.length)
                    .putInt(file.content().length)
                    .array());
            all.writeBytes(name);
            all.writeBytes(file.content());
        }
        return all.toByteArray();
    }

    /** SHA-256 over the SHA-256 of each input, each input's length-prefixed. */
    static String cacheKey(
            byte[] kernelDigest,
            byte[] busyboxDigest,
            byte[] workloadSource,
            byte[] init,
            byte[] appSource,
            byte[] corpus,
            byte[] header) {
        MessageDigest digest = sha256();
        update(digest, FORMAT.getBytes(StandardCharsets.UTF_8));
        update(digest, kernelDigest);
        update(digest, busyboxDigest);
        update(digest, workloadSource);
        update(digest, init);
        update(digest, appSource);
        update(digest, corpus);
        update(digest, header);
        return HexFormat.of().formatHex(digest.digest());
    }

    private static void update(MessageDigest digest, byte[] part) {
        digest.update(ByteBuffer.allocate(8).putLong(part.length).array());
        digest.update(part);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("no SHA-256 in this JVM", e);
        }
    }

    /**
     * The SHA-256 of a file's content, remembered in the cache under its path, size, time and
     * inode, so that a cached build does not read the 14 MB kernel again (a cold JVM needs about a
     * second for that).
     */
    static byte[] fileDigest(Path file, Path cache) {
        try {
            Path real = file.toRealPath();
            BasicFileAttributes attributes = Files.readAttributes(real, BasicFileAttributes.class);
            String stamp = real + "\0" + attributes.size() + "\0"
                    + attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS) + "\0" + attributes.fileKey();
            Path memo = cache.resolve(".digests")
                    .resolve(HexFormat.of().formatHex(sha256().digest(stamp.getBytes(StandardCharsets.UTF_8))));
            if (Files.isRegularFile(memo)) {
                String remembered =
                        Files.readString(memo, StandardCharsets.US_ASCII).strip();
                if (remembered.matches("[0-9a-f]{64}")) {
                    return HexFormat.of().parseHex(remembered);
                }
            }
            byte[] digest = contentDigest(real);
            Files.createDirectories(memo.getParent());
            Path temporary = memo.resolveSibling(
                    memo.getFileName() + ".tmp-" + ProcessHandle.current().pid() + "-"
                            + Thread.currentThread().getId());
            Files.writeString(temporary, HexFormat.of().formatHex(digest), StandardCharsets.US_ASCII);
            Files.move(temporary, memo, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return digest;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot fingerprint " + file + " (cache " + cache + ")", e);
        }
    }

    static byte[] contentDigest(Path file) {
        MessageDigest digest = sha256();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buffer = ByteBuffer.allocateDirect(1 << 20);
            while (channel.read(buffer) >= 0) {
                buffer.flip();
                digest.update(buffer);
                buffer.clear();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return digest.digest();
    }

    // ---- inputs ----

    static Path cacheDirectory() {
        String configured = setting("dwcp.guest.cache", "DWCP_GUEST_CACHE");
        if (configured != null) {
            return Path.of(configured);
        }
        Path system = Path.of("/var/cache/dwcp-testbed/guest");
        try {
            Files.createDirectories(system);
            if (Files.isWritable(system)) {
                return system;
            }
        } catch (IOException e) {
            // not root: the user's own cache below
        }
        return Path.of(System.getProperty("user.home"), ".cache", "dwcp-testbed", "guest");
    }

    static Path findKernel(Path cache) {
        String explicit = System.getProperty("dwcp.guest.kernel");
        if (explicit != null) {
            return Path.of(explicit);
        }
        String configured = setting("dwcp.guest.dir", "DWCP_GUEST_DIR");
        Path guestDir = Path.of(configured != null ? configured : "/opt/dwcp/guest");
        Optional<Path> unpacked = newest(guestDir, "vmlinuz-");
        if (unpacked.isPresent()) {
            return unpacked.get();
        }
        List<Path> debs = new ArrayList<>();
        for (Path dir : List.of(guestDir, Path.of("/var/cache/apt/archives"))) {
            newestDeb(dir).ifPresent(debs::add);
        }
        if (debs.isEmpty()) {
            throw new IllegalStateException("no guest kernel: no vmlinuz-* in " + guestDir
                    + " and no linux-image-*cloud-amd64*.deb there or in /var/cache/apt/archives;"
                    + " run tests/setup/install-deps.sh as root (or set -Ddwcp.guest.kernel=FILE)");
        }
        return unpackKernel(debs.get(0), cache);
    }

    /** Unpacks {@code deb}'s /boot/vmlinuz-* into the cache (once) and returns it. */
    private static Path unpackKernel(Path deb, Path cache) {
        String name = deb.getFileName().toString().replaceAll("\\.deb$", "");
        Path kernels = cache.resolve("kernels");
        Path target = kernels.resolve(name);
        Optional<Path> done = newest(target, "vmlinuz-");
        if (done.isPresent()) {
            return done.get();
        }
        createDirectories(kernels);
        Path temporary =
                kernels.resolve(".tmp-" + name + "-" + ProcessHandle.current().pid());
        try {
            Folders.deleteTree(temporary);
            Path extracted = temporary.resolve("x");
            createDirectories(extracted);
            Command.run(Duration.ofMinutes(2), List.of("dpkg-deb", "-x", deb.toString(), extracted.toString()));
            Path vmlinuz = newest(extracted.resolve("boot"), "vmlinuz-")
                    .orElseThrow(() ->
                            new IllegalStateException(deb + " has no /boot/vmlinuz-*: not a kernel image package"));
            Path out = temporary.resolve("out");
            createDirectories(out);
            Files.copy(vmlinuz, out.resolve(vmlinuz.getFileName()));
            try {
                Files.move(out, target, StandardCopyOption.ATOMIC_MOVE);
                LOG.info("unpacked the guest kernel from " + deb + " into " + target);
            } catch (IOException e) {
                if (newest(target, "vmlinuz-").isEmpty()) {
                    throw e;
                }
                // unpacked by someone else meanwhile
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack the guest kernel from " + deb, e);
        } finally {
            Folders.deleteTree(temporary);
        }
        return newest(target, "vmlinuz-")
                .orElseThrow(() -> new IllegalStateException("no vmlinuz-* in " + target + " after unpacking " + deb));
    }

    static Path findBusybox() {
        String configured = System.getProperty("dwcp.guest.busybox");
        Path busybox = Path.of(configured != null ? configured : "/bin/busybox");
        if (!Files.isRegularFile(busybox)) {
            throw new IllegalStateException("no busybox at " + busybox
                    + ": run tests/setup/install-deps.sh as root (it installs busybox-static)");
        }
        return busybox;
    }

    /** A dynamically linked busybox cannot run in the initramfs, which has no libc: refuse it early. */
    static void requireStaticBusybox(Path busybox) {
        if (isDynamicElf(busybox)) {
            throw new IllegalStateException(busybox + " is dynamically linked; the guest needs a static busybox:"
                    + " apt-get install busybox-static (tests/setup/install-deps.sh does)");
        }
    }

    /** Whether an ELF64 file has a program interpreter (PT_INTERP), that is, needs a dynamic loader. */
    static boolean isDynamicElf(Path file) {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer header = ByteBuffer.allocate(64).order(ByteOrder.LITTLE_ENDIAN);
            channel.read(header, 0);
            if (header.position() < 64 || header.getInt(0) != 0x464c457f || header.get(4) != 2) {
                throw new IllegalStateException(file + " is not a 64-bit ELF executable");
            }
            long programHeaders = header.getLong(0x20);
            int entrySize = Short.toUnsignedInt(header.getShort(0x36));
            int entries = Short.toUnsignedInt(header.getShort(0x38));
            ByteBuffer type = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < entries; i++) {
                type.clear();
                channel.read(type, programHeaders + (long) i * entrySize);
                if (type.getInt(0) == 3) { // PT_INTERP
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** A workload's C source: the file named by {@code property}, the class path, or the module's src/main/c. */
    static byte[] cSource(String name, String property) {
        String configured = System.getProperty(property);
        if (configured != null) {
            return readAll(Path.of(configured));
        }
        try (InputStream in = GuestImage.class.getResourceAsStream(RESOURCES + name)) {
            if (in != null) {
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + name + " from the class path", e);
        }
        // Running from a checkout: target/classes (or target/test-classes) -> ../../src/main/c
        try {
            Path classes = Path.of(GuestImage.class
                    .getProtectionDomain()
                    .getCodeSource()
                    .getLocation()
                    .toURI());
            Path module = classes.getParent() != null ? classes.getParent().getParent() : null;
            if (module != null) {
                Path source = module.resolve("src/main/c/" + name);
                if (Files.isRegularFile(source)) {
                    return readAll(source);
                }
            }
        } catch (URISyntaxException | RuntimeException e) {
            // not loaded from a folder: fall through to the error below
        }
        throw new IllegalStateException("cannot find " + name + ": not on the class path and not in the tests"
                + " module's src/main/c; set -D" + property + "=PATH");
    }

    private static byte[] resource(String name) {
        try (InputStream in = GuestImage.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + RESOURCES + name + " is missing from the class path");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read resource " + RESOURCES + name, e);
        }
    }

    // ---- files ----

    private static String setting(String property, String environment) {
        String value = System.getProperty(property);
        return value != null ? value : System.getenv(environment);
    }

    private static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, program))) {
                return true;
            }
        }
        return false;
    }

    /** The file in {@code dir} named {@code prefix}* with the highest version in its name, if any. */
    private static Optional<Path> newest(Path dir, String prefix) {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith(prefix) && Files.isRegularFile(f))
                    .max(Comparator.comparing(f -> versionKey(f.getFileName().toString())));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    private static Optional<Path> newestDeb(Path dir) {
        if (!Files.isDirectory(dir)) {
            return Optional.empty();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> {
                        String n = f.getFileName().toString();
                        return n.startsWith("linux-image-")
                                && n.contains("cloud-amd64")
                                && n.endsWith(".deb")
                                && !n.contains("-dbg");
                    })
                    .max(Comparator.comparing(f -> versionKey(f.getFileName().toString())));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /** Orders "vmlinuz-6.1.0-9-..." before "vmlinuz-6.1.0-56-...": numbers compare as numbers. */
    static String versionKey(String name) {
        StringBuilder key = new StringBuilder();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\d+|\\D+").matcher(name);
        while (m.find()) {
            String part = m.group();
            key.append(
                    Character.isDigit(part.charAt(0))
                            ? String.format(
                                    "%012d",
                                    Long.parseLong(part.length() > 12 ? part.substring(part.length() - 12) : part))
                            : part);
        }
        return key.toString();
    }

    private static byte[] readAll(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir, e);
        }
    }

    /** A cache hit refreshes the image's time, so that {@link #removeStale} keeps images in use. */
    private static void markUsed(Path image) {
        try {
            Files.setLastModifiedTime(image, java.nio.file.attribute.FileTime.from(Instant.now()));
        } catch (IOException e) {
            LOG.fine("cannot touch " + image + ": " + e);
        }
    }

    /**
     * Removes temporary folders of builds that died (older than an hour) and images unused for a
     * week (built from other inputs: an older workload or kernel).
     */
    private static void removeStale(Path cache) {
        Instant now = Instant.now();
        try (Stream<Path> entries = Files.list(cache)) {
            for (Path entry : entries.toList()) {
                String name = entry.getFileName().toString();
                Instant modified = Files.getLastModifiedTime(entry).toInstant();
                boolean staleTemporary = name.startsWith(".tmp-") && modified.isBefore(now.minus(STALE_TEMPORARY));
                boolean unusedImage = name.matches("[0-9a-f]{64}") && modified.isBefore(now.minus(UNUSED_IMAGE));
                if (staleTemporary || unusedImage) {
                    Folders.deleteTree(entry);
                }
            }
        } catch (IOException e) {
            LOG.fine("cannot tidy " + cache + ": " + e);
        }
    }
}
