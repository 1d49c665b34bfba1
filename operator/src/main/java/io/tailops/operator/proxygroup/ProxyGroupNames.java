package io.tailops.operator.proxygroup;

import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.proxy.ReplicaState;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Names and labels of a ProxyGroup's objects in the operator namespace, as the official operator gives them
 * ({@code proxygroup_specs.go}), so that a group made by either operator is the other's: StatefulSet, ServiceAccount,
 * Role and RoleBinding {@code <pg>}, replica {@code i}'s pod and state Secret {@code <pg>-<i>}, its config Secret
 * {@code <pg>-<i>-config}, the ConfigMap {@code <pg>-egress-config} or {@code <pg>-ingress-config}.
 */
public final class ProxyGroupNames {
  /** Value of the {@code tailscale.com/parent-resource-type} label on a ProxyGroup's objects. */
  public static final String PARENT_TYPE = "proxygroup";
  /** Key of the egress ConfigMap: how often the health check of an egress Service is pinged (replicas × 3). */
  public static final String KEY_HEP_PINGS = "hep-pings";
  /** Key of the egress ConfigMap holding the egress Services' configuration (written for egress Services). */
  public static final String KEY_EGRESS_SERVICES = "egress-services";
  /** Key of the ingress ConfigMap holding the serve config of the group's Tailscale Services (HA Ingresses). */
  public static final String KEY_SERVE_CONFIG = "serve-config.json";
  /** Key of the ingress ConfigMap holding the ClusterIP ↔ Tailscale Service IP mappings (HA Services). */
  public static final String KEY_INGRESS_CONFIG = "ingress-config.json";

  private ProxyGroupNames() {
  }

  public static String podName(String pg, int ordinal) {
    return pg + "-" + ordinal;
  }

  public static String stateSecretName(String pg, int ordinal) {
    return podName(pg, ordinal);
  }

  public static String configSecretName(String pg, int ordinal) {
    return podName(pg, ordinal) + ReplicaState.CONFIG_SUFFIX;
  }

  public static String egressConfigMapName(String pg) {
    return pg + "-egress-config";
  }

  public static String ingressConfigMapName(String pg) {
    return pg + "-ingress-config";
  }

  /** The hostname of replica {@code ordinal}: {@code <hostnamePrefix or pg>-<ordinal>}. */
  public static String hostname(String prefixOrName, int ordinal) {
    return prefixOrName + "-" + ordinal;
  }

  /** The labels of every object of the group: managed, parent type {@code proxygroup}, parent name (no namespace). */
  public static Map<String, String> labels(String pg) {
    Map<String, String> l = new LinkedHashMap<>();
    l.put(TailscaleKeys.LABEL_MANAGED, "true");
    l.put(TailscaleKeys.LABEL_PARENT_TYPE, PARENT_TYPE);
    l.put(TailscaleKeys.LABEL_PARENT_NAME, pg);
    return l;
  }

  /** The labels of a replica Secret: the group's plus {@code tailscale.com/secret-type} ({@code config}, {@code state}). */
  public static Map<String, String> secretLabels(String pg, String secretType) {
    Map<String, String> l = labels(pg);
    l.put(ReplicaState.LABEL_SECRET_TYPE, secretType);
    return l;
  }

  /**
   * The Tailscale Service of a kube-apiserver group's API server proxies: {@code svc:<spec.kubeAPIServer.hostname>},
   * else {@code svc:<pg>} (official {@code serviceNameForAPIServerProxy}).
   */
  public static String apiServerProxyService(io.tailops.api.v1alpha1.ProxyGroup pg) {
    var k = pg.getSpec() == null ? null : pg.getSpec().getKubeAPIServer();
    if (k != null && k.getHostname() != null && !k.getHostname().isEmpty()) {
      return "svc:" + k.getHostname();
    }
    return "svc:" + pg.getMetadata().getName();
  }
}
