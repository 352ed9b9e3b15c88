package io.dwcp.hde;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class HdeModuleTest
{
    @TempDir
    Path directory;

    @Test
    void bindsStatsAndTheBaselineStore()
    {
        HdeConfig config = new HdeConfig().setBaselineDirectory(directory.resolve("baselines"));
        Injector injector = Guice.createInjector(new HdeModule(), new AbstractModule()
        {
            @Override
            protected void configure()
            {
                bind(HdeConfig.class).toInstance(config);
            }
        });
        assertSame(injector.getInstance(HdeStats.class), injector.getInstance(HdeStats.class));
        BaselineStore store = injector.getInstance(BaselineStore.class);
        assertSame(store, injector.getInstance(BaselineStore.class));
        assertEquals(directory.resolve("baselines"), store.directory());
        assertEquals(config.getBaselineSizeLimit().bytes(), store.sizeLimit());
    }
}
