package io.tailops.operator.reconcile;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.controlplane.ControlPlane;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.k8s.HostnameClaims;
import io.tailops.operator.k8s.ProxyClassUsers;
import io.tailops.operator.proxy.ProxyDefaults;
import io.tailops.operator.status.EventSink;
import java.time.Clock;

/**
 * What every reconciler shares: settings, clients, the event recorder, the clock, the hostname and ProxyClass-user
 * registries, and where reconciles report to (metrics, recent errors). The runtime builds it; reconcilers never see the
 * runtime itself.
 */
public record OperatorContext(OperatorConfig config, KubernetesClient client, ControlPlane controlPlane,
    EventSink events, Clock clock, HostnameClaims hostnames, ProxyClassUsers proxyClassUsers,
    ReconcileMetrics metrics, RecentErrors errors, RetryKicks retryKicks) {

  public ProxyDefaults proxyDefaults() {
    return ProxyDefaults.from(config);
  }
}
