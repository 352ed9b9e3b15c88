package io.dwcp.hde;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import com.google.inject.AbstractModule;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Key;
import com.google.inject.TypeLiteral;
import io.dwcp.codec.CodecMode;
import io.dwcp.codec.CodecThreads;
import io.dwcp.codec.SessionCodecs;
import io.dwcp.metrics.MetricsSource;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HdeModuleTest {
    @TempDir
    Path directory;

    @Test
    void bindsStatsTheBaselineStoreTheSessionCodecsAndTheMetrics() {
        HdeConfig config = new HdeConfig().setBaselineDirectory(directory.resolve("baselines"));
        try (CodecThreads codecThreads = new CodecThreads(1)) {
            // the codec threads come from the tunnel's module, which this test leaves out
            bindsWith(config, codecThreads);
        }
    }

    private void bindsWith(HdeConfig config, CodecThreads codecThreads) {
        Injector injector = Guice.createInjector(new HdeModule(), new AbstractModule() {
            @Override
            protected void configure() {
                bind(HdeConfig.class).toInstance(config);
                bind(CodecThreads.class).toInstance(codecThreads);
            }
        });
        assertSame(injector.getInstance(HdeStats.class), injector.getInstance(HdeStats.class));
        BaselineStore store = injector.getInstance(BaselineStore.class);
        assertSame(store, injector.getInstance(BaselineStore.class));
        assertEquals(directory.resolve("baselines"), store.directory());
        assertEquals(config.getBaselineSizeLimit().bytes(), store.sizeLimit());
        // the tunnel finds HDE's session codecs through the codec interface, and its metrics through the endpoint's
        Map<CodecMode, SessionCodecs> codecs =
                injector.getInstance(Key.get(new TypeLiteral<Map<CodecMode, SessionCodecs>>() {}));
        assertEquals(Set.of(CodecMode.HDE), codecs.keySet());
        assertSame(injector.getInstance(HdeSessionCodecs.class), codecs.get(CodecMode.HDE));
        Set<MetricsSource> sources = injector.getInstance(Key.get(new TypeLiteral<Set<MetricsSource>>() {}));
        assertEquals(
                List.of(HdeMetrics.class),
                sources.stream().map(Object::getClass).toList());
    }
}
