package io.dwcp.daemon;

import static java.util.Objects.requireNonNull;

import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Module;
import com.google.inject.Stage;
import com.google.inject.util.Modules;
import io.dwcp.codec.CodecThreads;
import io.dwcp.control.ControlModule;
import io.dwcp.control.ControlServer;
import io.dwcp.hde.BaselineJobs;
import io.dwcp.hde.HdeModule;
import io.dwcp.metrics.MetricsModule;
import io.dwcp.metrics.MetricsServer;
import io.dwcp.node.NodeConfig;
import io.dwcp.region.ControlPlane;
import io.dwcp.region.RegionModule;
import io.dwcp.session.QemuListeners;
import io.dwcp.session.SessionManager;
import io.dwcp.session.TunnelModule;
import io.dwcp.session.TunnelServer;
import io.dwcp.session.TunnelStats;
import io.netty.channel.EventLoopGroup;
import jakarta.inject.Inject;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** dwcpd: both roles in one process. {@code LATENT -> STARTED -> CLOSED}. */
public final class DwcpDaemon implements Closeable {
    private static final Logger log = LoggerFactory.getLogger(DwcpDaemon.class);

    public enum State {
        LATENT,
        STARTED,
        CLOSED
    }

    private final NodeConfig node;
    private final EventLoopGroup group;
    private final SessionManager sessions;
    private final CodecThreads codecThreads;
    private final TunnelStats tunnelStats;
    private final TunnelServer tunnelServer;
    private final QemuListeners qemuListeners;
    private final MetricsServer metrics;
    private final ControlServer control;
    private final Optional<ControlPlane> controlPlane;
    private final BaselineJobs baselineJobs;
    private final RegionPublishing regionPublishing;
    private final AtomicReference<State> state = new AtomicReference<>(State.LATENT);

    @Inject
    public DwcpDaemon(
            NodeConfig node,
            EventLoopGroup group,
            SessionManager sessions,
            CodecThreads codecThreads,
            TunnelStats tunnelStats,
            TunnelServer tunnelServer,
            QemuListeners qemuListeners,
            MetricsServer metrics,
            ControlServer control,
            Optional<ControlPlane> controlPlane,
            BaselineJobs baselineJobs,
            RegionPublishing regionPublishing) {
        this.node = requireNonNull(node, "node is null");
        this.group = requireNonNull(group, "group is null");
        this.sessions = requireNonNull(sessions, "sessions is null");
        this.codecThreads = requireNonNull(codecThreads, "codecThreads is null");
        this.tunnelStats = requireNonNull(tunnelStats, "tunnelStats is null");
        this.tunnelServer = requireNonNull(tunnelServer, "tunnelServer is null");
        this.qemuListeners = requireNonNull(qemuListeners, "qemuListeners is null");
        this.metrics = requireNonNull(metrics, "metrics is null");
        this.control = requireNonNull(control, "control is null");
        this.controlPlane = requireNonNull(controlPlane, "controlPlane is null");
        this.baselineJobs = requireNonNull(baselineJobs, "baselineJobs is null");
        this.regionPublishing = requireNonNull(regionPublishing, "regionPublishing is null");
    }

    /**
     * Builds a daemon from properties; modules override bindings (tests plug in stream codecs).
     * The configuration is checked first: a bad key or value throws
     * {@link io.dwcp.config.ConfigurationException} before the injector exists.
     */
    public static DwcpDaemon create(Map<String, String> properties, Module... overrides) {
        DaemonConfiguration configuration = DaemonConfiguration.bind(properties);
        List<Module> modules = List.of(
                new ConfigModule(configuration),
                new TunnelModule(),
                new HdeModule(),
                new MetricsModule(),
                new ControlModule(),
                new RegionModule());
        Injector injector =
                Guice.createInjector(Stage.PRODUCTION, Modules.override(modules).with(overrides));
        return injector.getInstance(DwcpDaemon.class);
    }

    public void start() {
        if (!state.compareAndSet(State.LATENT, State.STARTED)) {
            throw new IllegalStateException("already started or closed");
        }
        try {
            Files.createDirectories(node.getStateDirectory());
            // the periodic removal of expired baselines; commits run on its thread whenever a session completes
            baselineJobs.start();
            // hosts of the region that are no configured peer may connect (their records name them)
            controlPlane.ifPresent(tunnelServer::setPeerDirectory);
            tunnelServer.start();
            qemuListeners.start();
            metrics.start();
            // only with region.name: ZooKeeper, this host's record, the election, gossip
            if (controlPlane.isPresent()) {
                controlPlane.get().start();
                // the data path's links, migrations and baselines into the region's metadata
                regionPublishing.start();
            }
            // last: the hook and the CLI see the socket once the daemon can serve them
            control.start();
        } catch (IOException e) {
            close();
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("interrupted while starting", e);
        } catch (RuntimeException e) {
            close();
            throw e;
        } catch (Exception e) {
            close();
            throw new IllegalStateException("cannot start the control plane: " + e.getMessage(), e);
        }
        log.info("dwcpd {} started", node.getName());
    }

    public State state() {
        return state.get();
    }

    public SessionManager sessions() {
        return sessions;
    }

    /** The daemon's tunnel counters (what {@code /metrics} shows as {@code dwcp_*_total}). */
    public TunnelStats tunnelStats() {
        return tunnelStats;
    }

    public TunnelServer tunnelServer() {
        return tunnelServer;
    }

    public MetricsServer metrics() {
        return metrics;
    }

    public ControlServer control() {
        return control;
    }

    /** Present when {@code region.name} is set. */
    public Optional<ControlPlane> controlPlane() {
        return controlPlane;
    }

    @Override
    public void close() {
        if (state.getAndSet(State.CLOSED) == State.CLOSED) {
            return;
        }
        // first: a hook or CLI asking now gets "no socket" instead of a daemon going away
        control.close();
        // early: leaving the election now hands leadership on at once
        controlPlane.ifPresent(ControlPlane::close);
        qemuListeners.close();
        tunnelServer.close();
        sessions.closeAll();
        // after the sessions: their codecs close on their lanes (a failed session's recording is
        // handed to the baseline jobs there), so before the baseline jobs
        codecThreads.close();
        // after the sessions: waits for baseline commits in flight (bounded), then interrupts them
        baselineJobs.close();
        metrics.close();
        // a short quiet period lets the ABORT frames of failed sessions reach the peers
        group.shutdownGracefully(100, 2000, TimeUnit.MILLISECONDS).syncUninterruptibly();
        log.info("dwcpd {} stopped", node.getName());
    }
}
