package io.dwcp.cli;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/** {@link Dwcpd} over the control socket (protocol 1, see io.dwcp.control.ControlApi). */
public final class DwcpdControl implements Dwcpd {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ControlClient client;

    public DwcpdControl(ControlClient client) {
        this.client = requireNonNull(client, "client is null");
    }

    @Override
    public Status status() throws UnavailableException {
        JsonNode status = json(exchange(() -> client.get("/v1/status")), 200, "/v1/status");
        List<Peer> peers = new ArrayList<>();
        for (JsonNode peer : status.path("peers")) {
            peers.add(new Peer(
                    peer.path("name").asText(),
                    peer.path("address").asText(),
                    peer.path("socket").asText()));
        }
        return new Status(status.path("node").asText(), peers);
    }

    @Override
    public Optional<Region> region() throws UnavailableException {
        ControlClient.Reply reply = exchange(() -> client.get("/v1/regions"));
        if (reply.status() == 404) {
            return Optional.empty();
        }
        JsonNode region = json(reply, 200, "/v1/regions");
        List<Host> hosts = new ArrayList<>();
        for (JsonNode host : region.path("hosts")) {
            hosts.add(new Host(
                    host.path("name").asText(),
                    host.path("address").asText(),
                    host.path("capacity").asInt(),
                    host.path("dwcpVersion").asText(),
                    host.path("certificateFingerprint").asText(),
                    host.path("registeredAtMillis").asLong()));
        }
        List<Link> links = new ArrayList<>();
        for (JsonNode link : region.path("links")) {
            links.add(new Link(
                    link.path("from").asText(),
                    link.path("to").asText(),
                    link.path("rttMicros").asLong(),
                    link.path("goodputBytesPerSecond").asLong(),
                    link.path("lossPpm").asInt(),
                    link.path("measuredAtMillis").asLong()));
        }
        List<RemoteRegion> regions = new ArrayList<>();
        for (JsonNode remote : region.path("regions")) {
            List<String> names = new ArrayList<>();
            remote.path("hosts").forEach(name -> names.add(name.asText()));
            regions.add(new RemoteRegion(
                    remote.path("region").asText(),
                    remote.path("summary").asText(),
                    names,
                    remote.path("ageMillis").asLong(-1)));
        }
        return Optional.of(new Region(
                region.path("region").asText(),
                region.path("host").asText(),
                region.path("leader").asText(),
                region.path("leaderAgeMillis").asLong(-1),
                region.path("thisHostLeads").asBoolean(),
                region.path("term").asLong(),
                hosts,
                region.path("hostsAgeMillis").asLong(-1),
                links,
                region.path("linksAgeMillis").asLong(-1),
                regions));
    }

    @Override
    public Destinations destinations(String region, String domain) throws UnavailableException {
        String path = "/v1/regions/"
                + java.net.URLEncoder.encode(region, java.nio.charset.StandardCharsets.UTF_8)
                        .replace("+", "%20") + "/destinations?vm="
                + java.net.URLEncoder.encode(domain, java.nio.charset.StandardCharsets.UTF_8);
        JsonNode answer = json(exchange(() -> client.get(path)), 200, "GET /v1/regions/" + region + "/destinations");
        List<Destination> candidates = new ArrayList<>();
        for (JsonNode candidate : answer.path("candidates")) {
            candidates.add(new Destination(
                    candidate.path("host").asText(),
                    candidate.path("address").asText(),
                    candidate.path("full").asBoolean(),
                    candidate.path("figures").asText()));
        }
        return new Destinations(
                answer.path("region").asText(),
                answer.path("vm").asText(),
                text(answer.path("chosen")),
                answer.path("reason").asText(),
                candidates,
                answer.path("hostsAgeMillis").asLong(-1),
                answer.path("linksAgeMillis").asLong(-1),
                answer.path("baselinesAgeMillis").asLong(-1),
                answer.path("migrationsAgeMillis").asLong(-1),
                answer.path("stalenessBoundMillis").asLong(-1));
    }

    /** The most a request line's query may take of the control socket's 4 KiB limit, with room for the rest. */
    static final int MAX_QUERY_LENGTH = 3072;

    /** As many requests as the VMs need (each within {@link #MAX_QUERY_LENGTH} and 256 VMs), merged. */
    @Override
    public RegionBaselines regionBaselines(String region, List<String> vms) throws UnavailableException {
        String path = "/v1/regions/"
                + java.net.URLEncoder.encode(region, java.nio.charset.StandardCharsets.UTF_8)
                        .replace("+", "%20") + "/baselines";
        List<HeldBaseline> held = new ArrayList<>();
        RegionBaselines last = null;
        long age = 0;
        for (String query : queries(vms)) {
            JsonNode answer = json(
                    exchange(() -> client.get(path + "?" + query)), 200, "GET /v1/regions/" + region + "/baselines");
            last = regionBaselines(answer);
            held.addAll(last.baselines());
            age = Math.max(age, last.baselinesAgeMillis());
        }
        if (last == null) {
            throw new IllegalArgumentException("no VM to ask about");
        }
        return new RegionBaselines(last.region(), last.host(), held, age, last.stalenessBoundMillis());
    }

    /** {@code vm=A&vm=B...}, split so that each stays within {@link #MAX_QUERY_LENGTH} and 256 VMs. */
    static List<String> queries(List<String> vms) {
        List<String> queries = new ArrayList<>();
        StringBuilder query = new StringBuilder();
        int count = 0;
        for (String vm : vms) {
            String field = "vm=" + java.net.URLEncoder.encode(vm, java.nio.charset.StandardCharsets.UTF_8);
            if (count > 0 && (query.length() + 1 + field.length() > MAX_QUERY_LENGTH || count == 256)) {
                queries.add(query.toString());
                query.setLength(0);
                count = 0;
            }
            query.append(count > 0 ? "&" : "").append(field);
            count++;
        }
        if (count > 0) {
            queries.add(query.toString());
        }
        return queries;
    }

    /** One answer of {@code GET /v1/regions/REGION/baselines} (io.dwcp.control.ControlApi's grammar). */
    static RegionBaselines regionBaselines(JsonNode answer) {
        List<HeldBaseline> held = new ArrayList<>();
        for (JsonNode entry : answer.path("baselines")) {
            held.add(new HeldBaseline(
                    entry.path("vm").asText(),
                    entry.path("host").asText(),
                    entry.path("sizeBytes").asLong(),
                    entry.path("createdAtMillis").asLong(),
                    entry.path("ageMillis").asLong()));
        }
        return new RegionBaselines(
                answer.path("region").asText(),
                answer.path("host").asText(),
                held,
                answer.path("baselinesAgeMillis").asLong(-1),
                answer.path("stalenessBoundMillis").asLong(-1));
    }

    @Override
    public Migration announce(String domain, String peer) throws UnavailableException {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("protocol", "1");
        form.put("domain", domain);
        form.put("peer", peer);
        return migration(json(exchange(() -> client.postForm("/v1/migrations", form)), 201, "/v1/migrations"));
    }

    @Override
    public Optional<Migration> migration(String id) throws UnavailableException {
        ControlClient.Reply reply = exchange(() -> client.get("/v1/migrations/" + id));
        if (reply.status() == 404) {
            return Optional.empty();
        }
        return Optional.of(migration(json(reply, 200, "/v1/migrations/" + id)));
    }

    /** 404 (forgotten already) and 409 (its session still runs: dwcpd lets go of the lock when it ends) are fine. */
    @Override
    public void release(String id) throws UnavailableException {
        ControlClient.Reply reply = exchange(() -> client.delete("/v1/migrations/" + id));
        if (reply.status() != 204 && reply.status() != 404 && reply.status() != 409) {
            throw new UnavailableException("dwcpd at unix:" + client.socket() + " answered " + reply.status()
                    + " to DELETE /v1/migrations/" + id + ": " + reply.body().strip());
        }
    }

    @Override
    public Baselines baselines() throws UnavailableException {
        ControlClient.Reply reply = exchange(() -> client.get("/v1/baselines"));
        JsonNode answer = json(reply, 200, "/v1/baselines");
        List<Baseline> baselines = new ArrayList<>();
        for (JsonNode entry : answer.path("baselines")) {
            JsonNode lastUsed = entry.path("lastUsedAtMillis");
            baselines.add(new Baseline(
                    entry.path("id").asText(),
                    text(entry.path("domain")),
                    text(entry.path("uuid")),
                    entry.path("pages").asInt(),
                    entry.path("bytes").asLong(),
                    entry.path("createdAtMillis").asLong(),
                    entry.path("ageMillis").asLong(),
                    lastUsed.isNumber() ? OptionalLong.of(lastUsed.asLong()) : OptionalLong.empty(),
                    entry.path("inUse").asBoolean()));
        }
        return new Baselines(
                answer.path("directory").asText(),
                answer.path("sizeLimitBytes").asLong(),
                answer.path("maxAgeSeconds").asLong(),
                answer.path("usedBytes").asLong(),
                baselines,
                reply.body().strip());
    }

    @Override
    public Removal removeBaselines(String vm) throws UnavailableException {
        Map<String, String> form = new LinkedHashMap<>();
        form.put("protocol", "1");
        form.put("vm", vm);
        ControlClient.Reply reply = exchange(() -> client.postForm("/v1/baselines/remove", form));
        return switch (reply.status()) {
            case 404 ->
                new Removal(
                        Removal.Outcome.NO_SUCH_BASELINE,
                        List.of(),
                        reply.body().strip());
            case 409 ->
                new Removal(Removal.Outcome.IN_USE, List.of(), reply.body().strip());
            default -> {
                List<String> removed = new ArrayList<>();
                json(reply, 200, "/v1/baselines/remove").path("removed").forEach(id -> removed.add(id.asText()));
                yield new Removal(Removal.Outcome.REMOVED, removed, "");
            }
        };
    }

    private static Optional<String> text(JsonNode node) {
        return node.isTextual() ? Optional.of(node.asText()) : Optional.empty();
    }

    @Override
    public void close() {
        client.close();
    }

    private static Migration migration(JsonNode migration) {
        JsonNode session = migration.path("session");
        JsonNode ratio = session.path("compressionRatio");
        JsonNode failure = session.path("failure");
        JsonNode reuse = session.path("reuse");
        return new Migration(
                migration.path("id").asText(),
                migration.path("socket").asText(),
                migration.path("state").asText(),
                session.path("qemuBytesRead").asLong(0),
                session.path("tunnelBytesSent").asLong(0),
                session.path("streams").asInt(0),
                ratio.isNumber() ? OptionalDouble.of(ratio.asDouble()) : OptionalDouble.empty(),
                failure.isTextual() ? Optional.of(failure.asText()) : Optional.empty(),
                reuse.isObject()
                        ? new Dwcpd.Reuse(
                                reuse.path("baselinePages").asLong(0),
                                reuse.path("referencedPages").asLong(0),
                                reuse.path("deltaPages").asLong(0))
                        : Dwcpd.Reuse.NONE);
    }

    private interface Request {
        ControlClient.Reply send() throws ControlClient.UnavailableException, InterruptedException;
    }

    private ControlClient.Reply exchange(Request request) throws UnavailableException {
        try {
            return request.send();
        } catch (ControlClient.UnavailableException e) {
            throw new UnavailableException(e.getMessage() + " (is dwcpd running? systemctl status dwcpd)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UnavailableException("interrupted while asking dwcpd", e);
        }
    }

    private JsonNode json(ControlClient.Reply reply, int expected, String what) throws UnavailableException {
        if (reply.status() != expected) {
            throw new UnavailableException("dwcpd at unix:" + client.socket() + " answered " + reply.status() + " to "
                    + what + ": " + reply.body().strip());
        }
        try {
            return JSON.readTree(reply.body());
        } catch (IOException e) {
            throw new UnavailableException(
                    "dwcpd at unix:" + client.socket() + " answered " + what + " with malformed JSON: "
                            + e.getMessage(),
                    e);
        }
    }
}
