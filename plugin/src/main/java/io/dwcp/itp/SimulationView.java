package io.dwcp.itp;

import java.util.List;
import java.util.Map;

/** What a {@link MigrationPolicy} sees of a running evacuation. Valid only during the call. */
public interface SimulationView {
    double time();

    Evacuation evacuation();

    /** VMs not started yet, in listed order. */
    List<Vm> waiting();

    /** Running migrations: VM id to destination. */
    Map<String, String> running();

    int runningTo(String destination);

    /** Whether the VM's migration has ended (converged or given up). */
    boolean ended(String vm);

    /** Whether the VM's migration converged: it moved. */
    boolean converged(String vm);

    /** PBA's estimate of the link's goodput over the next seconds (bytes/s). */
    double estimatedLinkBytesPerSecond(String destination);

    double estimatedUplinkBytesPerSecond();

    long freeMemoryBytes(String destination);

    int freeSlots(String destination);
}
