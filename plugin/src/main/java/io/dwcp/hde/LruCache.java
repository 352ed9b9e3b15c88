package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * A bounded map with least-recently-used eviction whose state is a pure function of the sequence
 * of operations applied to it: the encoder and the decoder apply the same operations in the same
 * order (see {@link HdeFrame}, "Cache rules"), so they hold the same keys in the same order.
 *
 * <p>Only {@link #put} changes recency; {@link #peek} does not, so looking a key up to decide how
 * to encode a page cannot make the two sides differ. Capacity 0 disables the cache.
 *
 * <p>A value that leaves the cache (evicted, replaced by {@link #put}, or removed) is passed to the
 * release listener, so that an owner counting references can reuse what nothing holds any more.
 * {@link #clear} does not release.
 *
 * <p>Keys are two {@code long}s ({@link Keys}: a page's block and offset, or a content hash) kept
 * in arrays, with the recency list as slot numbers and an open-addressing index: an entry is no
 * object. These caches take a put per page for the whole migration and each entry lives until
 * evicted, about a second later: as {@code LinkedHashMap} entries (with their key objects) they
 * were long-lived young objects G1 copied between survivor spaces. Not thread-safe.
 */
final class LruCache<K, V> {
    /** How a key is kept: two {@code long}s, and back (for {@link #keys()}). */
    interface Keys<K> {
        long high(K key);

        long low(K key);

        K key(long high, long low);
    }

    /** A page's identity: its block's number and its offset. */
    static final Keys<PageKey> PAGE_KEYS = new Keys<>() {
        @Override
        public long high(PageKey key) {
            return key.blockId();
        }

        @Override
        public long low(PageKey key) {
            return key.offset();
        }

        @Override
        public PageKey key(long high, long low) {
            return new PageKey((int) high, low);
        }
    };

    /** A content hash. */
    static final Keys<PageHash> PAGE_HASHES = new Keys<>() {
        @Override
        public long high(PageHash key) {
            return key.high();
        }

        @Override
        public long low(PageHash key) {
            return key.low();
        }

        @Override
        public PageHash key(long high, long low) {
            return new PageHash(high, low);
        }
    };

    // the index's hash: random odd multipliers for each cache (multiply-shift hashing), so keys a
    // peer chose (a page's block and offset come from the stream) cannot be made to collide without
    // knowing them; the index's layout differs between the encoder and the decoder, the entries and
    // their order do not
    private final long highMultiplier = ThreadLocalRandom.current().nextLong() | 1;
    private final long lowMultiplier = ThreadLocalRandom.current().nextLong() | 1;
    private static final int NONE = -1;

    private final int capacity;
    private final Keys<K> keys;
    private final Consumer<? super V> released;
    private long evictions;
    // per slot: the key, the value, the neighbours in recency order (eldest first)
    private long[] highs = new long[0];
    private long[] lows = new long[0];
    private Object[] values = new Object[0];
    private int[] older = new int[0];
    private int[] newer = new int[0];
    private int eldest = NONE;
    private int newest = NONE;
    private int size;
    // slots ever used; freed ones are chained through newer[] from freeSlot
    private int usedSlots;
    private int freeSlot = NONE;
    // key -> slot + 1 (0: empty); linear probing, deletion by shifting back (no tombstones)
    private int[] index = new int[16];
    private int shift = 64 - 4;

    LruCache(int capacity, Keys<K> keys) {
        this(capacity, keys, value -> {});
    }

    /** @param released called with each value that leaves the cache (evicted, replaced or removed) */
    LruCache(int capacity, Keys<K> keys, Consumer<? super V> released) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity is negative: " + capacity);
        }
        this.capacity = capacity;
        this.keys = requireNonNull(keys, "keys is null");
        this.released = requireNonNull(released, "released is null");
    }

    int capacity() {
        return capacity;
    }

    int size() {
        return size;
    }

    long evictions() {
        return evictions;
    }

    /** The value, without changing recency; {@code null} if absent. */
    V peek(K key) {
        int slot = find(keys.high(key), keys.low(key));
        return slot == NONE ? null : value(slot);
    }

    boolean contains(K key) {
        return find(keys.high(key), keys.low(key)) != NONE;
    }

    /** Makes {@code key} the most recent entry with {@code value}, evicting the least recent one if full. */
    void put(K key, V value) {
        if (capacity != 0) {
            insert(key, value);
        }
    }

    /**
     * The place of {@code key}'s entry, from 0 to the capacity less one, without changing recency;
     * -1 if absent. An entry keeps its place until it leaves the cache, so an owner can keep what
     * belongs to an entry in its own arrays at that place (a {@link PageSlab}).
     */
    int place(K key) {
        return find(keys.high(key), keys.low(key));
    }

    /**
     * {@link #put} without a value: makes {@code key} the most recent entry and returns its place
     * (the one it had if present; otherwise the place of the entry evicted for it, if the cache was
     * full, or a new one). The capacity must not be 0.
     */
    int putPlace(K key) {
        if (capacity == 0) {
            throw new IllegalStateException("a cache of capacity 0 has no place");
        }
        return insert(key, null);
    }

    private int insert(K key, V value) {
        long high = keys.high(key);
        long low = keys.low(key);
        int slot = find(high, low);
        if (slot != NONE) {
            V replaced = value(slot);
            values[slot] = value;
            unlink(slot);
            linkNewest(slot);
            released.accept(replaced);
            return slot;
        }
        if (size >= capacity) {
            released.accept(evictEldest());
        }
        slot = allocate();
        highs[slot] = high;
        lows[slot] = low;
        values[slot] = value;
        linkNewest(slot);
        size++;
        if (size * 2 > index.length) {
            rebuildIndex(index.length * 2);
        } else {
            insertIndex(slot);
        }
        return slot;
    }

    /** Removes {@code key}; its value, released, or {@code null} if absent. */
    V remove(K key) {
        int slot = find(keys.high(key), keys.low(key));
        if (slot == NONE) {
            return null;
        }
        V value = detach(slot);
        released.accept(value);
        return value;
    }

    /** Drops every entry (the stream ended: what it held is garbage, however long the cache is referenced). */
    void clear() {
        highs = new long[0];
        lows = new long[0];
        values = new Object[0];
        older = new int[0];
        newer = new int[0];
        eldest = NONE;
        newest = NONE;
        size = 0;
        usedSlots = 0;
        freeSlot = NONE;
        index = new int[16];
        shift = 64 - 4;
    }

    /** Keys from least to most recent (tests compare the two sides' caches with it). */
    List<K> keys() {
        List<K> result = new ArrayList<>(size);
        for (int slot = eldest; slot != NONE; slot = newer[slot]) {
            result.add(keys.key(highs[slot], lows[slot]));
        }
        return result;
    }

    private V evictEldest() {
        evictions++;
        return detach(eldest);
    }

    @SuppressWarnings("unchecked")
    private V value(int slot) {
        return (V) values[slot];
    }

    /** Takes the slot out of the list and the index, frees it; returns its value. */
    private V detach(int slot) {
        V value = value(slot);
        unlink(slot);
        deleteIndex(slot);
        values[slot] = null;
        newer[slot] = freeSlot;
        freeSlot = slot;
        size--;
        return value;
    }

    private int allocate() {
        if (freeSlot != NONE) {
            int slot = freeSlot;
            freeSlot = newer[slot];
            return slot;
        }
        if (usedSlots == highs.length) {
            int length = (int) Math.min(capacity, Math.max(16L, highs.length * 2L));
            highs = Arrays.copyOf(highs, length);
            lows = Arrays.copyOf(lows, length);
            values = Arrays.copyOf(values, length);
            older = Arrays.copyOf(older, length);
            newer = Arrays.copyOf(newer, length);
        }
        return usedSlots++;
    }

    private void linkNewest(int slot) {
        older[slot] = newest;
        newer[slot] = NONE;
        if (newest == NONE) {
            eldest = slot;
        } else {
            newer[newest] = slot;
        }
        newest = slot;
    }

    private void unlink(int slot) {
        int before = older[slot];
        int after = newer[slot];
        if (before == NONE) {
            eldest = after;
        } else {
            newer[before] = after;
        }
        if (after == NONE) {
            newest = before;
        } else {
            older[after] = before;
        }
    }

    private int home(long high, long low) {
        return (int) ((high * highMultiplier + low * lowMultiplier) >>> shift);
    }

    private int find(long high, long low) {
        int mask = index.length - 1;
        for (int i = home(high, low); ; i = (i + 1) & mask) {
            int entry = index[i];
            if (entry == 0) {
                return NONE;
            }
            if (lows[entry - 1] == low && highs[entry - 1] == high) {
                return entry - 1;
            }
        }
    }

    private void insertIndex(int slot) {
        int mask = index.length - 1;
        int i = home(highs[slot], lows[slot]);
        while (index[i] != 0) {
            i = (i + 1) & mask;
        }
        index[i] = slot + 1;
    }

    private void deleteIndex(int slot) {
        int mask = index.length - 1;
        int hole = home(highs[slot], lows[slot]);
        while (index[hole] != slot + 1) {
            hole = (hole + 1) & mask;
        }
        for (int j = (hole + 1) & mask; index[j] != 0; j = (j + 1) & mask) {
            int entry = index[j] - 1;
            int home = home(highs[entry], lows[entry]);
            boolean movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
            if (movable) {
                index[hole] = index[j];
                hole = j;
            }
        }
        index[hole] = 0;
    }

    private void rebuildIndex(int length) {
        index = new int[length];
        shift = 64 - Integer.numberOfTrailingZeros(length);
        for (int slot = eldest; slot != NONE; slot = newer[slot]) {
            insertIndex(slot);
        }
    }
}
