package io.tailops.operator.runtime;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * For each object, the newest version (resourceVersion) that a completed reconcile of it saw: the proof that the
 * operator has decided about a change. A check that "nothing happened" after a change holds only once the change is
 * reconciled; tests wait for that here ({@link #await}) instead of sleeping.
 *
 * <p>Fed by JOSDK's metrics hook {@link #finishedReconciliation}, which every reconcile of every controller passes
 * through once it has returned (a reconcile that threw is retried and is not complete). Bounded to the
 * {@value #MAX_TRACKED} most recently reconciled objects.
 */
public final class CompletedReconciles implements Metrics {
  static final int MAX_TRACKED = 16_384;

  private final Map<String, Long> newest = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
      return size() > MAX_TRACKED;
    }
  };

  @Override
  public void finishedReconciliation(HasMetadata resource, Map<String, Object> metadata) {
    if (resource == null || resource.getMetadata() == null) {
      return;
    }
    long version = version(resource.getMetadata().getResourceVersion());
    if (version < 0) {
      return;
    }
    String key = key(resource.getKind(), resource.getMetadata().getNamespace(), resource.getMetadata().getName());
    synchronized (newest) {
      newest.merge(key, version, Math::max);
      newest.notifyAll();
    }
  }

  /** The newest version of the object that a completed reconcile saw, if any since the operator started. */
  public OptionalLong newestVersion(String kind, String namespace, String name) {
    synchronized (newest) {
      Long v = newest.get(key(kind, namespace, name));
      return v == null ? OptionalLong.empty() : OptionalLong.of(v);
    }
  }

  /**
   * Waits until a reconcile of the object that saw version {@code version} or a newer one has completed.
   *
   * @return false if that did not happen within {@code timeout}
   */
  public boolean await(String kind, String namespace, String name, long version, Duration timeout)
      throws InterruptedException {
    String key = key(kind, namespace, name);
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (newest) {
      while (true) {
        Long v = newest.get(key);
        if (v != null && v >= version) {
          return true;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return false;
        }
        newest.wait(Math.max(1, left / 1_000_000));
      }
    }
  }

  /** A resourceVersion as a number (etcd's revision), or -1 if it is not one. */
  public static long version(String resourceVersion) {
    if (resourceVersion == null) {
      return -1;
    }
    try {
      return Long.parseLong(resourceVersion);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static String key(String kind, String namespace, String name) {
    return kind + "/" + (namespace == null ? "" : namespace) + "/" + name;
  }
}
