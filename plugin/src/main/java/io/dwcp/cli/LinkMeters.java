package io.dwcp.cli;

import io.dwcp.pba.GoodputPredictor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Per link, the guest bytes its migrations processed, sampled as they run, and the goodput observed
 * on it between two slot releases, fed to the link's PBA predictor.
 *
 * <p>Each counter {@link #started} hands out is written by its migration's {@code dwcp-evacuate}
 * thread; everything else (the calls here, the meters' marks) belongs to the command's (main)
 * thread.
 */
final class LinkMeters {
    /** One link's counters and the mark (bytes, time) its goodput is measured from. */
    private static final class Meter {
        final List<AtomicLong> counters = new ArrayList<>();
        long lastBytes;
        long lastNanos;

        long bytes() {
            return counters.stream().mapToLong(AtomicLong::get).sum();
        }
    }

    private final Map<String, GoodputPredictor> predictors;
    private final LongSupplier nanoClock;
    private final Map<String, Meter> meters = new HashMap<>();

    /**
     * @param predictors each link's predictor, by destination name
     * @param nanoClock {@link System#nanoTime} but in tests
     */
    LinkMeters(Map<String, GoodputPredictor> predictors, LongSupplier nanoClock) {
        this.predictors = predictors;
        this.nanoClock = nanoClock;
    }

    /**
     * A migration starts on {@code link}: its counter of guest bytes, for its thread to set. When
     * the link was idle ({@code aloneOnLink}), its goodput is measured from now.
     */
    AtomicLong started(String link, boolean aloneOnLink) {
        Meter meter = meters.computeIfAbsent(link, l -> new Meter());
        if (aloneOnLink) {
            // the link was idle: its goodput is measured from now
            meter.lastBytes = meter.bytes();
            meter.lastNanos = nanoClock.getAsLong();
        }
        AtomicLong counter = new AtomicLong();
        meter.counters.add(counter);
        return counter;
    }

    /**
     * At a slot release: each link's goodput since its previous observation (the guest bytes its
     * migrations processed, over at least a second of the link being busy) feeds its predictor.
     *
     * @param running the running VMs' links, by VM
     */
    void observe(Map<String, String> running) {
        long now = nanoClock.getAsLong();
        meters.forEach((link, meter) -> {
            long bytes = meter.bytes();
            double seconds = (now - meter.lastNanos) / 1e9;
            if (seconds >= 1 && bytes > meter.lastBytes) {
                predictors.get(link).observe(now, 8 * (bytes - meter.lastBytes) / seconds);
                meter.lastBytes = bytes;
                meter.lastNanos = now;
            } else if (!running.containsValue(link)) {
                // idle now: the next start measures afresh
                meter.lastBytes = bytes;
                meter.lastNanos = now;
            }
        });
    }
}
