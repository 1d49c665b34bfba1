package io.tailops.operator.pipeline;

import io.tailops.controlplane.ControlPlane;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.k8s.HostnameClaims;
import io.tailops.operator.k8s.ProxyClassUsers;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.reconcile.ReconcileMetrics;
import io.tailops.operator.reconcile.RetryKicks;
import io.tailops.operator.status.EventSink;
import java.time.Clock;
import java.time.Duration;

/** The operator context of the pipeline tests: no Kubernetes client; metrics and recent errors are not kept. */
final class PipelineTestContext {
  private PipelineTestContext() {
  }

  static OperatorContext of(OperatorConfig config, ControlPlane tailnet, EventSink events, Clock clock) {
    ReconcileMetrics metrics = new ReconcileMetrics() {
      @Override
      public void reconciled(String controller, String outcome, Duration took) {
      }

      @Override
      public void selfHealing(String action) {
      }
    };
    return new OperatorContext(config, null, tailnet, events, clock, new HostnameClaims(), new ProxyClassUsers(),
        metrics, (object, message) -> { }, new RetryKicks());
  }
}
