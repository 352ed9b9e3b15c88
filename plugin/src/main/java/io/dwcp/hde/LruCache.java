package io.dwcp.hde;

import static java.util.Objects.requireNonNull;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
 * {@link #clear} and {@link #evictForInsert} (which hands the value to its caller) do not release.
 */
final class LruCache<K, V> {
    private final int capacity;
    // insertion order = recency order: put() re-inserts a key to make it the most recent
    private final LinkedHashMap<K, V> entries = new LinkedHashMap<>(16, 0.75f, false);
    private final Consumer<? super V> released;
    private long evictions;

    LruCache(int capacity) {
        this(capacity, value -> {});
    }

    /** @param released called with each value that leaves the cache (evicted, replaced or removed) */
    LruCache(int capacity, Consumer<? super V> released) {
        if (capacity < 0) {
            throw new IllegalArgumentException("capacity is negative: " + capacity);
        }
        this.capacity = capacity;
        this.released = requireNonNull(released, "released is null");
    }

    int capacity() {
        return capacity;
    }

    int size() {
        return entries.size();
    }

    long evictions() {
        return evictions;
    }

    /** The value, without changing recency; {@code null} if absent. */
    V peek(K key) {
        return entries.get(key);
    }

    boolean contains(K key) {
        return entries.containsKey(key);
    }

    /**
     * If {@code key} is absent and the cache is full, removes the least recent entry and returns its
     * value (for reuse); {@code null} otherwise. {@link #put} would evict the same entry.
     */
    V evictForInsert(K key) {
        if (capacity == 0 || entries.size() < capacity || entries.containsKey(key)) {
            return null;
        }
        return evictEldest();
    }

    /** Makes {@code key} the most recent entry with {@code value}, evicting the least recent one if full. */
    void put(K key, V value) {
        if (capacity == 0) {
            return;
        }
        V replaced = entries.remove(key);
        if (replaced == null && entries.size() >= capacity) {
            released.accept(evictEldest());
        }
        entries.put(key, value);
        if (replaced != null) {
            released.accept(replaced);
        }
    }

    /** Removes {@code key}; its value, released, or {@code null} if absent. */
    V remove(K key) {
        V value = entries.remove(key);
        if (value != null) {
            released.accept(value);
        }
        return value;
    }

    /** Drops every entry (the stream ended: what it held is garbage, however long the cache is referenced). */
    void clear() {
        entries.clear();
    }

    /** Keys from least to most recent (tests compare the two sides' caches with it). */
    List<K> keys() {
        return new ArrayList<>(entries.keySet());
    }

    private V evictEldest() {
        Iterator<Map.Entry<K, V>> eldest = entries.entrySet().iterator();
        V value = eldest.next().getValue();
        eldest.remove();
        evictions++;
        return value;
    }
}
