package io.dwcp.region;

/** A write to leader-owned metadata refused: this host is not the leader, or its term is over. */
public final class NotLeaderException extends Exception {
    public NotLeaderException(String message) {
        super(message);
    }
}
