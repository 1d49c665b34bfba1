package io.tailops.operator.reconcile;

import java.time.Duration;

/** Where reconciles count themselves (implemented by the runtime's Prometheus metrics). */
public interface ReconcileMetrics {
  /** One reconcile of {@code controller} finished with {@code outcome} ({@code ok} or {@code error}). */
  void reconciled(String controller, String outcome, Duration took);

  /** A self-healing action was taken. */
  void selfHealing(String action);
}
