package io.dwcp.control;

import com.google.inject.AbstractModule;
import com.google.inject.Singleton;

/** The control socket: what the libvirt hook and the dwcp CLI talk to. */
public final class ControlModule extends AbstractModule {
    @Override
    protected void configure() {
        bind(MigrationRegistry.class).in(Singleton.class);
        bind(ControlApi.class).in(Singleton.class);
        bind(ControlServer.class).in(Singleton.class);
    }
}
