/**
 * The operator's {@code dwcp} command ({@link io.dwcp.cli.DwcpCommand}): {@code dwcp migrate}
 * ({@link io.dwcp.cli.MigrateCommand}), {@code dwcp evacuate} ({@link io.dwcp.cli.EvacuateCommand}: plans
 * with {@code io.dwcp.itp} and runs each migration through {@link io.dwcp.cli.MigrationRun}, the code
 * path of {@code dwcp migrate}), {@code dwcp status} ({@link io.dwcp.cli.StatusCommand})
 * and {@code dwcp stream}. They reach the local dwcpd through {@link io.dwcp.cli.Dwcpd} (the control
 * socket: {@link io.dwcp.cli.DwcpdControl} over {@link io.dwcp.cli.ControlClient}) and libvirt
 * through {@link io.dwcp.cli.Libvirt}; tests give hand-written fakes of both.
 *
 * <h2>Threads</h2>
 * <ul>
 * <li>The command's main thread does everything but the libvirt migration call, which blocks until
 * the migration ends and runs on {@code dwcp-migrate} (owned by the command, shut down when it
 * returns) while the main thread samples progress and handles Ctrl-C.</li>
 * <li>{@code dwcp evacuate} runs each migration it starts on a {@code dwcp-evacuate} thread (a
 * pool owned by the command, shut down when it returns), which plays the main thread's part for
 * that migration ({@link io.dwcp.cli.MigrationRun}: its own libvirt connections, its own dwcpd
 * migration, its own {@code dwcp-migrate} thread). The main thread measures, plans, asks the
 * {@code io.dwcp.itp.SlotScheduler} what to start, waits for the next migration to end (a
 * completion service: whichever ends first; with {@code --policy itp} it waits at most a poll
 * interval at a time and then gives the {@code io.dwcp.itp.ConcurrencyLearner} the running
 * migrations' byte counts), and at each such slot release observes the links and re-plans; it
 * alone touches the plan, the schedule's state, the predictors and the learner. The threads share
 * the Ctrl-C counter (atomic), one byte counter per migration (atomic: written by its thread at each
 * sample, summed per link and read per migration by the main thread), the dwcpd client (one request per connection) and the
 * output streams (whole lines).</li>
 * <li>{@link io.dwcp.cli.ControlClient} owns one Netty event loop ({@code dwcp-control}) for its
 * requests; callers wait for the answer on their own thread, never on it.</li>
 * </ul>
 */
package io.dwcp.cli;
