package io.dwcp.hde;

/** A baseline a migration has open cannot be removed now: it can once that migration ended. */
public final class BaselineInUseException extends BaselineStoreException {
    public BaselineInUseException(String message) {
        super(message);
    }
}
