package io.tailops.operator.pipeline;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Remembers a pure function of a parent per resourceVersion, so that the cache indexers, the reconcile and the hostname
 * bookkeeping compute a parent's plan once per change of the parent instead of once each.
 */
public final class PlanMemo<P extends HasMetadata, T> {
  private record Entry<T>(String resourceVersion, T value) {
  }

  private final Function<P, T> compute;
  private final Map<String, Entry<T>> entries = new ConcurrentHashMap<>();

  public PlanMemo(Function<P, T> compute) {
    this.compute = compute;
  }

  public T get(P parent) {
    String uid = parent.getMetadata().getUid();
    String rv = parent.getMetadata().getResourceVersion();
    if (uid == null || rv == null) {
      return compute.apply(parent);
    }
    Entry<T> e = entries.get(uid);
    if (e != null && Objects.equals(e.resourceVersion(), rv)) {
      return e.value();
    }
    T value = compute.apply(parent);
    entries.put(uid, new Entry<>(rv, value));
    return value;
  }

  public void forget(String uid) {
    entries.remove(uid);
  }
}
