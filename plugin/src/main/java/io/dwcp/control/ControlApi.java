package io.dwcp.control;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.dwcp.amst.AmstOpen;
import io.dwcp.codec.SourceCodec;
import io.dwcp.config.Printable;
import io.dwcp.hde.BaselineInUseException;
import io.dwcp.hde.BaselineJobs;
import io.dwcp.hde.BaselineStore;
import io.dwcp.hde.BaselineStoreException;
import io.dwcp.node.NodeConfig;
import io.dwcp.region.DestinationChooser;
import io.dwcp.region.HeldBaselines;
import io.dwcp.region.RegionStatus;
import io.dwcp.region.RegionView;
import io.dwcp.region.StaleMetadataException;
import io.dwcp.region.VmLock;
import io.dwcp.region.VmLockedException;
import io.dwcp.region.VmLocks;
import io.dwcp.session.MigrationListener;
import io.dwcp.session.PeerConfig;
import io.dwcp.session.PeersConfig;
import io.dwcp.session.QemuListeners;
import io.dwcp.session.Session;
import io.dwcp.session.SessionManager;
import io.dwcp.session.Target;
import io.netty.handler.codec.http.QueryStringDecoder;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control protocol, version 1: requests in, answers out (the Netty glue is
 * {@link ControlServer}). Request bodies are {@code application/x-www-form-urlencoded} UTF-8,
 * every field exactly once; answers are JSON, or {@code text/plain} for errors.
 *
 * <pre>
 * POST /v1/incoming-migrations  protocol=1&amp;domain=NAME&amp;uuid=UUID   (the libvirt hook, destination)
 *      204 expected | 400 malformed, unknown protocol | 409 domain or UUID already expected | 503 too many records
 * GET  /v1/status                                                       (dwcp, anyone allowed on the socket)
 *      200 {protocol, node, controlSocket, peers: [{name, address, socket, qemuPort}],
 *           sessions: [Session], incoming: [{domain, uuid, createdAtMillis}], migrations: [Migration]}
 * POST /v1/migrations           protocol=1&amp;domain=NAME&amp;peer=PEER    (dwcp migrate, source)
 *      (PEER: a configured peer, else, with a control plane, a host of the region: its record's address, and the
 *      certificate fingerprint its TLS peer must show; see PeerResolver)
 *      201 Migration, Location: /v1/migrations/ID | 400 | 404 unknown peer (neither configured nor a host of the
 *      region: the body says where it looked) | 409 that domain is already migrating,
 *      here or (with a control plane) anywhere in the region: the body names the host and migration holding it | 503
 *      (the migration's own socket, where its source QEMU connects, is open from now until its session ends, it is
 *      deleted or forgotten unused; its connections form one session, which names the migration to the destination;
 *      an earlier announcement of the domain whose migration never started is replaced; with a control plane the
 *      migration holds the VM's lock in the region until its session ends or it is deleted)
 *      | 500 its socket cannot be opened
 * GET  /v1/migrations                                                   200 [Migration]
 * GET  /v1/migrations/ID                                                200 Migration | 404
 * GET  /v1/baselines                                                    (dwcp baselines, anyone allowed on the socket)
 *      200 {directory, sizeLimitBytes, maxAgeSeconds (0: no age limit), usedBytes, baselines: [Baseline], commits: [Commit]}
 *      | 500 the baseline directory cannot be read
 * POST /v1/baselines/remove     protocol=1&amp;vm=VM                        (dwcp baselines remove)
 *      200 {vm, removed: [ID]}: every baseline whose id is VM, or whose VM has the domain name or UUID VM
 *      | 400 | 404 no baseline of VM | 409 one of them is in use by a migration (none removed) | 500
 * DELETE /v1/migrations/ID      (dwcp migrate, done: forgets it, closes its socket, lets go of the VM's lock)
 *      204 | 404 | 409 its session still runs (the lock goes when the session ends)
 * GET  /v1/regions                                                      (dwcp, anyone allowed on the socket)
 *      200 {region, host, leader, leaderAgeMillis, thisHostLeads, term, hosts: [Host], hostsAgeMillis,
 *           links: [Link], linksAgeMillis, regions: [{region, summary, hosts, ageMillis}], counters: {...}}
 *      | 404 no control plane (region.name not set)
 * GET  /v1/regions/REGION/destinations?vm=DOMAIN                        (dwcp migrate --to-region)
 *      200 {region, vm, chosen: HOST|null (every host full, or none but this one), reason,
 *           candidates: [{host, address, capacity, running, full, baseline: {vm, host, sizeBytes, createdAtMillis}|null,
 *                         link: Link|null, figures (one line for the operator)}] (best first, see
 *           io.dwcp.region.DestinationChooser), hostsAgeMillis, linksAgeMillis, baselinesAgeMillis, migrationsAgeMillis,
 *           stalenessBoundMillis}
 *      (another region: also summary, its leader's gossiped summary; its hosts from the records its leader gossips)
 *      | 400 | 404 no control plane, or no such region | 409 another region whose leader gossips no host records
 *      (the body says so) | 503 metadata older than region.staleness-bound and not refreshable, or another region
 *      not confirmed by its leader within it
 * GET  /v1/regions/REGION/baselines?vm=DOMAIN[&amp;vm=DOMAIN...]         (dwcp evacuate: 1 to 256 VMs)
 *      200 {region, host, baselines: [{vm, host, sizeBytes, createdAtMillis, ageMillis}] (the region's catalogue: the
 *           newest baseline each host holds of each VM asked for, in the order asked, then by host), baselinesAgeMillis
 *           (the oldest read behind it), stalenessBoundMillis} (see io.dwcp.region.HeldBaselines)
 *      | 400 | 404 no control plane | 409 another region (its baselines are not gossiped) | 503 metadata older than
 *      region.staleness-bound and not refreshable
 *      (leader: who holds the region's latch, "" if nobody; term: this host's term while it leads, else the
 *       region's latest term, 0 before the first; *AgeMillis: since dwcpd last made sure of the figure, -1 never)
 *
 * Migration => {id, domain, peer, socket (&lt;run-dir&gt;/peer/&lt;peer&gt;/&lt;id&gt;.sock), state: waiting|open|completed|failed,
 *               createdAtMillis, session: Session|null,
 *               baseline: Commit}
 * Commit    => {session (16 hex digits), role: source|destination, state: recording|committing|committed|failed|none,
 *               baseline: ID|null, pages, bytes, reason|null, startedAtMillis, endedAtMillis|null}
 *              (the baseline a session leaves here, see {@code io.dwcp.hde.BaselineJobs}: committing and recording
 *              change, the other states are final; a failed session keeps what it recorded, so it ends
 *              committed too unless it recorded no page: none; a migration without a session, or a session
 *              that records nothing here, has {state: none, session: null or its id, role: null, ...})
 * Baseline  => {id, domain|null, uuid|null, pages, bytes, createdAtMillis, ageMillis, lastUsedAtMillis|null, inUse}
 * Session   => {id (16 hex digits), peer, role: source|destination, state: open|completed|failed, failure,
 *               startedAtMillis, qemuBytesRead, qemuBytesWritten, tunnelBytesSent, tunnelBytesReceived,
 *               streams, compressionRatio (source: qemuBytesRead / tunnelBytesSent, null before any byte),
 *               reuse (source: {baselinePages the destination held, referencedPages, deltaPages}; null otherwise)}
 * Host      => {name, address, capacity, dwcpVersion, certificateFingerprint, registeredAtMillis}
 * Link      => {from, to, rttMicros, goodputBytesPerSecond, lossPpm, measuredAtMillis (the measuring host's clock)}
 * </pre>
 * Other paths answer 404, other methods 405 (with {@code Allow}).
 *
 * <p>{@link #handle} may block on ZooKeeper (the VM lock) and reads the disk (the baselines): call it
 * off event loops, one request at a time ({@link ControlServer} runs it on its own thread).
 */
public final class ControlApi {
    public static final int PROTOCOL = 1;
    private static final Logger log = LoggerFactory.getLogger(ControlApi.class);
    private static final Pattern UUID =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final int MAX_DOMAIN_LENGTH = 1024;
    private static final ObjectMapper JSON = new ObjectMapper();

    /** An answer; {@code body} is UTF-8 text. */
    public record Response(int status, String contentType, String body, Map<String, String> headers) {
        public Response {
            requireNonNull(contentType, "contentType is null");
            requireNonNull(body, "body is null");
            headers = Map.copyOf(headers);
        }

        public static Response text(int status, String message) {
            return new Response(status, "text/plain; charset=utf-8", message + "\n", Map.of());
        }

        static Response json(int status, Object value) {
            try {
                return new Response(status, "application/json", JSON.writeValueAsString(value) + "\n", Map.of());
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        Response withHeader(String name, String value) {
            Map<String, String> all = new LinkedHashMap<>(headers);
            all.put(name, value);
            return new Response(status, contentType, body, all);
        }

        public byte[] bodyBytes() {
            return body.getBytes(StandardCharsets.UTF_8);
        }
    }

    /** A request the protocol refuses; the message goes to the client as the answer's body. */
    private static final class Refused extends Exception {
        private final int status;

        Refused(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private final NodeConfig node;
    private final PeersConfig peers;
    private final ControlConfig config;
    private final SessionManager sessions;
    private final MigrationRegistry registry;
    private final Optional<RegionStatus> regions;
    private final Optional<VmLocks> locks;
    private final BaselineStore baselines;
    private final BaselineJobs baselineJobs;
    private final QemuListeners qemuListeners;
    private final LongSupplier clock;
    private final PeerResolver resolver;
    private final Optional<RegionView> regionView;

    @Inject
    public ControlApi(
            NodeConfig node,
            PeersConfig peers,
            ControlConfig config,
            SessionManager sessions,
            MigrationRegistry registry,
            Optional<RegionStatus> regions,
            Optional<VmLocks> locks,
            BaselineStore baselines,
            BaselineJobs baselineJobs,
            QemuListeners qemuListeners,
            PeerResolver resolver,
            Optional<RegionView> regionView) {
        this(
                node,
                peers,
                config,
                sessions,
                registry,
                regions,
                locks,
                baselines,
                baselineJobs,
                qemuListeners,
                resolver,
                regionView,
                System::currentTimeMillis);
    }

    /** {@code clock}: milliseconds since the epoch, for the baselines' ages. */
    ControlApi(
            NodeConfig node,
            PeersConfig peers,
            ControlConfig config,
            SessionManager sessions,
            MigrationRegistry registry,
            Optional<RegionStatus> regions,
            Optional<VmLocks> locks,
            BaselineStore baselines,
            BaselineJobs baselineJobs,
            QemuListeners qemuListeners,
            PeerResolver resolver,
            Optional<RegionView> regionView,
            LongSupplier clock) {
        this.regionView = requireNonNull(regionView, "regionView is null");
        this.resolver = requireNonNull(resolver, "resolver is null");
        this.qemuListeners = requireNonNull(qemuListeners, "qemuListeners is null");
        this.baselines = requireNonNull(baselines, "baselines is null");
        this.baselineJobs = requireNonNull(baselineJobs, "baselineJobs is null");
        this.clock = requireNonNull(clock, "clock is null");
        this.node = requireNonNull(node, "node is null");
        this.peers = requireNonNull(peers, "peers is null");
        this.config = requireNonNull(config, "config is null");
        this.sessions = requireNonNull(sessions, "sessions is null");
        this.registry = requireNonNull(registry, "registry is null");
        this.regions = requireNonNull(regions, "regions is null");
        this.locks = requireNonNull(locks, "locks is null");
    }

    public Response handle(String method, String uri, String contentType, String body) {
        try {
            QueryStringDecoder decoder = new QueryStringDecoder(uri);
            if (decoder.path().startsWith("/v1/regions/") && decoder.path().endsWith("/destinations")) {
                requireMethod(method, "GET");
                String region = decoder.path()
                        .substring("/v1/regions/".length(), decoder.path().length() - "/destinations".length());
                List<String> vm = decoder.parameters().getOrDefault("vm", List.of());
                if (vm.size() != 1 || vm.get(0).isEmpty()) {
                    throw new Refused(400, "give the VM exactly once: /v1/regions/REGION/destinations?vm=DOMAIN");
                }
                return destinations(region, domain(vm.get(0)));
            }
            if (decoder.path().startsWith("/v1/regions/") && decoder.path().endsWith("/baselines")) {
                requireMethod(method, "GET");
                String region = decoder.path()
                        .substring("/v1/regions/".length(), decoder.path().length() - "/baselines".length());
                List<String> vms = decoder.parameters().getOrDefault("vm", List.of());
                if (vms.isEmpty() || vms.size() > HeldBaselines.MAX_VMS) {
                    throw new Refused(
                            400,
                            "give 1 to " + HeldBaselines.MAX_VMS
                                    + " VMs: /v1/regions/REGION/baselines?vm=DOMAIN&vm=DOMAIN...");
                }
                for (String vm : vms) {
                    domain(vm);
                }
                return heldBaselines(region, vms);
            }
            return route(method, decoder.path(), contentType, body);
        } catch (Refused e) {
            return Response.text(e.status, e.getMessage());
        } catch (IllegalArgumentException e) {
            // QueryStringDecoder: a broken %-escape in the path or the form
            return Response.text(400, "malformed request: " + e.getMessage());
        } finally {
            releaseLocks();
        }
    }

    /**
     * Closes the VM locks and migration sockets the registry let go of (ZooKeeper I/O, waits for an
     * event loop: outside the registry's monitor): after every request, and every second
     * ({@link ControlServer}), so they go soon after their session ends, or their announcement
     * expires, even when nobody asks.
     */
    void releaseLocks() {
        for (AutoCloseable resource : registry.takeReleased()) {
            try {
                resource.close();
            } catch (Exception e) {
                log.warn(
                        "letting go of {}: {}",
                        resource instanceof MigrationListener listener
                                ? "migration socket " + listener.socket()
                                : "a VM lock",
                        e.getMessage());
            }
        }
    }

    private Response route(String method, String path, String contentType, String body) throws Refused {
        if (path.equals("/v1/incoming-migrations")) {
            requireMethod(method, "POST");
            return expectIncoming(form(contentType, body, "protocol", "domain", "uuid"));
        }
        if (path.equals("/v1/status")) {
            requireMethod(method, "GET");
            return Response.json(200, status());
        }
        if (path.equals("/v1/baselines")) {
            requireMethod(method, "GET");
            return baselineList();
        }
        if (path.equals("/v1/baselines/remove")) {
            requireMethod(method, "POST");
            return removeBaselines(form(contentType, body, "protocol", "vm"));
        }
        if (path.equals("/v1/regions")) {
            requireMethod(method, "GET");
            return regions.map(source -> Response.json(200, JSON.valueToTree(source.status())))
                    .orElseGet(() ->
                            Response.text(404, "dwcpd " + node.getName() + " runs no control plane (set region.name)"));
        }
        if (path.equals("/v1/migrations")) {
            requireMethod(method, "GET", "POST");
            if (method.equals("GET")) {
                ArrayNode list = JSON.createArrayNode();
                registry.outgoing().forEach(migration -> list.add(migration(migration)));
                return Response.json(200, list);
            }
            return announceOutgoing(form(contentType, body, "protocol", "domain", "peer"));
        }
        if (path.startsWith("/v1/migrations/")) {
            requireMethod(method, "GET", "DELETE");
            String id = path.substring("/v1/migrations/".length());
            if (method.equals("DELETE")) {
                return switch (registry.forgetUnlessRunning(id)) {
                    case FORGOTTEN -> new Response(204, "text/plain; charset=utf-8", "", Map.of());
                    case RUNNING ->
                        Response.text(
                                409, "migration " + id + " still runs: its VM lock is let go of when its session ends");
                    case UNKNOWN ->
                        Response.text(
                                404,
                                "no migration " + id + " (unknown, or forgotten after "
                                        + config.getExpectationTimeout().toSeconds() + " s)");
                };
            }
            return registry.outgoing(id)
                    .map(migration -> Response.json(200, migration(migration)))
                    .orElseGet(() -> Response.text(
                            404,
                            "no migration " + id + " (unknown, or forgotten after "
                                    + config.getExpectationTimeout().toSeconds() + " s)"));
        }
        return Response.text(
                404,
                "no such resource: " + path + " (protocol " + PROTOCOL
                        + ": /v1/status, /v1/regions, /v1/migrations, /v1/incoming-migrations, /v1/baselines)");
    }

    /** Where the VM would go in the region: the candidates with their figures, best first (DestinationChooser's rules). */
    private Response destinations(String region, String vm) throws Refused {
        RegionView view = requireRegionView("hosts to choose from");
        long now = clock.getAsLong();
        DestinationChooser.Choice choice = fromRegion(() -> DestinationChooser.choose(view, region, vm, now));
        ObjectNode answer = JSON.createObjectNode();
        answer.put("region", choice.region());
        answer.put("vm", choice.vm());
        if (choice.chosen().isPresent()) {
            answer.put("chosen", choice.chosen().get().host());
        } else {
            answer.putNull("chosen");
        }
        answer.put("reason", choice.reason());
        if (!choice.summary().isEmpty()) {
            answer.put("summary", choice.summary());
        }
        ArrayNode candidates = answer.putArray("candidates");
        for (DestinationChooser.Candidate candidate : choice.candidates()) {
            ObjectNode entry = candidates.addObject();
            entry.put("host", candidate.host());
            entry.put("address", candidate.address());
            entry.put("capacity", candidate.capacity());
            entry.put("running", candidate.running());
            entry.put("full", candidate.isFull());
            candidate
                    .baseline()
                    .ifPresentOrElse(
                            baseline -> entry.set("baseline", JSON.valueToTree(baseline)),
                            () -> entry.putNull("baseline"));
            candidate
                    .link()
                    .ifPresentOrElse(link -> entry.set("link", JSON.valueToTree(link)), () -> entry.putNull("link"));
            entry.put("figures", candidate.figures(now));
        }
        answer.put("hostsAgeMillis", choice.hostsAgeMillis());
        answer.put("linksAgeMillis", choice.linksAgeMillis());
        answer.put("baselinesAgeMillis", choice.baselinesAgeMillis());
        answer.put("migrationsAgeMillis", choice.migrationsAgeMillis());
        answer.put("stalenessBoundMillis", regionView.get().stalenessBound().toMillis());
        return Response.json(200, answer);
    }

    /** The baselines the region's catalogue says its hosts hold of the VMs ({@link HeldBaselines}). */
    private Response heldBaselines(String region, List<String> vms) throws Refused {
        RegionView view = requireRegionView("baselines");
        HeldBaselines.Answer answer = fromRegion(() -> HeldBaselines.read(view, region, vms, clock.getAsLong()));
        return Response.json(200, heldBaselines(answer));
    }

    /** The region's metadata, or 404: this dwcpd runs no control plane, so it knows no region's {@code what}. */
    private RegionView requireRegionView(String what) throws Refused {
        if (regionView.isEmpty()) {
            throw new Refused(
                    404,
                    "dwcpd " + node.getName() + " runs no control plane (set region.name): it knows no region's "
                            + what);
        }
        return regionView.get();
    }

    /** A read of the region's metadata. */
    @FunctionalInterface
    private interface RegionRead<T> {
        T read() throws StaleMetadataException, DestinationChooser.NoChoiceException;
    }

    /** The read's answer; stale metadata or a region not readable now is 503, no choice its own status. */
    private static <T> T fromRegion(RegionRead<T> read) throws Refused {
        try {
            return read.read();
        } catch (StaleMetadataException e) {
            throw new Refused(503, e.getMessage());
        } catch (DestinationChooser.NoChoiceException e) {
            throw new Refused(e.status(), e.getMessage());
        } catch (IllegalStateException e) {
            throw new Refused(503, e.getMessage());
        }
    }

    /** The JSON of a {@link HeldBaselines.Answer} (the grammar above). */
    static ObjectNode heldBaselines(HeldBaselines.Answer answer) {
        ObjectNode json = JSON.createObjectNode();
        json.put("region", answer.region());
        json.put("host", answer.host());
        ArrayNode list = json.putArray("baselines");
        for (HeldBaselines.Held held : answer.baselines()) {
            ObjectNode entry = list.addObject();
            entry.put("vm", held.vm());
            entry.put("host", held.host());
            entry.put("sizeBytes", held.sizeBytes());
            entry.put("createdAtMillis", held.createdAtMillis());
            entry.put("ageMillis", held.ageMillis());
        }
        json.put("baselinesAgeMillis", answer.baselinesAgeMillis());
        json.put("stalenessBoundMillis", answer.stalenessBoundMillis());
        return json;
    }

    private static void requireMethod(String method, String... allowed) throws Refused {
        if (!List.of(allowed).contains(method)) {
            throw new Refused(405, method + " is not allowed here (" + String.join(", ", allowed) + ")");
        }
    }

    private Response expectIncoming(Map<String, String> form) throws Refused {
        String domain = domain(form.get("domain"));
        String uuid = form.get("uuid");
        if (!UUID.matcher(uuid).matches()) {
            throw new Refused(400, "uuid must be 8-4-4-4-12 hexadecimal digits: '" + printable(uuid) + "'");
        }
        return switch (registry.expectIncoming(domain, uuid)) {
            case ACCEPTED -> new Response(204, "text/plain; charset=utf-8", "", Map.of());
            case ALREADY_KNOWN ->
                Response.text(
                        409, "domain '" + printable(domain) + "' (or UUID " + uuid + ") is already expected here");
            case FULL ->
                Response.text(
                        503,
                        "dwcpd keeps " + config.getMaxRecords()
                                + " migration records (control.max-records): try again later");
        };
    }

    private Response announceOutgoing(Map<String, String> form) throws Refused {
        String domain = domain(form.get("domain"));
        try {
            AmstOpen.checkVm(domain); // the session's OPEN names it to the destination
        } catch (IllegalArgumentException e) {
            throw new Refused(400, "domain '" + printable(domain) + "': " + e.getMessage());
        }
        String peerName = form.get("peer");
        if (peerName.isEmpty()) {
            throw new Refused(400, "peer is empty");
        }
        PeerConfig peer;
        try {
            // a configured peer, else a host of the region
            peer = resolver.resolve(peerName);
        } catch (PeerResolver.UnresolvedPeerException e) {
            throw new Refused(e.status(), e.getMessage());
        }
        MigrationRegistry.Announcement announcement = registry.announceOutgoing(domain, peer);
        return switch (announcement.outcome()) {
            case ACCEPTED -> {
                MigrationRegistry.Outgoing migration = announcement.migration().orElseThrow();
                if (locks.isPresent()) {
                    lockVm(locks.get(), migration);
                }
                openSocket(migration);
                yield Response.json(201, migration(migration))
                        .withHeader("Location", "/v1/migrations/" + migration.id());
            }
            case ALREADY_KNOWN ->
                Response.text(
                        409,
                        "domain '" + printable(domain) + "' is already migrating through this dwcpd (migration "
                                + announcement
                                        .migration()
                                        .map(MigrationRegistry.Outgoing::id)
                                        .orElse("?") + ")");
            case FULL ->
                Response.text(
                        503,
                        "dwcpd keeps " + config.getMaxRecords()
                                + " migration records (control.max-records): try again later");
        };
    }

    private Response baselineList() throws Refused {
        // the commits first: a job records the baseline's VM before it says the commit is done, so
        // every commit listed as committed finds its baseline below with its VM (read the other way
        // round, a commit ending between the two reads showed its baseline without its VM)
        List<BaselineJobs.Outcome> outcomes = baselineJobs.outcomes();
        List<BaselineStore.Entry> entries;
        long used;
        try {
            entries = baselines.entries();
        } catch (BaselineStoreException e) {
            throw new Refused(500, e.getMessage());
        }
        long now = clock.getAsLong();
        ObjectNode answer = JSON.createObjectNode();
        answer.put("directory", baselines.directory().toString());
        answer.put("sizeLimitBytes", baselines.sizeLimit());
        answer.put("maxAgeSeconds", baselines.maxAge().toSeconds());
        used = entries.stream().mapToLong(entry -> entry.info().bytes()).sum();
        answer.put("usedBytes", used);
        ArrayNode list = answer.putArray("baselines");
        for (BaselineStore.Entry entry : entries) {
            ObjectNode item = list.addObject();
            item.put("id", entry.info().id());
            item.put("domain", entry.owner().map(BaselineStore.Owner::domain).orElse(null));
            item.put("uuid", entry.owner().flatMap(BaselineStore.Owner::uuid).orElse(null));
            item.put("pages", entry.info().pages());
            item.put("bytes", entry.info().bytes());
            item.put("createdAtMillis", entry.info().createdMillis());
            item.put("ageMillis", Math.max(0, now - entry.info().createdMillis()));
            if (entry.lastUsedMillis().isPresent()) {
                item.put("lastUsedAtMillis", entry.lastUsedMillis().getAsLong());
            } else {
                item.putNull("lastUsedAtMillis");
            }
            item.put("inUse", entry.inUse());
        }
        ArrayNode commits = answer.putArray("commits");
        outcomes.forEach(outcome -> commits.add(commit(outcome)));
        return Response.json(200, answer);
    }

    private Response removeBaselines(Map<String, String> form) throws Refused {
        String vm = form.get("vm");
        if (vm.isEmpty() || vm.length() > MAX_DOMAIN_LENGTH || vm.indexOf('\0') >= 0 || vm.indexOf('\n') >= 0) {
            throw new Refused(
                    400,
                    "vm must be a domain name, a UUID or a baseline id: 1 to " + MAX_DOMAIN_LENGTH
                            + " characters without NUL or newline");
        }
        List<String> removed;
        try {
            removed = baselines.removeOwnedBy(vm);
        } catch (BaselineInUseException e) {
            throw new Refused(409, e.getMessage());
        } catch (BaselineStoreException e) {
            throw new Refused(500, e.getMessage());
        }
        if (removed.isEmpty()) {
            throw new Refused(
                    404, "no baseline of '" + printable(vm) + "' (neither its id nor its VM's domain name or UUID)");
        }
        ObjectNode answer = JSON.createObjectNode();
        answer.put("vm", vm);
        ArrayNode ids = answer.putArray("removed");
        removed.forEach(ids::add);
        return Response.json(200, answer);
    }

    private static ObjectNode commit(BaselineJobs.Outcome outcome) {
        ObjectNode entry = JSON.createObjectNode();
        entry.put("session", String.format("%016x", outcome.sessionId()));
        entry.put("role", outcome.role());
        entry.put("state", lower(outcome.state()));
        entry.put(
                "baseline",
                outcome.baseline().map(BaselineStore.BaselineInfo::id).orElse(null));
        entry.put(
                "pages",
                outcome.baseline().map(BaselineStore.BaselineInfo::pages).orElse(0));
        entry.put(
                "bytes",
                outcome.baseline().map(BaselineStore.BaselineInfo::bytes).orElse(0L));
        entry.put("reason", outcome.reason().orElse(null));
        entry.put("startedAtMillis", outcome.startedMillis());
        if (outcome.endedMillis().isPresent()) {
            entry.put("endedAtMillis", outcome.endedMillis().getAsLong());
        } else {
            entry.putNull("endedAtMillis");
        }
        return entry;
    }

    /** A migration's baseline: its session's outcome, or state none. */
    private ObjectNode migrationBaseline(Optional<Session> session) {
        Optional<BaselineJobs.Outcome> outcome = session.flatMap(value -> baselineJobs.outcome(value.id()));
        if (outcome.isPresent()) {
            return commit(outcome.get());
        }
        ObjectNode entry = JSON.createObjectNode();
        entry.put(
                "session",
                session.map(value -> String.format("%016x", value.id())).orElse(null));
        entry.putNull("role");
        entry.put("state", "none");
        entry.putNull("baseline");
        entry.put("pages", 0);
        entry.put("bytes", 0L);
        entry.put("reason", session.isPresent() ? "this session records no baseline here" : "no session yet");
        entry.putNull("startedAtMillis");
        entry.putNull("endedAtMillis");
        return entry;
    }

    /** The VM's lock in the region for the announced migration, or the announcement is withdrawn and refused. */
    private void lockVm(VmLocks source, MigrationRegistry.Outgoing migration) throws Refused {
        releaseLocks(); // a replaced announcement's lock goes first
        VmLock lock;
        try {
            lock = source.lock(migration.domain(), migration.id());
        } catch (VmLockedException e) {
            registry.forget(migration.id());
            throw new Refused(409, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            registry.forget(migration.id());
            throw new Refused(503, "interrupted while taking the lock of VM '" + printable(migration.domain()) + "'");
        } catch (Exception e) {
            registry.forget(migration.id());
            throw new Refused(
                    503,
                    "cannot take the lock of VM '" + printable(migration.domain()) + "' in the region: "
                            + e.getMessage() + " (is ZooKeeper reachable? dwcp status)");
        }
        if (!registry.attachLock(migration.id(), lock)) {
            lock.close();
            throw new Refused(
                    503, "migration " + migration.id() + " was forgotten while its VM lock was taken: try again");
        }
    }

    /** The migration's own socket, where its source QEMU connects; or the announcement is withdrawn and refused. */
    private void openSocket(MigrationRegistry.Outgoing migration) throws Refused {
        MigrationListener listener;
        try {
            listener = qemuListeners.openMigration(migration.peer(), migration.id(), migration.domain());
        } catch (IllegalArgumentException e) {
            registry.forget(migration.id());
            throw new Refused(400, "cannot open the socket of migration " + migration.id() + ": " + e.getMessage());
        } catch (IOException e) {
            registry.forget(migration.id());
            throw new Refused(500, "cannot open the socket of migration " + migration.id() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            registry.forget(migration.id());
            throw new Refused(503, "interrupted while opening the socket of migration " + migration.id());
        }
        if (!registry.attachListener(migration.id(), listener)) {
            listener.close();
            throw new Refused(
                    503, "migration " + migration.id() + " was forgotten while its socket was opened: try again");
        }
    }

    private static String domain(String domain) throws Refused {
        if (domain.isEmpty()
                || domain.length() > MAX_DOMAIN_LENGTH
                || domain.indexOf('\0') >= 0
                || domain.indexOf('\n') >= 0) {
            throw new Refused(400, "domain must be 1 to " + MAX_DOMAIN_LENGTH + " characters without NUL or newline");
        }
        return domain;
    }

    /** The form's fields: exactly the expected ones, each once, protocol first checked. */
    private static Map<String, String> form(String contentType, String body, String... fields) throws Refused {
        if (contentType == null
                || !contentType.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
            throw new Refused(
                    400,
                    "the body must be application/x-www-form-urlencoded, not "
                            + (contentType == null ? "missing" : "'" + printable(contentType) + "'"));
        }
        Map<String, List<String>> parameters = new QueryStringDecoder(body, StandardCharsets.UTF_8, false).parameters();
        Map<String, String> form = new LinkedHashMap<>();
        for (String field : fields) {
            List<String> values = parameters.get(field);
            if (values == null || values.size() != 1) {
                throw new Refused(
                        400,
                        "field '" + field + "' must be given exactly once (fields: " + String.join(", ", fields) + ")");
            }
            form.put(field, values.get(0));
        }
        for (String name : parameters.keySet()) {
            if (!form.containsKey(name)) {
                throw new Refused(
                        400, "unknown field '" + printable(name) + "' (fields: " + String.join(", ", fields) + ")");
            }
        }
        if (!form.get("protocol").equals(Integer.toString(PROTOCOL))) {
            throw new Refused(
                    400,
                    "unknown protocol '" + printable(form.get("protocol")) + "': this dwcpd speaks protocol "
                            + PROTOCOL);
        }
        return form;
    }

    /** At most 200 characters, control characters shown as '?': safe to quote in an answer or a log. */
    private static String printable(String text) {
        return Printable.of(text, 200);
    }

    private ObjectNode status() {
        ObjectNode status = JSON.createObjectNode();
        status.put("protocol", PROTOCOL);
        status.put("node", node.getName());
        status.put("controlSocket", config.socketIn(node.getRunDirectory()).toString());
        ArrayNode peerList = status.putArray("peers");
        for (PeerConfig peer : peers.all()) {
            ObjectNode entry = peerList.addObject();
            entry.put("name", peer.name());
            entry.put("address", peer.address().toString());
            entry.put("socket", node.peerSocket(peer.name()).toString());
            if (peer.qemuPort().isPresent()) {
                entry.put("qemuPort", peer.qemuPort().getAsInt());
            } else {
                entry.putNull("qemuPort");
            }
        }
        ArrayNode sessionList = status.putArray("sessions");
        sessions.sessions().forEach(session -> sessionList.add(session(session)));
        ArrayNode incomingList = status.putArray("incoming");
        for (MigrationRegistry.Incoming incoming : registry.incoming()) {
            ObjectNode entry = incomingList.addObject();
            entry.put("domain", incoming.domain());
            entry.put("uuid", incoming.uuid());
            entry.put("createdAtMillis", incoming.createdMillis());
        }
        ArrayNode migrationList = status.putArray("migrations");
        registry.outgoing().forEach(migration -> migrationList.add(migration(migration)));
        return status;
    }

    private ObjectNode migration(MigrationRegistry.Outgoing migration) {
        ObjectNode entry = JSON.createObjectNode();
        entry.put("id", migration.id());
        entry.put("domain", migration.domain());
        entry.put("peer", migration.peer().name());
        entry.put(
                "socket",
                node.peerSocket(Target.migration(migration.peer().name(), migration.id())
                                .value())
                        .toString());
        Optional<Session> session = migration.session();
        entry.put("state", session.map(value -> lower(value.state())).orElse("waiting"));
        entry.put("createdAtMillis", migration.createdMillis());
        if (session.isPresent()) {
            entry.set("session", session(session.get()));
        } else {
            entry.putNull("session");
        }
        entry.set("baseline", migrationBaseline(session));
        return entry;
    }

    private static ObjectNode session(Session session) {
        ObjectNode entry = JSON.createObjectNode();
        entry.put("id", String.format("%016x", session.id()));
        entry.put("peer", session.peer().name());
        entry.put("role", lower(session.role()));
        entry.put("state", lower(session.state()));
        entry.put("failure", session.failure().orElse(null));
        entry.put("startedAtMillis", session.startMillis());
        long read = session.qemuBytesRead();
        long sent = session.tunnelBytesSent();
        entry.put("qemuBytesRead", read);
        entry.put("qemuBytesWritten", session.qemuBytesWritten());
        entry.put("tunnelBytesSent", sent);
        entry.put("tunnelBytesReceived", session.tunnelBytesReceived());
        entry.put("streams", session.streamsSnapshot().size());
        if (session.role() == Session.Role.SOURCE && read > 0 && sent > 0) {
            entry.put("compressionRatio", Math.round(1000.0 * read / sent) / 1000.0);
        } else {
            entry.putNull("compressionRatio");
        }
        if (session.role() == Session.Role.SOURCE) {
            SourceCodec.Reuse reuse = session.reuse();
            ObjectNode reused = entry.putObject("reuse");
            reused.put("baselinePages", reuse.baselinePages());
            reused.put("referencedPages", reuse.referencedPages());
            reused.put("deltaPages", reuse.deltaPages());
        } else {
            entry.putNull("reuse");
        }
        return entry;
    }

    private static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }
}
