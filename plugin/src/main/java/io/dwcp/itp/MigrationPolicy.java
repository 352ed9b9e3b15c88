package io.dwcp.itp;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * Decides which migrations start, and where, as an evacuation goes: asked at time 0 and after
 * every event of the simulation (a round ended, a migration ended, a capacity changed, a new link
 * estimate). Called on the simulation's thread only.
 */
public interface MigrationPolicy {
    /** Start {@code vm} now towards {@code destination}. */
    record Start(String vm, String destination) {
        public Start {
            requireNonNull(vm, "vm is null");
            requireNonNull(destination, "destination is null");
        }
    }

    /** The migrations to start now, none if nothing should. */
    List<Start> decide(SimulationView view);

    String name();
}
