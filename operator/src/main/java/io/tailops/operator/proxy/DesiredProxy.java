package io.tailops.operator.proxy;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Every object one proxy consists of, as the operator wants it: what provisioning creates and keeps equal to this.
 *
 * @param name the proxy's name (StatefulSet, headless Service; replica Secrets are {@code <name>-<i>})
 * @param headlessService the headless Service, or null for proxies without one
 * @param replicas one entry per replica Secret, in ordinal order
 * @param statefulSet the StatefulSet, carrying the hash of this whole desired proxy
 * @param metricsService the metrics Service, or null when metrics are off
 * @param access the proxy pods' own ServiceAccount, Role and RoleBinding (only their own state Secrets)
 */
public record DesiredProxy(String name, Service headlessService, List<Replica> replicas, StatefulSet statefulSet,
    Service metricsService, ProxyAccess access) {

  public DesiredProxy {
    replicas = List.copyOf(replicas);
  }

  /**
   * One replica's config/state Secret.
   *
   * @param secretName {@code <name>-<ordinal>}
   * @param hostname the hostname it asks for
   * @param operatorKeys the operator's keys for a given auth key (null: none)
   */
  public record Replica(int ordinal, String secretName, String hostname,
      Function<String, Map<String, String>> operatorKeys) {
  }

  /** The hash the StatefulSet carries: what the operator last enforced for this proxy. */
  public String hash() {
    return ProxyStatefulSet.hashOf(statefulSet);
  }
}
