package io.dwcp.region;

/** A decision refused because the metadata it needs is older than its bound and could not be refreshed. */
public final class StaleMetadataException extends Exception {
    public StaleMetadataException(String message, Throwable cause) {
        super(message, cause);
    }
}
