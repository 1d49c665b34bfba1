package io.tailops.operator.proxy;

import java.util.List;
import java.util.Optional;

/**
 * A provisioned proxy as observed in one reconcile: its name and the state of each replica, in ordinal order.
 *
 * @param keyMinted whether this reconcile minted a key for a new replica (a new proxy)
 * @param reverted what was found changed by hand and put back, one line per object
 * @param recovered what was found deleted by hand and made again (a proxy Secret), one line each
 */
public record ObservedProxy(String name, List<ReplicaState> replicas, boolean keyMinted, List<String> reverted,
    List<String> recovered) {
  public ObservedProxy {
    replicas = List.copyOf(replicas);
    reverted = List.copyOf(reverted);
    recovered = List.copyOf(recovered);
  }

  public ObservedProxy(String name, List<ReplicaState> replicas, boolean keyMinted, List<String> reverted) {
    this(name, replicas, keyMinted, reverted, List.of());
  }

  /** Replica 0 (single-replica proxies have only it). */
  public Optional<ReplicaState> first() {
    return replicas.isEmpty() ? Optional.empty() : Optional.of(replicas.get(0));
  }

  /** What replica 0 reported ({@link DeviceState#NONE} before it did). */
  public DeviceState device() {
    return first().map(ReplicaState::device).orElse(DeviceState.NONE);
  }
}
