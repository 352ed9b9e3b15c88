package io.dwcp.codec;

/**
 * What the session measured of its link.
 *
 * @param minRttMicros the lowest smoothed RTT of the session's streams so far (TCP_INFO), 0 if none yet
 * @param bytesPerSecond the link's estimated rate (0 if unknown)
 */
public record LinkMeasurement(long minRttMicros, double bytesPerSecond) {}
