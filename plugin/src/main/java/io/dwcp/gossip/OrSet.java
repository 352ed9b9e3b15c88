package io.dwcp.gossip;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Observed-remove set (add wins). Every add is tagged with a unique {@link Dot}; a remove
 * tombstones the dots of the element its replica has observed. An element is present while it has
 * a dot that is not tombstoned, so an add concurrent with a remove survives. Merge is the union of
 * both parts: commutative, associative, idempotent. Immutable.
 */
public final class OrSet implements Crdt {
    private static final OrSet EMPTY = new OrSet(new TreeMap<>(), new TreeSet<>());

    private final SortedMap<String, SortedSet<Dot>> adds;
    private final SortedSet<Dot> removed;

    private OrSet(SortedMap<String, SortedSet<Dot>> adds, SortedSet<Dot> removed) {
        this.adds = adds;
        this.removed = removed;
    }

    public static OrSet empty() {
        return EMPTY;
    }

    public static OrSet of(Map<String, ? extends Set<Dot>> adds, Set<Dot> removed) {
        TreeMap<String, SortedSet<Dot>> addCopy = new TreeMap<>();
        adds.forEach((element, dots) -> {
            requireNonNull(element, "element is null");
            if (!dots.isEmpty()) {
                addCopy.put(element, new TreeSet<>(dots));
            }
        });
        return new OrSet(addCopy, new TreeSet<>(removed));
    }

    /** A delta that adds the element with the dot. */
    public static OrSet addition(String element, Dot dot) {
        return of(Map.of(element, Set.of(dot)), Set.of());
    }

    /** A delta that removes the element as this set observes it (nothing if it is absent). */
    public OrSet removal(String element) {
        SortedSet<Dot> dots = adds.getOrDefault(element, Collections.emptySortedSet());
        return of(Map.of(), dots);
    }

    /**
     * A delta that replaces every element this set observes by the given one: the OR-set used as
     * a multi-value register. Two assignments made without seeing each other both survive the
     * merge, so a concurrent write is never lost and shows as two values ({@link #isConcurrent}).
     */
    public OrSet assignment(String element, Dot dot) {
        TreeSet<Dot> observed = new TreeSet<>();
        adds.values().forEach(observed::addAll);
        return of(Map.of(element, Set.of(dot)), observed);
    }

    /** As a multi-value register: more than one value means concurrent assignments. */
    public boolean isConcurrent() {
        return elements().size() > 1;
    }

    public boolean contains(String element) {
        SortedSet<Dot> dots = adds.get(element);
        return dots != null && !removed.containsAll(dots);
    }

    public SortedSet<String> elements() {
        SortedSet<String> elements = new TreeSet<>();
        adds.keySet().forEach(element -> {
            if (contains(element)) {
                elements.add(element);
            }
        });
        return elements;
    }

    public SortedMap<String, SortedSet<Dot>> adds() {
        return Collections.unmodifiableSortedMap(adds);
    }

    public SortedSet<Dot> removed() {
        return Collections.unmodifiableSortedSet(removed);
    }

    @Override
    public OrSet merge(Crdt other) {
        OrSet set = Crdt.sameKind(other, OrSet.class);
        TreeMap<String, SortedSet<Dot>> mergedAdds = new TreeMap<>();
        adds.forEach((element, dots) -> mergedAdds.put(element, new TreeSet<>(dots)));
        set.adds.forEach((element, dots) ->
                mergedAdds.computeIfAbsent(element, ignored -> new TreeSet<>()).addAll(dots));
        TreeSet<Dot> mergedRemoved = new TreeSet<>(removed);
        mergedRemoved.addAll(set.removed);
        return new OrSet(mergedAdds, mergedRemoved);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof OrSet set && adds.equals(set.adds) && removed.equals(set.removed);
    }

    @Override
    public int hashCode() {
        return adds.hashCode() * 31 + removed.hashCode();
    }

    @Override
    public String toString() {
        return elements().toString();
    }
}
