package io.dwcp.metrics;

import com.google.inject.AbstractModule;
import com.google.inject.Singleton;

/** The Prometheus endpoint. */
public final class MetricsModule
        extends AbstractModule
{
    @Override
    protected void configure()
    {
        bind(MetricsServer.class).in(Singleton.class);
    }
}
