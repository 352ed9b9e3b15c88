package io.dwcp.testbed.sys;

/** An external command failed: names the command, its exit code and its stderr. */
public final class CommandException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final Command.Result result;

    public CommandException(Command.Result result) {
        this(result, "exited with " + result.exitCode());
    }

    public CommandException(Command.Result result, String what) {
        super("'" + String.join(" ", result.argv()) + "' " + what
                + (result.stderr().isBlank() ? "" : ": " + result.stderr().strip()));
        this.result = result;
    }

    public Command.Result result() {
        return result;
    }
}
