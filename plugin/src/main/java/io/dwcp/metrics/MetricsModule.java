package io.dwcp.metrics;

import com.google.inject.AbstractModule;
import com.google.inject.Singleton;
import com.google.inject.multibindings.Multibinder;

/** The Prometheus endpoint. */
public final class MetricsModule extends AbstractModule {
    @Override
    protected void configure() {
        bind(MetricsServer.class).in(Singleton.class);
        // each component's module adds its own sources to this set (tunnel, HDE, region); each registers its collectors
        // in the daemon's registry
        Multibinder.newSetBinder(binder(), MetricsSource.class);
    }
}
