package io.tailops.operator.ha;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.tailops.operator.ingress.IngressPlanner;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.proxy.Validation;
import io.tailops.operator.status.Problem;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;

/**
 * Decides whether an Ingress is served through an ingress ProxyGroup as a Tailscale Service (official
 * {@code ingress-for-pg.go}): class {@code tailscale} and {@code tailscale.com/proxy-group}; hostname the first label of
 * {@code spec.tls[0].hosts[0]} (else {@code <ns>-<name>-ingress}); one TLS entry with one host at most; the handlers
 * of its rules; HTTPS on 443, plus plain HTTP on 80 with {@code tailscale.com/http-endpoint: enabled} or a redirect
 * with {@code tailscale.com/http-redirect}. Pure: backends come from a lookup.
 */
public final class HaIngressPlanner {
  /** Event reason of an HA Ingress that cannot be served as it is (official). */
  public static final String REASON_INVALID = "InvalidIngressConfiguration";
  /** Official: plain HTTP on port 80 besides HTTPS. */
  public static final String HTTP_ENDPOINT = "tailscale.com/http-endpoint";

  private final String ingressClassName;
  private final List<String> defaultTags;

  public HaIngressPlanner(String ingressClassName, List<String> defaultTags) {
    this.ingressClassName = ingressClassName;
    this.defaultTags = List.copyOf(defaultTags);
  }

  /**
   * @param handlers the proxy handlers by mount point
   * @param httpEndpoint whether port 80 serves the handlers too
   * @param redirect whether port 80 redirects to HTTPS (ignored with {@code httpEndpoint}, as upstream)
   */
  public record Serving(java.util.Map<String, String> handlers, boolean httpEndpoint, boolean redirect) {
    /** The Tailscale Service's ports: {@code tcp:443}, plus {@code tcp:80} when port 80 is served. */
    public List<String> ports() {
      return httpEndpoint || redirect ? List.of("tcp:443", "tcp:80") : List.of("tcp:443");
    }
  }

  /** Whether the Ingress is of the operator's class and names a ProxyGroup. */
  public boolean isHa(Ingress ing) {
    return ing.getSpec() != null && ingressClassName.equals(ing.getSpec().getIngressClassName())
        && !annotations(ing).getOrDefault(TailscaleKeys.PROXY_GROUP, "").isEmpty();
  }

  public HaPlan<Serving> plan(Ingress ing, BiFunction<String, String, Optional<Service>> services) {
    if (!isHa(ing)) {
      return new HaPlan.NotWanted<>("the Ingress is not of class " + ingressClassName + " or names no ProxyGroup");
    }
    Map<String, String> ann = annotations(ing);
    String pg = ann.get(TailscaleKeys.PROXY_GROUP);
    List<String> errs = new ArrayList<>();
    if (ann.containsKey(TailscaleKeys.TAGS)) {
      List<String> violations = Validation.tagViolations(ann.get(TailscaleKeys.TAGS));
      if (!violations.isEmpty()) {
        errs.add("Ingress contains invalid tags: " + String.join(",", violations));
      }
    }
    var tls = ing.getSpec().getTls();
    if (tls != null && !tls.isEmpty() && (tls.size() > 1 || tls.get(0).getHosts() != null
        && tls.get(0).getHosts().size() > 1)) {
      errs.add("Ingress contains invalid TLS block: only a single TLS entry with a single host is allowed");
    }
    String hostname = IngressPlanner.hostname(ing);
    Validation.dnsLabelError(hostname).ifPresent(e -> errs.add("invalid hostname " + Validation.quote(hostname) + ": "
        + e + ". Ensure that the hostname is a valid DNS label"));
    if (!errs.isEmpty()) {
      return new HaPlan.Invalid<>(pg, REASON_INVALID, String.join("; ", errs));
    }
    List<Problem> notes = new ArrayList<>();
    Map<String, String> handlers = IngressPlanner.handlers(ing, services, notes);
    if (handlers.isEmpty()) {
      return new HaPlan.Invalid<>(pg, REASON_INVALID, "the Ingress has no valid backends"
          + (notes.isEmpty() ? "" : ": " + String.join("; ", notes.stream().map(Problem::message).distinct()
              .toList())));
    }
    if ("true".equals(ann.get(TailscaleKeys.FUNNEL))) {
      notes.add(Problem.warning("FunnelNotSupported", "Funnel is not available for Ingresses served through a "
          + "ProxyGroup (a Tailscale Service cannot be published with Funnel), so the Ingress is served on the "
          + "tailnet only; remove " + TailscaleKeys.PROXY_GROUP + " to serve it through Funnel on a proxy of its "
          + "own, or remove " + TailscaleKeys.FUNNEL));
    }
    boolean httpEndpoint = "enabled".equals(ann.get(HTTP_ENDPOINT));
    boolean redirect = "true".equals(ann.get(TailscaleKeys.HTTP_REDIRECT));
    if (httpEndpoint && redirect) {
      notes.add(Problem.warning("HTTPRedirectIgnored", HTTP_ENDPOINT + ": enabled serves plain HTTP on port 80, so "
          + TailscaleKeys.HTTP_REDIRECT + " is ignored"));
    }
    List<String> tags = ann.containsKey(TailscaleKeys.TAGS) ? Validation.splitTags(ann.get(TailscaleKeys.TAGS))
        : defaultTags;
    return new HaPlan.Wanted<>(pg, hostname, tags, notes.stream().distinct().toList(),
        new Serving(handlers, httpEndpoint, redirect && !httpEndpoint));
  }

  private static Map<String, String> annotations(Ingress ing) {
    return ing.getMetadata().getAnnotations() == null ? Map.of() : ing.getMetadata().getAnnotations();
  }
}
