package io.tailops.operator.reconcile;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/** Per-object exponential backoff with jitter for failed reconciles, reset on success. */
public final class Backoff {
  private final Duration base;
  private final Duration max;
  private final Map<String, Integer> failures = new ConcurrentHashMap<>();

  public Backoff(Duration base, Duration max) {
    this.base = base;
    this.max = max;
  }

  /** Records a failure of {@code key} and returns how long to wait before the next attempt. */
  public Duration failed(String key) {
    int n = failures.merge(key, 1, Integer::sum);
    long ms = base.toMillis() << Math.min(n - 1, 20);
    ms = Math.min(ms, max.toMillis());
    long jitter = ThreadLocalRandom.current().nextLong(ms / 5 + 1);
    return Duration.ofMillis(ms - ms / 10 + jitter);
  }

  public void succeeded(String key) {
    failures.remove(key);
  }

  public int failures(String key) {
    return failures.getOrDefault(key, 0);
  }
}
