package io.tailops.operator.reconcile;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.controlplane.ControlPlane;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.k8s.HostnameClaims;
import io.tailops.operator.k8s.ProxyClassUsers;
import io.tailops.operator.proxy.DeviceRegistry;
import io.tailops.operator.proxy.ProxyDefaults;
import io.tailops.operator.status.EventSink;
import io.tailops.operator.status.ServedParents;
import java.time.Clock;

/**
 * What every reconciler shares: settings, clients, the event recorder, the clock, the hostname and ProxyClass-user
 * registries, the registry of the devices the proxies registered, what each parent's last reconcile found (doctor and
 * the status page list every parent from it), and where reconciles report to (metrics, recent errors). The runtime
 * builds it; reconcilers never see the runtime itself.
 */
public record OperatorContext(OperatorConfig config, KubernetesClient client, ControlPlane controlPlane,
    EventSink events, Clock clock, HostnameClaims hostnames, ProxyClassUsers proxyClassUsers,
    ReconcileMetrics metrics, RecentErrors errors, RetryKicks retryKicks, DeviceRegistry devices,
    ServedParents parents) {

  /** A context with an in-memory device registry and its own parent list (tests and tools). */
  public OperatorContext(OperatorConfig config, KubernetesClient client, ControlPlane controlPlane,
      EventSink events, Clock clock, HostnameClaims hostnames, ProxyClassUsers proxyClassUsers,
      ReconcileMetrics metrics, RecentErrors errors, RetryKicks retryKicks) {
    this(config, client, controlPlane, events, clock, hostnames, proxyClassUsers, metrics, errors, retryKicks,
        DeviceRegistry.inMemory(), new ServedParents());
  }

  public ProxyDefaults proxyDefaults() {
    return ProxyDefaults.from(config);
  }
}
