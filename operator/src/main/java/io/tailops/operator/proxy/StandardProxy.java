package io.tailops.operator.proxy;

import io.fabric8.kubernetes.client.utils.Serialization;
import java.util.ArrayList;
import java.util.List;

/**
 * The proxy shape of the official operator's {@code sts.go} (Service, Ingress and Connector proxies, egress Services):
 * a headless Service, one config/state Secret per replica, a StatefulSet with one config volume per replica, and the
 * metrics Service when the ProxyClass enables metrics; and, unlike upstream (the shared ServiceAccount
 * {@code proxies}), the pods' own ServiceAccount, Role and RoleBinding ({@link ProxyAccess}). Other shapes (ProxyGroup's separate config and state Secrets)
 * are other {@link ProxyBlueprint}s.
 */
public final class StandardProxy {
  private StandardProxy() {
  }

  public static DesiredProxy build(ProxySpec spec, String name, ProxyDefaults defaults) {
    var headless = ProxyHeadlessService.build(spec, name, defaults);
    var sts = ProxyStatefulSet.build(spec, name, defaults);
    var metrics = ProxyMetrics.enabled(spec) ? ProxyMetrics.service(spec, name, defaults.namespace())
        : null;
    List<DesiredProxy.Replica> replicas = new ArrayList<>();
    StringBuilder covered = new StringBuilder(Serialization.asJson(headless));
    if (metrics != null) {
      covered.append(Serialization.asJson(metrics));
    }
    for (int i = 0; i < spec.replicas(); i++) {
      String hostname = spec.hostname(i);
      replicas.add(new DesiredProxy.Replica(i, ProxyNames.secretName(name, i), hostname,
          key -> ProxyConfigSecret.desiredData(spec, hostname, key, defaults)));
      // The config without an auth key: a key coming and going is the normal life of a proxy, not a change of spec.
      covered.append(ProxyConfigSecret.desiredData(spec, hostname, null, defaults));
    }
    ProxyAccess access = ProxyAccess.build(spec, name, replicas.stream().map(DesiredProxy.Replica::secretName).toList(),
        defaults.namespace());
    access.objects().forEach(o -> covered.append(Serialization.asJson(o)));
    ProxyStatefulSet.setHash(sts, covered.toString());
    return new DesiredProxy(name, headless, replicas, sts, metrics, access);
  }
}
