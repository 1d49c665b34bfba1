package io.tailops.operator.ha;

import io.fabric8.kubernetes.api.model.Service;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.proxy.Validation;
import io.tailops.operator.status.Problem;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Decides whether a Service is served through an ingress ProxyGroup as a Tailscale Service (official
 * {@code svc-for-pg.go}): a LoadBalancer of class {@code tailscale} (or with {@code tailscale.com/expose}) with a
 * cluster IP and {@code tailscale.com/proxy-group}; hostname {@code tailscale.com/hostname} or {@code <ns>-<name>};
 * tags from {@code tailscale.com/tags} or the operator's. Pure.
 */
public final class HaServicePlanner {
  /** Condition reason of an HA Service that cannot be served as it is (official). */
  public static final String REASON_INVALID = "IngressSvcInvalid";

  private final boolean defaultLoadBalancer;
  private final List<String> defaultTags;

  public HaServicePlanner(boolean defaultLoadBalancer, List<String> defaultTags) {
    this.defaultLoadBalancer = defaultLoadBalancer;
    this.defaultTags = List.copyOf(defaultTags);
  }

  /** The Service's cluster IPs, for the proxies' ClusterIP ↔ Tailscale Service IP mappings. */
  public record Addresses(List<String> clusterIps) {
    public Addresses {
      clusterIps = List.copyOf(clusterIps);
    }
  }

  public HaPlan<Addresses> plan(Service svc) {
    Map<String, String> ann = svc.getMetadata().getAnnotations() == null ? Map.of()
        : svc.getMetadata().getAnnotations();
    String pg = ann.getOrDefault(TailscaleKeys.PROXY_GROUP, "");
    Map<String, String> labels = svc.getMetadata().getLabels() == null ? Map.of() : svc.getMetadata().getLabels();
    if (pg.isEmpty() || "true".equals(labels.get(TailscaleKeys.LABEL_MANAGED))) {
      return new HaPlan.NotWanted<>("the Service does not name a ProxyGroup");
    }
    boolean loadBalancer = "LoadBalancer".equals(svc.getSpec().getType())
        && (TailscaleKeys.LOAD_BALANCER_CLASS.equals(svc.getSpec().getLoadBalancerClass())
            || svc.getSpec().getLoadBalancerClass() == null && defaultLoadBalancer);
    boolean expose = "true".equals(ann.get(TailscaleKeys.EXPOSE));
    if (!loadBalancer && !expose) {
      return new HaPlan.NotWanted<>("the Service is neither a LoadBalancer of class tailscale nor annotated "
          + TailscaleKeys.EXPOSE);
    }
    List<String> violations = new ArrayList<>();
    String clusterIp = svc.getSpec().getClusterIP() == null ? "" : svc.getSpec().getClusterIP();
    if ("None".equals(clusterIp)) {
      violations.add("headless Services are not supported.");
    } else if (clusterIp.isEmpty()) {
      violations.add("the Service has no cluster IP (type " + svc.getSpec().getType() + "): only Services with a "
          + "cluster IP can be served through a ProxyGroup");
    }
    boolean hostnameGiven = ann.containsKey(TailscaleKeys.HOSTNAME);
    String hostname = hostnameGiven ? ann.get(TailscaleKeys.HOSTNAME)
        : svc.getMetadata().getNamespace() + "-" + svc.getMetadata().getName();
    Validation.dnsLabelError(hostname).ifPresent(err -> violations.add(hostnameGiven
        ? "invalid Tailscale hostname specified " + Validation.quote(hostname) + ": " + err
        : "invalid Tailscale hostname " + Validation.quote(hostname) + ", use " + Validation.quote(
            TailscaleKeys.HOSTNAME) + " annotation to override: " + err));
    if (ann.containsKey(TailscaleKeys.TAGS) && !ann.get(TailscaleKeys.TAGS).isEmpty()) {
      violations.addAll(Validation.tagViolations(ann.get(TailscaleKeys.TAGS)));
    }
    if (!violations.isEmpty()) {
      return new HaPlan.Invalid<>(pg, REASON_INVALID, "invalid Service: " + String.join(", ", violations));
    }
    List<Problem> notes = new ArrayList<>();
    if ("true".equals(ann.get(TailscaleKeys.FUNNEL))) {
      notes.add(Problem.warning("FunnelNotSupported", "Funnel is not available for Services served through a "
          + "ProxyGroup (a Tailscale Service cannot be published with Funnel), so the Service is served on the "
          + "tailnet only; remove " + TailscaleKeys.PROXY_GROUP + " to serve it through Funnel on a proxy of its "
          + "own, or remove " + TailscaleKeys.FUNNEL));
    }
    List<String> tags = ann.containsKey(TailscaleKeys.TAGS) && !ann.get(TailscaleKeys.TAGS).isEmpty()
        ? Validation.splitTags(ann.get(TailscaleKeys.TAGS)) : defaultTags;
    List<String> ips = svc.getSpec().getClusterIPs() != null && !svc.getSpec().getClusterIPs().isEmpty()
        ? svc.getSpec().getClusterIPs() : List.of(clusterIp);
    return new HaPlan.Wanted<>(pg, hostname, tags, notes, new Addresses(ips));
  }
}
