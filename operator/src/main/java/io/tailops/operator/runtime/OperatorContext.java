package io.tailops.operator.runtime;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.controlplane.ControlPlane;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.k8s.HostnameClaims;
import io.tailops.operator.k8s.ProxyClassUsers;
import io.tailops.operator.proxy.ProxyDefaults;
import io.tailops.operator.status.EventRecorder;
import java.time.Clock;

/** What every reconciler shares: settings, clients, the event recorder, the clock and the hostname registry. */
public record OperatorContext(OperatorConfig config, KubernetesClient client, ControlPlane controlPlane,
    EventRecorder events, Clock clock, HostnameClaims hostnames, ProxyClassUsers proxyClassUsers, OperatorMetrics metrics,
    OperatorHealth health, RetryKicks retryKicks) {

  public ProxyDefaults proxyDefaults() {
    return ProxyDefaults.from(config);
  }
}
