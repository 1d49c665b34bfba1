package io.tailops.operator.proxy;

import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.operator.k8s.ProxyClasses;
import java.util.List;

/**
 * Everything the operator decided about one proxy, independent of Kubernetes API calls: built from the parent
 * (Service or Ingress), its annotations, its ProxyClass and the operator's settings, and turned into objects by
 * {@link ProxyStatefulSet}, {@link ProxyConfigSecret} and {@link ProxyHeadlessService}.
 *
 * @param parent the Service or Ingress
 * @param hostname the tailnet hostname to request
 * @param tags ACL tags for the auth key
 * @param target where traffic goes
 * @param proxyClass the ready ProxyClass that applies, or null
 * @param ephemeral whether to mint an ephemeral key
 * @param forwardClusterTraffic the experimental forward-cluster-traffic Ingress mode (kernel mode L7)
 * @param funnel whether the proxy serves through Funnel (only informational here; the serve config carries it)
 * @param serviceServeConfig for an L3 Service proxy: an additional serve config (HTTPS on 443 with Funnel), or null
 * @param replicas how many replicas (pods, each with its own config/state Secret and device) the proxy has
 * @param hostnamePrefix when set, replica {@code i} asks for {@code <prefix>-<i>} instead of {@code hostname}
 */
public record ProxySpec(ParentRef parent, String hostname, List<String> tags, ProxyTarget target,
    ProxyClass proxyClass, boolean ephemeral, boolean forwardClusterTraffic, boolean funnel,
    String serviceServeConfig, int replicas, String hostnamePrefix) {

  public ProxySpec {
    tags = List.copyOf(tags);
    if (replicas < 0) {
      throw new IllegalArgumentException("replicas must not be negative");
    }
  }

  /** A one-replica proxy. */
  public ProxySpec(ParentRef parent, String hostname, List<String> tags, ProxyTarget target, ProxyClass proxyClass,
      boolean ephemeral, boolean forwardClusterTraffic, boolean funnel, String serviceServeConfig) {
    this(parent, hostname, tags, target, proxyClass, ephemeral, forwardClusterTraffic, funnel, serviceServeConfig, 1,
        null);
  }

  public ProxySpec(ParentRef parent, String hostname, List<String> tags, ProxyTarget target, ProxyClass proxyClass,
      boolean ephemeral, boolean forwardClusterTraffic, boolean funnel) {
    this(parent, hostname, tags, target, proxyClass, ephemeral, forwardClusterTraffic, funnel, null);
  }

  /** The serve config the proxy applies, if any (Ingress proxies, Funnel Services). */
  public String serveConfig() {
    return target instanceof ProxyTarget.Serve s ? s.serveConfigJson() : serviceServeConfig;
  }

  /** Whether the proxy gets a serve config file ({@code TS_SERVE_CONFIG}). */
  public boolean hasServeConfig() {
    return serveConfig() != null;
  }

  /** Userspace networking: L7 Ingress proxies, unless cluster traffic is forwarded through them. */
  public boolean userspace() {
    return target instanceof ProxyTarget.Serve && !forwardClusterTraffic;
  }

  /** Value of {@code TS_INTERNAL_APP}. */
  public String internalApp() {
    if (target.egress()) {
      return "k8s-operator-egress-proxy";
    }
    if (target instanceof ProxyTarget.Connector) {
      return "k8s-operator-connector-resource";
    }
    return target instanceof ProxyTarget.Serve ? "k8s-operator-ingress-resource" : "k8s-operator-ingress-proxy";
  }

  /** Whether this is an Ingress-style (serve config) proxy. */
  public boolean isIngressProxy() {
    return target instanceof ProxyTarget.Serve;
  }

  /** This spec with {@code pc} applied (null for none); a class asking for ephemeral devices makes them ephemeral. */
  public ProxySpec withProxyClass(ProxyClass pc) {
    return new ProxySpec(parent, hostname, tags, target, pc, ephemeral || ProxyClasses.ephemeral(pc), forwardClusterTraffic, funnel, serviceServeConfig,
        replicas, hostnamePrefix);
  }

  /** The hostname replica {@code ordinal} asks for. */
  public String hostname(int ordinal) {
    return hostnamePrefix == null || hostnamePrefix.isEmpty() ? hostname : hostnamePrefix + "-" + ordinal;
  }

  /** Name of the ProxyClass in use, or null. */
  public String proxyClassName() {
    return proxyClass == null ? null : proxyClass.getMetadata().getName();
  }
}
