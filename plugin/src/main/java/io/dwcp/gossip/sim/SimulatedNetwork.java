package io.dwcp.gossip.sim;

import static java.util.Objects.requireNonNull;

import io.dwcp.gossip.GossipCodec;
import io.dwcp.gossip.GossipCodecException;
import io.dwcp.gossip.GossipMessage;
import io.dwcp.gossip.GossipStats;
import io.dwcp.gossip.GossipTransport;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Random;
import java.util.Set;
import java.util.function.ToLongBiFunction;

/**
 * The in-process gossip transport: a discrete-event network in simulated time. Messages are
 * encoded with {@link GossipCodec} (so byte counts are real, and the receiver gets a decoded
 * copy), then delivered after the latency between the two endpoints, unless dropped: by the
 * seeded loss rate, because the endpoints are on two sides of a cut, or because either endpoint
 * is down (when sent, and again when delivered).
 *
 * <p>Single-threaded: the thread that calls {@link #runUntil} owns the network, its endpoints and
 * every node they deliver to; scheduled actions run on it, in time order (ties in scheduling order).
 */
public final class SimulatedNetwork {
    private record Event(long time, long sequence, Runnable action) implements Comparable<Event> {
        @Override
        public int compareTo(Event other) {
            int byTime = Long.compare(time, other.time);
            return byTime != 0 ? byTime : Long.compare(sequence, other.sequence);
        }
    }

    private final Random random;
    private final PriorityQueue<Event> events = new PriorityQueue<>();
    private final Map<String, Endpoint> endpoints = new HashMap<>();
    private final Map<String, Integer> sides = new HashMap<>();
    private final Set<String> down = new HashSet<>();
    private ToLongBiFunction<String, String> latencyMillis = (from, to) -> 1;
    private double loss;
    private long now;
    private long sequence;
    private long bytesSent;
    private long messagesSent;
    private long messagesDropped;

    public SimulatedNetwork(Random random) {
        this.random = requireNonNull(random, "random is null");
    }

    public long now() {
        return now;
    }

    public void setLatency(ToLongBiFunction<String, String> latencyMillis) {
        this.latencyMillis = requireNonNull(latencyMillis, "latencyMillis is null");
    }

    /** Probability that a message is lost (0 to 1). */
    public void setLoss(double loss) {
        if (loss < 0 || loss > 1) {
            throw new IllegalArgumentException("loss must be between 0 and 1: " + loss);
        }
        this.loss = loss;
    }

    /** Cuts the network: messages between endpoints of different groups are dropped until {@link #heal()}. */
    public void partition(Collection<? extends Collection<String>> groups) {
        sides.clear();
        int side = 0;
        for (Collection<String> group : groups) {
            for (String id : group) {
                sides.put(id, side);
            }
            side++;
        }
    }

    public void heal() {
        sides.clear();
    }

    public void setDown(String id, boolean isDown) {
        if (isDown) {
            down.add(id);
        } else {
            down.remove(id);
        }
    }

    public boolean isDown(String id) {
        return down.contains(id);
    }

    public void schedule(long atMillis, Runnable action) {
        if (atMillis < now) {
            throw new IllegalArgumentException("cannot schedule in the past: " + atMillis + " < " + now);
        }
        events.add(new Event(atMillis, sequence++, action));
    }

    /** Runs the action every {@code periodMillis} from {@code firstMillis} on, until the simulation stops running. */
    public void every(long firstMillis, long periodMillis, Runnable action) {
        schedule(firstMillis, new Runnable() {
            @Override
            public void run() {
                action.run();
                schedule(now + periodMillis, this);
            }
        });
    }

    /** Runs every event due up to the time (inclusive), then sets the clock to it. */
    public void runUntil(long timeMillis) {
        while (!events.isEmpty() && events.peek().time() <= timeMillis) {
            Event event = events.poll();
            now = event.time();
            event.action().run();
        }
        now = Math.max(now, timeMillis);
    }

    /** The transport of one endpoint; received messages go to the receiver (on the simulation's thread). */
    public GossipTransport endpoint(String id, GossipTransport.Receiver receiver, GossipStats stats) {
        Endpoint endpoint = new Endpoint(id, receiver, stats);
        if (endpoints.putIfAbsent(id, endpoint) != null) {
            throw new IllegalArgumentException("endpoint exists: " + id);
        }
        return endpoint;
    }

    /** Removes the endpoint (a node replaced by another): messages to it are dropped. */
    public void removeEndpoint(String id) {
        endpoints.remove(id);
    }

    public long bytesSent() {
        return bytesSent;
    }

    public long messagesSent() {
        return messagesSent;
    }

    public long messagesDropped() {
        return messagesDropped;
    }

    private boolean cut(String from, String to) {
        Integer fromSide = sides.get(from);
        Integer toSide = sides.get(to);
        return fromSide != null && toSide != null && !fromSide.equals(toSide);
    }

    private final class Endpoint implements GossipTransport {
        private final String id;
        private final Receiver receiver;
        private final GossipStats stats;

        Endpoint(String id, Receiver receiver, GossipStats stats) {
            this.id = id;
            this.receiver = requireNonNull(receiver, "receiver is null");
            this.stats = requireNonNull(stats, "stats is null");
        }

        @Override
        public void send(String peer, GossipMessage message) {
            byte[] bytes = GossipCodec.encode(message);
            stats.sent(bytes.length);
            bytesSent += bytes.length;
            messagesSent++;
            if (down.contains(id) || down.contains(peer) || cut(id, peer) || (loss > 0 && random.nextDouble() < loss)) {
                messagesDropped++;
                return;
            }
            long latency = Math.max(0, latencyMillis.applyAsLong(id, peer));
            schedule(now + latency, () -> deliver(peer, bytes));
        }

        private void deliver(String peer, byte[] bytes) {
            Endpoint target = endpoints.get(peer);
            if (target == null || down.contains(peer) || cut(id, peer)) {
                messagesDropped++;
                return;
            }
            GossipMessage decoded;
            try {
                decoded = GossipCodec.decode(bytes);
            } catch (GossipCodecException e) {
                throw new IllegalStateException("the codec cannot read what it wrote", e);
            }
            target.stats.received(bytes.length);
            target.receiver.receive(decoded);
        }
    }
}
