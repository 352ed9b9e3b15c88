package io.dwcp.region;

import static java.util.Objects.requireNonNull;

import java.time.Duration;

/**
 * A value read from the region's metadata and how old it is: {@code readAtMillis} is when this
 * host last made sure the value was current (a ZooKeeper {@code sync} followed by the read, or
 * the arrival of a gossiped update), {@code modifiedAtMillis} when the data itself last changed
 * (the newest znode mtime, ZooKeeper's clock; 0 if nothing). Decisions compare {@link #age} with
 * their bound.
 */
public record Stamped<T>(T value, long readAtMillis, long modifiedAtMillis) {
    public Stamped {
        requireNonNull(value, "value is null");
    }

    /** How long ago this host made sure of the value. */
    public Duration age(long nowMillis) {
        return Duration.ofMillis(Math.max(0, nowMillis - readAtMillis));
    }

    public boolean isWithin(Duration bound, long nowMillis) {
        return age(nowMillis).compareTo(bound) <= 0;
    }
}
