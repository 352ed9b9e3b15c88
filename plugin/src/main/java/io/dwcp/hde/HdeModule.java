package io.dwcp.hde;

import com.google.inject.AbstractModule;
import com.google.inject.Provides;
import com.google.inject.Singleton;
import com.google.inject.multibindings.MapBinder;
import com.google.inject.multibindings.Multibinder;
import io.dwcp.codec.CodecMode;
import io.dwcp.codec.SessionCodecs;
import io.dwcp.metrics.MetricsSource;

/**
 * HDE for dwcpd: the session codecs of {@code codec.mode = hde} ({@link HdeSessionCodecs}, in the
 * map of each mode's session codecs the tunnel picks from), one {@link HdeStats} for all streams (on {@code /metrics} through
 * {@link HdeMetrics}), the host's {@link BaselineStore} and the {@link BaselineJobs} that write and
 * expire its baselines, the {@link CacheBudget} every session's caches come out of (the daemon starts and closes them). Needs
 * {@link HdeConfig} bound (bound and validated with the other configuration classes).
 */
public final class HdeModule extends AbstractModule {
    @Override
    protected void configure() {
        bind(HdeStats.class).in(Singleton.class);
        bind(BaselineJobs.class).in(Singleton.class);
        bind(CacheBudget.class).in(Singleton.class);
        bind(HdeSessionCodecs.class).in(Singleton.class);
        MapBinder.newMapBinder(binder(), CodecMode.class, SessionCodecs.class)
                .addBinding(CodecMode.HDE)
                .to(HdeSessionCodecs.class);
        Multibinder.newSetBinder(binder(), MetricsSource.class).addBinding().to(HdeMetrics.class);
    }

    @Provides
    @Singleton
    BaselineStore baselineStore(HdeConfig config) throws BaselineStoreException {
        return new BaselineStore(config);
    }
}
