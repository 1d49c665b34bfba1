package io.tailops.operator.ha;

import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.operator.proxy.DeviceState;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * How this operator names itself in a Tailscale Service's owner references: the stable node ID of its own device (the
 * {@code device_id} in its state Secret, {@code OPERATOR_SECRET}), as the official operator does, so that services the
 * official operator made are this one's after a switch. An operator without a device of its own uses
 * {@code k8s-operator-<UID of its namespace>}, stable across restarts; both are recognised as its own.
 */
public final class OperatorIdentity {
  static final Duration REFRESH = Duration.ofMinutes(1);
  private final KubernetesClient client;
  private final String namespace;
  private final String secretName;
  private final Clock clock;
  private volatile String deviceId;
  private volatile String fallback;
  private volatile Instant readAt;

  public OperatorIdentity(KubernetesClient client, String namespace, String secretName, Clock clock) {
    this.client = client;
    this.namespace = namespace;
    this.secretName = secretName;
    this.clock = clock;
  }

  /** The ID new owner references carry. */
  public String id() {
    refresh();
    String d = deviceId;
    return d != null ? d : fallback();
  }

  /** Every ID this operator is known by. */
  public Set<String> ids() {
    Set<String> ids = new LinkedHashSet<>();
    ids.add(id());
    ids.add(fallback());
    return ids;
  }

  private void refresh() {
    Instant now = clock.instant();
    if (readAt != null && Duration.between(readAt, now).compareTo(REFRESH) < 0) {
      return;
    }
    readAt = now;
    try {
      Secret s = client.secrets().inNamespace(namespace).withName(secretName).get();
      DeviceState d = DeviceState.from(s);
      deviceId = d.hasDevice() ? d.deviceId() : null;
    } catch (KubernetesClientException e) {
      deviceId = null;
    }
  }

  private String fallback() {
    String f = fallback;
    if (f == null) {
      try {
        Namespace ns = client.namespaces().withName(namespace).get();
        f = "k8s-operator-" + (ns == null ? namespace : ns.getMetadata().getUid());
        fallback = f;
      } catch (KubernetesClientException e) {
        return "k8s-operator-" + namespace; // not remembered: the namespace's UID is read again next time
      }
    }
    return f;
  }
}
