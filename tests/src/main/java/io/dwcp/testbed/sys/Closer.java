package io.dwcp.testbed.sys;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a test started, closed in reverse order: every close is tried, the first failure is thrown
 * with the others suppressed in it. Used by one thread (a test and its tear-down).
 */
public final class Closer implements AutoCloseable {
    private final Deque<AutoCloseable> opened = new ArrayDeque<>();

    /** Closed before everything pushed earlier. */
    public void push(AutoCloseable resource) {
        opened.push(resource);
    }

    @Override
    public void close() throws Exception {
        Exception first = null;
        while (!opened.isEmpty()) {
            try {
                opened.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }
}
