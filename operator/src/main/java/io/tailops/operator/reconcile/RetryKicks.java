package io.tailops.operator.reconcile;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Lets reconcilers retry waiting resources at once when the reason they wait goes away (credentials fixed), instead
 * of sleeping out their backoff.
 */
public final class RetryKicks {
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  public void register(Runnable retryWaiting) {
    listeners.add(retryWaiting);
  }

  public void kick() {
    listeners.forEach(Runnable::run);
  }
}
