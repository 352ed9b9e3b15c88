package io.dwcp;

import java.util.ArrayList;
import java.util.List;

/**
 * What a test opened (clients, servers, daemons), closed in reverse order by {@link #close}, also
 * when one of them fails to close: the first failure is thrown with the others suppressed.
 */
public final class TestResources implements AutoCloseable {
    private final List<AutoCloseable> resources = new ArrayList<>();

    /** Registers {@code resource} to be closed; returns it. */
    public <T extends AutoCloseable> T add(T resource) {
        resources.add(resource);
        return resource;
    }

    @Override
    public void close() throws Exception {
        Exception failure = null;
        for (int i = resources.size() - 1; i >= 0; i--) {
            try {
                resources.get(i).close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        resources.clear();
        if (failure != null) {
            throw failure;
        }
    }
}
