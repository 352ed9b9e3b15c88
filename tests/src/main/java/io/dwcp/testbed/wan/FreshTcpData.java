package io.dwcp.testbed.wan;

/**
 * Which TCP segments on a link carry data their connection has not carried before, counted from
 * when it was made: a one-shot corruption aimed at such a segment surely reaches the receiving
 * application. A retransmission of data the receiver already holds (a tail-loss probe, a spurious
 * retransmission) is dropped by the receiver's TCP, and a connection's first bytes may be a
 * handshake that is set up again elsewhere: corrupting either proves nothing. A segment is fresh
 * when it starts at or beyond the highest sequence number its connection reached here and the
 * connection has already carried {@code warmBytes} here. One thread (the link's pump); at most
 * {@value #MAX_FLOWS} connections are followed (the oldest is forgotten).
 */
final class FreshTcpData {
    static final int MAX_FLOWS = 64;

    private final long warmBytes;
    private final long[] keys = new long[MAX_FLOWS];
    private final int[] highest = new int[MAX_FLOWS];
    private final long[] carried = new long[MAX_FLOWS];
    private int flows;
    private int nextVictim;

    FreshTcpData(long warmBytes) {
        this.warmBytes = warmBytes;
    }

    /**
     * Notes the IPv4 segment whose first {@code available} bytes are in {@code header} (its IP and
     * TCP headers, when it has them; {@code length}: the whole packet's length) and answers whether
     * it carries fresh data of a connection that has already carried {@code warmBytes}.
     */
    boolean observe(byte[] header, int available, int length) {
        int payloadOffset = Ipv4Tcp.payloadOffset(header, available);
        if (payloadOffset < 0 || length - payloadOffset <= 0) {
            return false;
        }
        int ipHeader = Ipv4Tcp.ipHeaderLength(header);
        int payload = length - payloadOffset;
        long key = (u16(header, ipHeader) << 48)
                | (u16(header, ipHeader + 2) << 32)
                | ((u32(header, 12) ^ u32(header, 16)) & 0xffffffffL);
        int sequence = (int) u32(header, ipHeader + 4);
        int end = sequence + payload;
        int flow = find(key);
        if (flow < 0) {
            flow = add(key, end);
            carried[flow] = payload;
            return false;
        }
        // sequence numbers wrap: compare by difference
        boolean fresh = sequence - highest[flow] >= 0;
        boolean warm = carried[flow] >= warmBytes;
        if (end - highest[flow] > 0) {
            carried[flow] += end - highest[flow];
            highest[flow] = end;
        }
        return fresh && warm;
    }

    private int find(long key) {
        for (int i = 0; i < flows; i++) {
            if (keys[i] == key) {
                return i;
            }
        }
        return -1;
    }

    private int add(long key, int end) {
        int slot;
        if (flows < MAX_FLOWS) {
            slot = flows++;
        } else {
            slot = nextVictim;
            nextVictim = (nextVictim + 1) % MAX_FLOWS;
        }
        keys[slot] = key;
        highest[slot] = end;
        return slot;
    }

    private static long u16(byte[] bytes, int at) {
        return ((bytes[at] & 0xffL) << 8) | (bytes[at + 1] & 0xffL);
    }

    private static long u32(byte[] bytes, int at) {
        return (u16(bytes, at) << 16) | u16(bytes, at + 2);
    }
}
