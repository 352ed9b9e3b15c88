package io.dwcp.metrics;

import com.google.inject.AbstractModule;
import com.google.inject.Singleton;
import com.google.inject.multibindings.Multibinder;

/** The Prometheus endpoint. */
public final class MetricsModule
        extends AbstractModule
{
    @Override
    protected void configure()
    {
        bind(MetricsServer.class).in(Singleton.class);
        // other modules add their own sources to this set (none by default)
        Multibinder.newSetBinder(binder(), MetricsSource.class);
    }
}
