package io.dwcp.hde;

import java.io.IOException;

/** A baseline that cannot be stored or read: full disk, size limit, corrupt file, unknown id. */
public class BaselineStoreException extends IOException {
    public BaselineStoreException(String message) {
        super(message);
    }

    public BaselineStoreException(String message, Throwable cause) {
        super(message, cause);
    }
}
