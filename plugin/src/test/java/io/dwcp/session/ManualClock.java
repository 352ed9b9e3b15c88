package io.dwcp.session;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** A {@link QemuReadGate.Clock} the test moves: scheduled tasks run when {@link #advance} passes their time. */
final class ManualClock implements QemuReadGate.Clock {
    private record Task(long dueNanos, long order, Runnable task) {}

    private final List<Task> tasks = new ArrayList<>();
    private long nanos = 1_000_000_000L;
    private long order;

    @Override
    public long nanoTime() {
        return nanos;
    }

    @Override
    public void schedule(long delayNanos, Runnable task) {
        tasks.add(new Task(nanos + delayNanos, order++, task));
    }

    /** Tasks scheduled and not yet run. */
    int pending() {
        return tasks.size();
    }

    /** Moves the clock on by {@code delta} nanoseconds, running each task as its time comes. */
    void advance(long delta) {
        long until = nanos + delta;
        while (true) {
            Task next = tasks.stream()
                    .filter(t -> t.dueNanos() <= until)
                    .min(Comparator.comparingLong(Task::dueNanos).thenComparingLong(Task::order))
                    .orElse(null);
            if (next == null) {
                break;
            }
            tasks.remove(next);
            nanos = Math.max(nanos, next.dueNanos());
            next.task().run();
        }
        nanos = until;
    }
}
