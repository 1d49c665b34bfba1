package io.tailops.operator.dns;

import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.tailops.operator.k8s.TailscaleKeys;
import java.util.List;
import java.util.Optional;

/**
 * Which name the nameserver answers with a proxy's pod addresses (dnsrecords.go): for an Ingress proxy, the Ingress's
 * MagicDNS name ({@code status.loadBalancer.ingress[0].hostname}); for an egress proxy of a Service with
 * {@code tailscale.com/tailnet-fqdn}, that annotation exactly as written (with or without the final dot); no record for
 * other proxies; for an egress ProxyGroup's ClusterIP Service of such a Service, the same. The proxy's headless Service
 * (or that ClusterIP Service) remembers the name in {@value #ANNOTATION} (so that the record can be
 * removed when the name changes or the proxy goes) and carries the finalizer {@value #FINALIZER} while it has one.
 */
public final class ProxyRecordName {
  public static final String ANNOTATION = "tailscale.com/magic-dnsname";
  public static final String FINALIZER = "tailscale.com/dns-records-reconciler";

  private ProxyRecordName() {
  }

  /** The name for an Ingress proxy, once the Ingress has its MagicDNS name. */
  public static Optional<String> forIngress(Ingress ingress) {
    List<IngressLoadBalancerIngress> lb = ingress.getStatus() == null || ingress.getStatus().getLoadBalancer() == null
        ? null : ingress.getStatus().getLoadBalancer().getIngress();
    if (lb == null || lb.isEmpty() || lb.get(0).getHostname() == null || lb.get(0).getHostname().isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(lb.get(0).getHostname());
  }

  /**
   * Whether {@code svc} is the ClusterIP Service an egress ProxyGroup serves a Service through (labels
   * {@code tailscale.com/proxy-group} and {@code tailscale.com/svc-type: egress}, type ClusterIP): it has no headless
   * Service, its record points at its own cluster IPs (dnsrecords.go).
   */
  public static boolean isGroupEgressService(Service svc) {
    var labels = svc.getMetadata().getLabels();
    return labels != null && !labels.getOrDefault("tailscale.com/proxy-group", "").isEmpty()
        && "egress".equals(labels.get("tailscale.com/svc-type")) && svc.getSpec() != null
        && "ClusterIP".equals(svc.getSpec().getType()) && "svc".equals(labels.get("tailscale.com/parent-resource-type"));
  }

  /** The name for a Service's proxy: only an egress proxy to a MagicDNS name has one. */
  public static Optional<String> forService(Service parent) {
    var ann = parent.getMetadata().getAnnotations();
    String fqdn = ann == null ? null : ann.get(TailscaleKeys.TAILNET_FQDN);
    return fqdn == null || fqdn.isEmpty() ? Optional.empty() : Optional.of(fqdn);
  }
}
