package io.dwcp.amst;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;

/**
 * The source's streams to its peer, by slot: keeps a stream in every slot below the count the
 * stream count controller wants, dials the missing ones, dials a failed slot again after a
 * backoff (100 ms, doubling to 1 s), and when the count shrinks marks the streams of the slots
 * above it as draining (their owner closes each once nothing sent on it waits for an ACK).
 *
 * <p>Owned by the session's event loop; not thread-safe. Dialling and timers go through a
 * {@link Dialer} and a {@link Scheduler}, whose callbacks the owner runs on that loop, so the
 * pool is tested without sockets or clocks.
 */
public final class StreamPool {
    /** The longest wait before dialling a failed slot again. */
    static final long MAX_BACKOFF_MILLIS = 1000;

    /** Opens a stream for a slot: the owner then calls {@link #up}, or runs {@code failed} on its loop. */
    public interface Dialer {
        void dial(int slot, Runnable failed);
    }

    /** Runs a task on the owner's loop after a delay. */
    public interface Scheduler {
        void schedule(Runnable task, long delayMillis);
    }

    private final Map<Integer, TunnelStream> slots = new TreeMap<>();
    private final Set<Integer> dialling = new TreeSet<>();
    private final Map<Integer, Integer> attempts = new TreeMap<>();
    private final Dialer dialer;
    private final Scheduler scheduler;
    private final BooleanSupplier open;
    private int desired;
    private boolean warnedSetup;

    /**
     * @param desired the stream count to start with
     * @param open whether the session still wants streams
     */
    public StreamPool(int desired, Dialer dialer, Scheduler scheduler, BooleanSupplier open) {
        if (desired < 1) {
            throw new IllegalArgumentException("desired must be at least 1: " + desired);
        }
        this.desired = desired;
        this.dialer = requireNonNull(dialer, "dialer is null");
        this.scheduler = requireNonNull(scheduler, "scheduler is null");
        this.open = requireNonNull(open, "open is null");
    }

    /** The stream count wanted now. */
    public int desired() {
        return desired;
    }

    /** Slots being dialled (including those waiting for their backoff). */
    public Set<Integer> dialling() {
        return Set.copyOf(dialling);
    }

    /** The streams up, by slot. */
    public Map<Integer, TunnelStream> streams() {
        return Map.copyOf(slots);
    }

    /** Dials every slot below the wanted count that has neither a stream nor a dial under way. */
    public void fill() {
        if (!open.getAsBoolean()) {
            return;
        }
        for (int slot = 0; slot < desired; slot++) {
            if (!slots.containsKey(slot) && !dialling.contains(slot)) {
                dial(slot);
            }
        }
    }

    /** A stream of this pool is up (TLS done, peer checked). */
    public void up(TunnelStream stream) {
        slots.put(stream.index(), stream);
        dialling.remove(stream.index());
        attempts.remove(stream.index());
    }

    /** A stream closed: its slot is free. */
    public void down(TunnelStream stream) {
        slots.remove(stream.index(), stream);
    }

    /** A slot's stream failed, or could not be set up: it is dialled again after a backoff, if still wanted. */
    public void failed(int slot) {
        if (!open.getAsBoolean() || slot >= desired || dialling.contains(slot)) {
            return;
        }
        int attempt = attempts.merge(slot, 1, Integer::sum);
        long delayMillis = backoffMillis(attempt);
        dialling.add(slot);
        scheduler.schedule(
                () -> {
                    if (!open.getAsBoolean() || slot >= desired) {
                        dialling.remove(slot);
                        return;
                    }
                    dialer.dial(slot, () -> {
                        dialling.remove(slot);
                        failed(slot);
                    });
                },
                delayMillis);
    }

    /**
     * Sets the wanted count: the streams of slots at or above it are marked draining (returned, for
     * the owner to close once drained), and missing slots below it are dialled.
     */
    public List<TunnelStream> resize(int count) {
        if (count < 1) {
            throw new IllegalArgumentException("count must be at least 1: " + count);
        }
        desired = count;
        List<TunnelStream> draining = slots.entrySet().stream()
                .filter(entry -> entry.getKey() >= count)
                .map(Map.Entry::getValue)
                .toList();
        draining.forEach(TunnelStream::setDraining);
        fill();
        return draining;
    }

    /** The first failure to set up a stream is worth a WARN; the retries are not. */
    public boolean firstSetupFailure() {
        boolean first = !warnedSetup;
        warnedSetup = true;
        return first;
    }

    /** The wait before the given attempt to dial a failed slot again. */
    static long backoffMillis(int attempt) {
        return Math.min(MAX_BACKOFF_MILLIS, 50L << Math.min(attempt, 5));
    }

    private void dial(int slot) {
        dialling.add(slot);
        dialer.dial(slot, () -> {
            dialling.remove(slot);
            failed(slot);
        });
    }
}
