package io.tailops.operator.service;

import io.tailops.operator.proxy.IpAddress;
import static io.tailops.operator.k8s.TailscaleKeys.EPHEMERAL;
import static io.tailops.operator.k8s.TailscaleKeys.HOSTNAME;
import static io.tailops.operator.k8s.TailscaleKeys.PROXY_GROUP;
import static io.tailops.operator.k8s.TailscaleKeys.TAGS;
import static io.tailops.operator.k8s.TailscaleKeys.TAILNET_FQDN;
import static io.tailops.operator.k8s.TailscaleKeys.TAILNET_IP;
import static io.tailops.operator.k8s.TailscaleKeys.TAILNET_IP_DEPRECATED;

import io.fabric8.kubernetes.api.model.Service;
import io.tailops.operator.k8s.ProxyClassRef;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProxyTarget;
import io.tailops.operator.proxy.Validation;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Decides the egress proxy of a Service that asks to reach the tailnet ({@code tailscale.com/tailnet-ip}, the deprecated
 * {@code tailscale.com/ts-tailnet-target-ip}, or {@code tailscale.com/tailnet-fqdn}): the target, hostname, tags and
 * ProxyClass name as the official operator derives them (svc.go), and every rule it checks with its wording, plus the
 * inputs it accepts and then cannot serve, refused here with a message that says what to do. Pure: no API calls.
 *
 * <p>Besides upstream's rules (headless Service, both annotations, a name that is not a MagicDNS name, an address that
 * does not parse, hostname and tags): an address no tailnet device can have (unspecified, loopback, multicast,
 * link-local, broadcast); a NodePort or LoadBalancer Service (upstream turns it into an ExternalName Service, dropping
 * its node ports or load balancer); an invalid {@code tailscale.com/ephemeral}; and, where upstream only accepts
 * {@code <device>.<tailnet>.ts.net}, also MagicDNS names of the tailnet's own domain when it is not under
 * {@code ts.net} (headscale), so that egress by name works there.
 */
public final class EgressPlanner {
  /**
   * Upstream's test for a MagicDNS name ({@code isMagicDNSName} in operator.go): exactly a device label and a tailnet
   * label under {@code ts.net}, with or without the final dot.
   */
  static final Pattern TS_NET_NAME = Pattern.compile("^[a-zA-Z0-9-]+\\.[a-zA-Z0-9-]+\\.ts\\.net\\.?$");

  private final List<String> defaultTags;
  private final String defaultProxyClass;
  private final Supplier<Optional<String>> tailnetDomain;

  /**
   * @param defaultTags tags of proxies whose Service names none ({@code PROXY_TAGS})
   * @param defaultProxyClass {@code PROXY_DEFAULT_CLASS}, or empty
   * @param tailnetDomain the tailnet's MagicDNS domain without dots at the ends ({@code tailnet-abc.ts.net},
   *     {@code tailnet.test}), when known
   */
  public EgressPlanner(List<String> defaultTags, String defaultProxyClass, Supplier<Optional<String>> tailnetDomain) {
    this.defaultTags = List.copyOf(defaultTags);
    this.defaultProxyClass = defaultProxyClass;
    this.tailnetDomain = tailnetDomain;
  }

  /** Whether {@code svc} asks for an egress proxy: one of the target annotations is set to a non-empty value. */
  public static boolean asksForEgress(Service svc) {
    Map<String, String> ann = ServicePlanner.annotations(svc);
    return !ann.getOrDefault(TAILNET_IP, "").isEmpty() || !ann.getOrDefault(TAILNET_IP_DEPRECATED, "").isEmpty()
        || !ann.getOrDefault(TAILNET_FQDN, "").isEmpty();
  }

  /**
   * Whether {@code svc} egresses through a ProxyGroup (official {@code isEgressSvcForProxyGroup}, and an ExternalName
   * Service naming a group without a target, so that it is told what it lacks): it names a ProxyGroup and a tailnet
   * target, or is an ExternalName Service naming a ProxyGroup and not asking to be exposed. Such a Service is served
   * by the ProxyGroup egress controller, never by a proxy of its own.
   */
  public static boolean viaProxyGroup(Service svc) {
    Map<String, String> ann = ServicePlanner.annotations(svc);
    Map<String, String> labels = svc.getMetadata().getLabels() == null ? Map.of() : svc.getMetadata().getLabels();
    if (ann.getOrDefault(PROXY_GROUP, "").isEmpty() || "true".equals(labels.get(
        io.tailops.operator.k8s.TailscaleKeys.LABEL_MANAGED))) {
      return false;
    }
    return asksForEgress(svc) || svc.getSpec() != null && "ExternalName".equals(svc.getSpec().getType())
        && !"true".equals(ann.get(io.tailops.operator.k8s.TailscaleKeys.EXPOSE));
  }

  /**
   * The plan for a Service that {@link #asksForEgress asks for egress} and is not exposed to the tailnet (an exposed
   * Service is an ingress Service, whatever else it says, as upstream decides).
   */
  public ServicePlan plan(Service svc) {
    Map<String, String> ann = ServicePlanner.annotations(svc);
    if (!ann.getOrDefault(PROXY_GROUP, "").isEmpty()) {
      return new ServicePlan.NotExposed("the Service names a ProxyGroup (tailscale.com/proxy-group): it egresses "
          + "through the group, not through a proxy of its own");
    }
    if (!asksForEgress(svc)) {
      return new ServicePlan.NotExposed("none of " + TAILNET_IP + ", " + TAILNET_FQDN + " is set");
    }
    String ipAnnotation = !ann.getOrDefault(TAILNET_IP, "").isEmpty() ? TAILNET_IP
        : !ann.getOrDefault(TAILNET_IP_DEPRECATED, "").isEmpty() ? TAILNET_IP_DEPRECATED : null;
    String ip = ipAnnotation == null ? "" : ann.get(ipAnnotation);
    String fqdn = ann.getOrDefault(TAILNET_FQDN, "");

    List<String> violations = new ArrayList<>();
    String clusterIp = svc.getSpec().getClusterIP() == null ? "" : svc.getSpec().getClusterIP();
    if ("None".equals(clusterIp)) {
      violations.add("headless Services are not supported.");
    }
    typeViolation(svc).ifPresent(violations::add);
    if (!fqdn.isEmpty() && ipAnnotation != null) {
      violations.add("only one of annotations " + ipAnnotation + " and " + TAILNET_FQDN + " can be set");
    }
    violations.addAll(targetViolations(svc));
    violations.addAll(ServicePlanner.proxyViolations(svc));
    if (!violations.isEmpty()) {
      return ServicePlanner.invalidService(violations);
    }
    ProxyTarget target = ipAnnotation != null ? new ProxyTarget.TailnetIp(ip)
        : new ProxyTarget.TailnetFqdn(fqdn.endsWith(".") ? fqdn : fqdn + ".");
    List<String> tags = ann.containsKey(TAGS) ? Validation.splitTags(ann.get(TAGS)) : defaultTags;
    return new ServicePlan.Expose(ParentRef.of(ParentRef.TYPE_SERVICE, svc), ServicePlanner.hostname(svc), tags,
        target, ProxyClassRef.nameFor(svc, defaultProxyClass), false, "true".equals(ann.get(EPHEMERAL)),
        ann.containsKey(HOSTNAME), null, null);
  }

  /**
   * What is wrong with the values of the target annotations (upstream checks them on every Service it serves): a name
   * that is not a MagicDNS name, an address that does not parse or that no device can have.
   */
  public List<String> targetViolations(Service svc) {
    Map<String, String> ann = ServicePlanner.annotations(svc);
    List<String> violations = new ArrayList<>();
    String fqdn = ann.getOrDefault(TAILNET_FQDN, "");
    if (!fqdn.isEmpty() && !isMagicDnsName(fqdn)) {
      violations.add("invalid value of annotation " + TAILNET_FQDN + ": " + IpAddress.goQuote(fqdn)
          + " does not appear to be a valid MagicDNS name" + tailnetDomain.get()
              .map(d -> " (<device>." + d + " or <device>.<tailnet>.ts.net)").orElse(""));
    }
    String ipAnnotation = !ann.getOrDefault(TAILNET_IP, "").isEmpty() ? TAILNET_IP
        : !ann.getOrDefault(TAILNET_IP_DEPRECATED, "").isEmpty() ? TAILNET_IP_DEPRECATED : null;
    if (ipAnnotation != null) {
      addressViolation(ipAnnotation, ann.get(ipAnnotation)).ifPresent(violations::add);
    }
    return violations;
  }

  /**
   * Whether {@code name} is a MagicDNS name a device can have: upstream's {@code <device>.<tailnet>.ts.net}, or
   * {@code <device>.<tailnet domain>} for the tailnet's own domain.
   */
  boolean isMagicDnsName(String name) {
    if (TS_NET_NAME.matcher(name).matches()) {
      return true;
    }
    Optional<String> domain = tailnetDomain.get();
    if (domain.isEmpty() || domain.get().isEmpty()) {
      return false;
    }
    String n = name.endsWith(".") ? name.substring(0, name.length() - 1) : name;
    String suffix = "." + domain.get();
    if (n.length() <= suffix.length() || !n.regionMatches(true, n.length() - suffix.length(), suffix, 0,
        suffix.length())) {
      return false;
    }
    String label = n.substring(0, n.length() - suffix.length());
    return Validation.dnsLabelError(label).isEmpty();
  }

  /**
   * Why a Service of this type cannot be an egress Service: its proxy is reached by turning the Service into an
   * ExternalName Service, so a node port or a load balancer it has would be lost without a word.
   */
  static Optional<String> typeViolation(Service svc) {
    String type = svc.getSpec().getType() == null ? "ClusterIP" : svc.getSpec().getType();
    return switch (type) {
      case "NodePort" -> Optional.of("a Service of type NodePort cannot be an egress Service: the operator points an "
          + "egress Service at its proxy by making it type ExternalName, which has no node ports; use type "
          + "ClusterIP (and a separate NodePort Service if something outside the cluster needs the target)");
      case "LoadBalancer" -> Optional.of("a Service of type LoadBalancer cannot be an egress Service: the operator "
          + "points an egress Service at its proxy by making it type ExternalName, which releases the load "
          + "balancer; use type ClusterIP");
      default -> Optional.empty();
    };
  }

  /** Upstream's parse check (same wording), then ours: an address no tailnet device can have. */
  static Optional<String> addressViolation(String annotation, String value) {
    IpAddress ip;
    try {
      ip = IpAddress.parse(value);
    } catch (IpAddress.ParseException e) {
      return Optional.of("invalid value of annotation " + annotation + ": " + IpAddress.goQuote(value)
          + " could not be parsed as a valid IP Address, error: " + e.getMessage());
    }
    IpAddress a = ip.unmapped();
    String what = a.isUnspecified() ? "the unspecified address" : a.isLoopback() ? "a loopback address"
        : a.isMulticast() ? "a multicast address" : a.isLinkLocal() ? "a link-local address"
        : a.isBroadcast() ? "the broadcast address" : null;
    if (what == null) {
      return Optional.empty();
    }
    return Optional.of("invalid value of annotation " + annotation + ": " + IpAddress.goQuote(value) + " is " + what
        + ", which no device in the tailnet or behind a subnet router can have; use the device's tailnet address "
        + "(100.x.y.z or fd7a:115c:a1e0::…) or an address a subnet router advertises");
  }
}
