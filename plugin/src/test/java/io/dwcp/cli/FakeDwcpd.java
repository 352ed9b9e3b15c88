package io.dwcp.cli;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.concurrent.CopyOnWriteArrayList;

/** A hand-written local dwcpd for the CLI's tests: node alpha with peer beta, scripted session samples. */
final class FakeDwcpd implements Dwcpd {
    final List<String> calls = new CopyOnWriteArrayList<>();
    final Deque<Migration> samples = new ArrayDeque<>();
    String down;
    List<Peer> peers = List.of(new Peer("beta", "192.0.2.20:7470", "/run/dwcp/peer/beta.sock"));
    Optional<Region> region = Optional.empty();
    Destinations destinations;
    private Migration last = migration("waiting", 0, 0);
    Baselines baselines =
            new Baselines("/var/lib/dwcp/baselines", 16L << 30, 7 * 86400, 0, List.of(), "{\"baselines\":[]}");
    /** Each announced domain its own migration, m-DOMAIN, whose session has completed when asked. */
    boolean migrationPerDomain;

    Removal removal = new Removal(Removal.Outcome.NO_SUCH_BASELINE, List.of(), "no baseline");

    static Migration migration(String state, long qemuBytes, long wireBytes) {
        return new Migration(
                "m1",
                "/run/dwcp/peer/beta.sock",
                state,
                qemuBytes,
                wireBytes,
                4,
                wireBytes > 0 ? OptionalDouble.of((double) qemuBytes / wireBytes) : OptionalDouble.empty(),
                state.equals("failed") ? Optional.of("digest mismatch on channel 0") : Optional.empty());
    }

    @Override
    public Status status() throws UnavailableException {
        calls.add("status");
        if (down != null) {
            throw new UnavailableException(down);
        }
        return new Status("alpha", peers);
    }

    @Override
    public Optional<Region> region() throws UnavailableException {
        calls.add("region");
        if (down != null) {
            throw new UnavailableException(down);
        }
        return region;
    }

    @Override
    public Destinations destinations(String region, String domain) throws UnavailableException {
        calls.add("destinations " + region + " " + domain);
        if (down != null) {
            throw new UnavailableException(down);
        }
        if (destinations == null) {
            throw new UnavailableException("dwcpd at unix:/run/dwcp/control.sock answered 404 to GET /v1/regions/"
                    + region + "/destinations: no region " + region);
        }
        return destinations;
    }

    /** What the region's catalogue answers; null: refused as a dwcpd without a control plane refuses. */
    RegionBaselines regionBaselines;

    @Override
    public RegionBaselines regionBaselines(String region, List<String> vms) throws UnavailableException {
        calls.add("regionBaselines " + region + " " + String.join(",", vms));
        if (down != null) {
            throw new UnavailableException(down);
        }
        if (regionBaselines == null) {
            throw new UnavailableException(
                    "dwcpd at unix:/run/dwcp/control.sock answered 404 to GET /v1/regions/" + region
                            + "/baselines: dwcpd alpha runs no control plane (set region.name): it knows no region's baselines");
        }
        return regionBaselines;
    }

    @Override
    public Migration announce(String domain, String peer) {
        calls.add("announce " + domain + " " + peer);
        if (migrationPerDomain) {
            return new Migration(
                    "m-" + domain,
                    "/run/dwcp/peer/" + peer + "/m-" + domain + ".sock",
                    "waiting",
                    0,
                    0,
                    0,
                    OptionalDouble.empty(),
                    Optional.empty());
        }
        return last;
    }

    @Override
    public void release(String id) {
        calls.add("release " + id);
    }

    @Override
    public synchronized Optional<Migration> migration(String id) {
        if (migrationPerDomain) {
            return Optional.of(new Migration(
                    id,
                    "/run/dwcp/peer/" + id + ".sock",
                    "completed",
                    64L << 20,
                    32L << 20,
                    1,
                    OptionalDouble.of(2),
                    Optional.empty()));
        }
        if (!samples.isEmpty()) {
            last = samples.poll();
        }
        return Optional.of(last);
    }

    @Override
    public Baselines baselines() throws UnavailableException {
        calls.add("baselines");
        if (down != null) {
            throw new UnavailableException(down);
        }
        return baselines;
    }

    @Override
    public Removal removeBaselines(String vm) throws UnavailableException {
        calls.add("remove " + vm);
        if (down != null) {
            throw new UnavailableException(down);
        }
        return removal;
    }
}
