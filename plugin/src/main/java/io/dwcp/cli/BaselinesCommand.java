package io.dwcp.cli;

import static java.util.Objects.requireNonNull;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.LongSupplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code dwcp baselines [--json]} lists the baselines the local dwcpd keeps; {@code dwcp baselines
 * remove VM} removes those of a VM (protocol: {@code GET /v1/baselines}, {@code POST
 * /v1/baselines/remove} of {@code io.dwcp.control.ControlApi}).
 */
@Command(
        name = "baselines",
        mixinStandardHelpOptions = true,
        version = "dwcp 0.1.0",
        header = "List the baselines the local dwcpd keeps, or remove those of a VM.",
        description = {
            "Lists the baselines the local dwcpd keeps: copies of the memory of VMs that migrated through this host, which "
                    + "a later migration of the same VM to this host references instead of sending those pages again. For each: "
                    + "the VM (domain name and UUID, when dwcpd was told them), the baseline's id, its age, its size on disk, "
                    + "its distinct pages and when a migration last used it ('in use' while a migration has it open).",
            "",
            "dwcpd keeps all baselines within hde.baseline-size-limit (the oldest go first) and removes those older than "
                    + "hde.baseline-max-age. 'dwcp baselines remove VM' removes a VM's baselines at once, e.g. once the VM is "
                    + "undefined.",
            "",
            "Settings come from /etc/dwcp/dwcp.properties (key control.socket); options override them.",
            ""
        },
        subcommands = BaselinesCommand.Remove.class,
        footer = {
            "",
            "Exit status:",
            "  0    listed",
            "  2    usage: options or settings file",
            "  3    dwcpd not running or not answering"
        })
public final class BaselinesCommand implements Callable<Integer> {
    static final int NO_SUCH_BASELINE = 1;
    static final int USAGE = 2;
    static final int DWCPD_UNAVAILABLE = 3;
    static final int IN_USE = 4;

    /** What the commands talk to and write on; tests give fakes. */
    public record Environment(Function<Path, Dwcpd> dwcpd, PrintStream out, PrintStream err, LongSupplier clock) {
        public Environment {
            requireNonNull(dwcpd, "dwcpd is null");
            requireNonNull(out, "out is null");
            requireNonNull(err, "err is null");
            requireNonNull(clock, "clock is null");
        }

        static Environment system() {
            return new Environment(
                    socket -> new DwcpdControl(new ControlClient(socket, Duration.ofSeconds(10))),
                    System.out,
                    System.err,
                    System::currentTimeMillis);
        }
    }

    /** The options both commands share: where dwcpd's control socket is. */
    static final class ControlOptions {
        @Option(
                names = "--control-socket",
                paramLabel = "PATH",
                description =
                        "The local dwcpd's control socket (default: control.socket, else /run/dwcp/control.sock).")
        Path controlSocket;

        @Option(
                names = "--config",
                paramLabel = "FILE",
                description = "The settings file (default: /etc/dwcp/dwcp.properties, used when present).")
        Path configFile;

        Path socket() throws UsageException {
            if (controlSocket != null) {
                return controlSocket;
            }
            try {
                return CliConfig.load(configFile).getControlSocket();
            } catch (CliConfig.Invalid e) {
                throw new UsageException(e.getMessage());
            }
        }
    }

    /** A usage error: exit 2 with the message. */
    static final class UsageException extends Exception {
        UsageException(String message) {
            super(message);
        }
    }

    @Mixin
    ControlOptions control = new ControlOptions();

    @Option(
            names = "--json",
            description =
                    "Print dwcpd's answer as JSON (GET /v1/baselines: the baselines, the limits and the recent commits).")
    boolean json;

    private final Environment environment;

    public BaselinesCommand() {
        this(null);
    }

    /** With a null environment the real one is made when the command runs. */
    public BaselinesCommand(Environment environment) {
        this.environment = environment;
    }

    Environment environment() {
        return environment != null ? environment : Environment.system();
    }

    @Override
    public Integer call() {
        Environment env = environment();
        Path socket;
        try {
            socket = control.socket();
        } catch (UsageException e) {
            env.err().println("dwcp baselines: " + e.getMessage());
            return USAGE;
        }
        Dwcpd.Baselines baselines;
        try (Dwcpd dwcpd = env.dwcpd().apply(socket)) {
            baselines = dwcpd.baselines();
        } catch (Dwcpd.UnavailableException e) {
            env.err().println("dwcp baselines: " + e.getMessage());
            return DWCPD_UNAVAILABLE;
        }
        if (json) {
            env.out().println(baselines.json());
        } else {
            env.out().print(table(baselines, env.clock().getAsLong()));
        }
        return 0;
    }

    /** The listing: one line per baseline, oldest first, then a line with the totals and limits. */
    static String table(Dwcpd.Baselines baselines, long nowMillis) {
        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"VM", "UUID", "BASELINE", "AGE", "SIZE", "PAGES", "LAST USED"});
        for (Dwcpd.Baseline baseline : baselines.baselines()) {
            String lastUsed = baseline.inUse()
                    ? "in use"
                    : baseline.lastUsedAtMillis().isPresent()
                            ? age(nowMillis - baseline.lastUsedAtMillis().getAsLong()) + " ago"
                            : "never";
            rows.add(new String[] {
                baseline.domain().orElse("-"),
                baseline.uuid().orElse("-"),
                baseline.id(),
                age(baseline.ageMillis()),
                ProgressView.bytes(baseline.bytes()),
                Integer.toString(baseline.pages()),
                lastUsed
            });
        }
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                widths[i] = Math.max(widths[i], row[i].length());
            }
        }
        StringBuilder text = new StringBuilder();
        if (baselines.baselines().isEmpty()) {
            text.append("No baselines in ").append(baselines.directory()).append(".\n");
        } else {
            for (String[] row : rows) {
                StringBuilder line = new StringBuilder();
                for (int i = 0; i < row.length; i++) {
                    // numbers right-aligned, text left-aligned
                    boolean number = i == 4 || i == 5;
                    String cell = number
                            ? " ".repeat(widths[i] - row[i].length()) + row[i]
                            : row[i] + " ".repeat(widths[i] - row[i].length());
                    line.append(cell).append(i < row.length - 1 ? "  " : "");
                }
                text.append(line.toString().stripTrailing()).append('\n');
            }
        }
        int count = baselines.baselines().size();
        text.append(String.format(
                Locale.ROOT,
                "%d baseline%s, %s of %s (hde.baseline-size-limit); %s.%n",
                count,
                count == 1 ? "" : "s",
                ProgressView.bytes(baselines.usedBytes()),
                ProgressView.bytes(baselines.sizeLimitBytes()),
                baselines.maxAgeSeconds() == 0
                        ? "no age limit (hde.baseline-max-age)"
                        : "removed when older than " + age(baselines.maxAgeSeconds() * 1000)
                                + " (hde.baseline-max-age)"));
        return text.toString();
    }

    /** The two largest units: 45s, 12m 5s, 3h 20m, 6d 4h. */
    static String age(long millis) {
        long seconds = Math.max(0, millis) / 1000;
        if (seconds < 60) {
            return seconds + "s";
        }
        if (seconds < 3600) {
            return seconds / 60 + "m" + (seconds % 60 == 0 ? "" : " " + seconds % 60 + "s");
        }
        if (seconds < 86400) {
            return seconds / 3600 + "h" + (seconds / 60 % 60 == 0 ? "" : " " + seconds / 60 % 60 + "m");
        }
        return seconds / 86400 + "d" + (seconds / 3600 % 24 == 0 ? "" : " " + seconds / 3600 % 24 + "h");
    }

    /** {@code dwcp baselines remove VM}. */
    @Command(
            name = "remove",
            mixinStandardHelpOptions = true,
            version = "dwcp 0.1.0",
            header = "Remove the baselines of a VM from the local dwcpd.",
            description = {
                "Removes every baseline of VM that the local dwcpd keeps: those whose VM has the domain name or UUID VM, or whose "
                        + "id is VM. Nothing is removed while a migration uses one of them: try again once it ended.",
                ""
            },
            footer = {
                "",
                "Exit status:",
                "  0    removed",
                "  1    dwcpd keeps no baseline of VM",
                "  2    usage: options or settings file",
                "  3    dwcpd not running or not answering",
                "  4    a migration uses one of them: nothing removed"
            })
    static final class Remove implements Callable<Integer> {
        @ParentCommand
        BaselinesCommand parent;

        @Mixin
        ControlOptions control = new ControlOptions();

        @Parameters(
                index = "0",
                paramLabel = "VM",
                description = "The VM: its libvirt domain name or UUID, or a baseline id.")
        String vm;

        @Override
        public Integer call() {
            Environment env = parent.environment();
            Path socket;
            try {
                // options given to 'dwcp baselines' itself count too
                socket = control.controlSocket != null || control.configFile != null
                        ? control.socket()
                        : parent.control.socket();
            } catch (UsageException e) {
                env.err().println("dwcp baselines remove: " + e.getMessage());
                return USAGE;
            }
            Dwcpd.Removal removal;
            try (Dwcpd dwcpd = env.dwcpd().apply(socket)) {
                removal = dwcpd.removeBaselines(vm);
            } catch (Dwcpd.UnavailableException e) {
                env.err().println("dwcp baselines remove: " + e.getMessage());
                return DWCPD_UNAVAILABLE;
            }
            return switch (removal.outcome()) {
                case REMOVED -> {
                    env.out()
                            .println("Removed " + removal.removed().size() + " baseline"
                                    + (removal.removed().size() == 1 ? "" : "s") + " of " + vm + ": "
                                    + String.join(", ", removal.removed()));
                    yield 0;
                }
                case NO_SUCH_BASELINE -> {
                    env.err().println("dwcp baselines remove: " + removal.message());
                    yield NO_SUCH_BASELINE;
                }
                case IN_USE -> {
                    env.err().println("dwcp baselines remove: " + removal.message());
                    yield IN_USE;
                }
            };
        }
    }
}
