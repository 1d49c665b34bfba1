package io.tailops.operator.service;

import static io.tailops.operator.k8s.TailscaleKeys.EPHEMERAL;
import static io.tailops.operator.k8s.TailscaleKeys.EXPOSE;
import static io.tailops.operator.k8s.TailscaleKeys.FUNNEL;
import static io.tailops.operator.k8s.TailscaleKeys.HOSTNAME;
import static io.tailops.operator.k8s.TailscaleKeys.LABEL_MANAGED;
import static io.tailops.operator.k8s.TailscaleKeys.PROXY_GROUP;
import static io.tailops.operator.k8s.TailscaleKeys.TAGS;
import static io.tailops.operator.k8s.TailscaleKeys.TAILNET_FQDN;
import static io.tailops.operator.k8s.TailscaleKeys.TAILNET_IP;
import static io.tailops.operator.k8s.TailscaleKeys.TAILNET_IP_DEPRECATED;

import io.fabric8.kubernetes.api.model.Service;
import io.tailops.operator.k8s.NearMisses;
import io.tailops.operator.k8s.ProxyClassRef;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.proxy.DerivedNames;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProxyTarget;
import io.tailops.operator.proxy.ServeConfig;
import io.tailops.operator.proxy.Validation;
import io.tailops.operator.status.Problem;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Decides whether a Service gets a proxy and with which parameters (official behaviour §2.2, §2.4, §3.5, §5.1):
 * qualification, validation with the official messages, hostname, tags, target and ProxyClass name. Pure: no API
 * calls, so every rule is unit-tested.
 */
public final class ServicePlanner {
  public static final String REASON_INVALID = "ProxyInvalid";
  static final Set<String> FIREWALL_MODES = Set.of("auto", "iptables", "nftables");

  private final boolean defaultLoadBalancer;
  private final List<String> defaultTags;
  private final String defaultProxyClass;
  private final String firewallMode;

  private final Predicate<String> funnelAllowedIn;
  private final boolean funnelAvailable;
  private final EgressPlanner egress;

  public ServicePlanner(boolean defaultLoadBalancer, List<String> defaultTags, String defaultProxyClass,
      String firewallMode) {
    this(defaultLoadBalancer, defaultTags, defaultProxyClass, firewallMode, ns -> true);
  }

  public ServicePlanner(boolean defaultLoadBalancer, List<String> defaultTags, String defaultProxyClass,
      String firewallMode, Predicate<String> funnelAllowedIn) {
    this(defaultLoadBalancer, defaultTags, defaultProxyClass, firewallMode, funnelAllowedIn, true);
  }

  /**
   * @param funnelAvailable whether the control plane offers Funnel at all (headscale does not): when it does not, a
   *     Funnel Service is served on the tailnet only, with a warning, instead of being promised to the internet
   */
  public ServicePlanner(boolean defaultLoadBalancer, List<String> defaultTags, String defaultProxyClass,
      String firewallMode, Predicate<String> funnelAllowedIn, boolean funnelAvailable) {
    this(defaultLoadBalancer, defaultTags, defaultProxyClass, firewallMode, funnelAllowedIn, funnelAvailable,
        new EgressPlanner(defaultTags, defaultProxyClass, java.util.Optional::empty));
  }

  /** @param egress the rules of Services that reach the tailnet ({@code tailscale.com/tailnet-ip}, ...) */
  public ServicePlanner(boolean defaultLoadBalancer, List<String> defaultTags, String defaultProxyClass,
      String firewallMode, Predicate<String> funnelAllowedIn, boolean funnelAvailable, EgressPlanner egress) {
    this.egress = egress;
    this.funnelAvailable = funnelAvailable;
    this.defaultLoadBalancer = defaultLoadBalancer;
    this.defaultTags = List.copyOf(defaultTags);
    this.defaultProxyClass = defaultProxyClass;
    this.firewallMode = firewallMode;
    this.funnelAllowedIn = funnelAllowedIn;
  }

  public ServicePlan plan(Service svc) {
    Map<String, String> ann = annotations(svc);
    Map<String, String> labels = svc.getMetadata().getLabels() == null ? Map.of() : svc.getMetadata().getLabels();
    if ("true".equals(labels.get(LABEL_MANAGED))) {
      return new ServicePlan.NotExposed("the Service is a proxy's own headless Service");
    }
    boolean egress = !ann.getOrDefault(TAILNET_IP, "").isEmpty() || !ann.getOrDefault(TAILNET_IP_DEPRECATED, "")
        .isEmpty() || !ann.getOrDefault(TAILNET_FQDN, "").isEmpty();
    if (!ann.getOrDefault(PROXY_GROUP, "").isEmpty()) {
      if (EgressPlanner.viaProxyGroup(svc)) {
        return new ServicePlan.NotExposed("the Service egresses through ProxyGroup " + ann.get(PROXY_GROUP) + " ("
            + PROXY_GROUP + "), not through a proxy of its own");
      }
      return new ServicePlan.NotExposed("the Service names ProxyGroup " + ann.get(PROXY_GROUP) + " ("
          + PROXY_GROUP + "): served by the group as a Tailscale Service, not by a proxy of its own");
    }
    String type = svc.getSpec().getType() == null ? "ClusterIP" : svc.getSpec().getType();
    String expose = ann.get(EXPOSE);
    boolean exposeAnnotation = "true".equals(expose);
    boolean loadBalancer = isTailscaleLoadBalancer(svc);
    String clusterIp = svc.getSpec().getClusterIP() == null ? "" : svc.getSpec().getClusterIP();
    boolean viaClusterIp = !clusterIp.isEmpty() && (loadBalancer || exposeAnnotation);
    boolean viaDnsName = exposeAnnotation && "ExternalName".equals(type)
        && svc.getSpec().getExternalName() != null && !svc.getSpec().getExternalName().isEmpty();
    if (!viaClusterIp && !viaDnsName) {
      if (egress) {
        Optional<ServicePlan.Invalid> config = invalidFirewallMode();
        return config.isPresent() ? config.get() : this.egress.plan(svc);
      }
      List<Problem> near = nearMisses(svc, ann);
      if (expose != null && !exposeAnnotation) {
        return new ServicePlan.NotExposed(EXPOSE + "=\"" + expose + "\" is not exactly \"true\", so the Service "
            + "is not exposed", near);
      }
      return new ServicePlan.NotExposed("no " + EXPOSE + "=\"true\" annotation and not a LoadBalancer of class "
          + TailscaleKeys.LOAD_BALANCER_CLASS, near);
    }
    Optional<ServicePlan.Invalid> config = invalidFirewallMode();
    if (config.isPresent()) {
      return config.get();
    }
    List<String> violations = new ArrayList<>();
    if ("None".equals(clusterIp)) {
      violations.add("headless Services are not supported.");
    }
    if (!ann.getOrDefault(TAILNET_FQDN, "").isEmpty() && !ann.getOrDefault(TAILNET_IP, "").isEmpty()) {
      violations.add("only one of annotations " + TAILNET_IP + " and " + TAILNET_FQDN + " can be set");
    }
    // upstream checks the egress annotations' values on every Service it serves
    violations.addAll(this.egress.targetViolations(svc));
    boolean hostnameGiven = ann.containsKey(HOSTNAME);
    // The default is <namespace>-<name>, as upstream, when that is a valid DNS label; when it is too long, a valid one
    // derived from it (upstream refuses the Service), said in a Normal event.
    DerivedNames.DerivedHostname derived = hostnameGiven ? null : DerivedNames.hostname(
        svc.getMetadata().getNamespace() + "-" + svc.getMetadata().getName(), "the Service's namespace and name",
        "the " + HOSTNAME + " annotation");
    String hostname = hostnameGiven ? ann.get(HOSTNAME) : derived.hostname();
    violations.addAll(proxyViolations(svc, hostname));
    if (!violations.isEmpty()) {
      return invalidService(violations);
    }
    String funnelServeConfig = null;
    Problem funnelDenied = null;
    if (ann.containsKey(FUNNEL) && !"false".equals(ann.get(FUNNEL))) {
      if (!"true".equals(ann.get(FUNNEL))) {
        return new ServicePlan.Invalid(REASON_INVALID, "unable to provision proxy resources: invalid value of "
            + "annotation " + FUNNEL + ": " + Validation.quote(ann.get(FUNNEL)) + ", use \"true\" or \"false\"",
            "INVALIDSERVICE");
      }
      if (!(loadBalancer && viaClusterIp)) {
        return new ServicePlan.Invalid("FunnelInvalid", "Funnel is only supported on Services of type "
            + "LoadBalancer with loadBalancerClass tailscale (or on Ingresses); remove " + FUNNEL
            + " or change the Service type", "FunnelInvalid");
      }
      boolean has443 = svc.getSpec().getPorts() != null && svc.getSpec().getPorts().stream()
          .anyMatch(p -> p.getPort() != null && p.getPort() == 443 && !"UDP".equals(p.getProtocol()));
      if (!has443) {
        return new ServicePlan.Invalid("FunnelInvalid", "Funnel is only available on port 443: add a TCP port 443 "
            + "to the Service (for example port: 443, targetPort: 8080) or remove " + FUNNEL, "FunnelInvalid");
      }
      if (!funnelAvailable) {
        funnelDenied = Problem.warning("FunnelNotAvailable", "the control plane does not offer Funnel (headscale), "
            + "so port 443 cannot be made public; the Service is served on the tailnet only");
      } else if (!funnelAllowedIn.test(svc.getMetadata().getNamespace())) {
        funnelDenied = Problem.warning("FunnelNotAllowed", "Funnel is not allowed in namespace "
            + svc.getMetadata().getNamespace() + " by the operator's funnel policy (OPERATOR_FUNNEL_NAMESPACES); the "
            + "Service is served on the tailnet only");
      } else {
        String host = clusterIp.contains(":") ? "[" + clusterIp + "]" : clusterIp;
        funnelServeConfig = new ServeConfig().tcp(443, true)
            .proxy(ServeConfig.hostPort(443), "/", "http://" + host + ":443/")
            .allowFunnel(ServeConfig.hostPort(443)).toJson();
      }
    }
    List<String> tags = ann.containsKey(TAGS) ? Validation.splitTags(ann.get(TAGS)) : defaultTags;
    ProxyTarget target = viaClusterIp ? new ProxyTarget.ClusterIp(clusterIp)
        : new ProxyTarget.DnsName(svc.getSpec().getExternalName());
    List<Problem> notes = new ArrayList<>(notes(derived, ann));
    if (egress) {
      notes.add(Problem.warning("EgressAnnotationIgnored", "the Service is exposed to the tailnet (" + (loadBalancer
          && viaClusterIp ? "LoadBalancer of class tailscale" : EXPOSE) + "), so its " + String.join(", ",
          egressAnnotations(ann)) + " annotation is ignored: a Service is either exposed to the tailnet or reaches "
          + "into it; use a separate Service for egress"));
    }
    return new ServicePlan.Expose(ParentRef.of(ParentRef.TYPE_SERVICE, svc), hostname, tags, target,
        ProxyClassRef.nameFor(svc, defaultProxyClass), loadBalancer && viaClusterIp,
        "true".equals(ann.get(EPHEMERAL)), hostnameGiven, funnelServeConfig, funnelDenied, notes);
  }

  /** Upstream's check of {@code PROXY_FIREWALL_MODE}, for every Service it serves (INVALIDCONFIG). */
  private Optional<ServicePlan.Invalid> invalidFirewallMode() {
    if (!firewallMode.isEmpty() && !FIREWALL_MODES.contains(firewallMode)) {
      return Optional.of(new ServicePlan.Invalid(REASON_INVALID, "unable to provision proxy resources: invalid "
          + "config: invalid proxy firewall mode " + firewallMode + ", valid modes are iptables, nftables or unset",
          "INVALIDCONFIG"));
    }
    return Optional.empty();
  }

  private static List<String> egressAnnotations(Map<String, String> ann) {
    return java.util.stream.Stream.of(TAILNET_IP, TAILNET_IP_DEPRECATED, TAILNET_FQDN)
        .filter(k -> !ann.getOrDefault(k, "").isEmpty()).toList();
  }

    /** The tailnet hostname a Service asks for: {@code tailscale.com/hostname}, else {@code <namespace>-<name>}. */
  static String hostname(Service svc) {
    Map<String, String> ann = annotations(svc);
    return ann.containsKey(HOSTNAME) ? ann.get(HOSTNAME)
        : svc.getMetadata().getNamespace() + "-" + svc.getMetadata().getName();
  }

  /**
   * What is wrong with the proxy settings every Service proxy has (hostname, tags, ephemeral), worded as upstream; the
   * ingress and egress rules add their own.
   */
  static List<String> proxyViolations(Service svc) {
    return proxyViolations(svc, hostname(svc));
  }

  /** {@link #proxyViolations(Service)} with the hostname the proxy would get (a default one may be derived). */
  private static List<String> proxyViolations(Service svc, String hostname) {
    Map<String, String> ann = annotations(svc);
    List<String> violations = new ArrayList<>();
    boolean hostnameGiven = ann.containsKey(HOSTNAME);
    Validation.dnsLabelError(hostname).ifPresent(err -> violations.add(hostnameGiven
        ? "invalid Tailscale hostname specified " + Validation.quote(hostname) + ": " + err
        : "invalid Tailscale hostname " + Validation.quote(hostname) + ", use " + Validation.quote(HOSTNAME)
            + " annotation to override: " + err));
    if (ann.containsKey(TAGS)) {
      violations.addAll(Validation.tagViolations(ann.get(TAGS)));
    }
    if (ann.containsKey(EPHEMERAL) && !Set.of("true", "false").contains(ann.get(EPHEMERAL))) {
      violations.add("invalid value of annotation " + EPHEMERAL + ": " + Validation.quote(ann.get(EPHEMERAL))
          + ", use \"true\" or \"false\"");
    }
    return violations;
  }

  /** The plan of a Service with {@code violations}: condition ProxyInvalid and event INVALIDSERVICE, as upstream. */
  static ServicePlan.Invalid invalidService(List<String> violations) {
    return new ServicePlan.Invalid(REASON_INVALID, "unable to provision proxy resources: invalid Service: "
        + String.join(", ", violations), "INVALIDSERVICE");
  }

  /** Notes of an exposed Service: the default hostname adjusted, annotations only Ingresses read. */
  private static List<Problem> notes(DerivedNames.DerivedHostname derived, Map<String, String> ann) {
    List<Problem> notes = new ArrayList<>();
    if (derived != null && derived.adjusted() != null) {
      notes.add(Problem.normal("DefaultHostnameAdjusted", derived.adjusted()));
    }
    notes.addAll(NearMisses.misplaced("Service", ann, NearMisses.INGRESS_ONLY, "Ingress", Map.of()));
    return notes;
  }

  /**
   * Why a Service that asks for no proxy may have meant to (each a Warning naming the accepted form): an expose value
   * that is not "true", a LoadBalancer class that is "tailscale" except for case, annotations only Ingresses read or
   * misspelt keys (such as tailscale.com/exposed). Not the operator's other annotations alone: a Service whose expose
   * annotation was removed on purpose keeps them without a warning.
   */
  private static List<Problem> nearMisses(Service svc, Map<String, String> ann) {
    List<Problem> near = new ArrayList<>();
    NearMisses.booleanValue(ann, EXPOSE, "the Service is not exposed").ifPresent(near::add);
    if ("LoadBalancer".equals(svc.getSpec().getType())) {
      NearMisses.classCase("spec.loadBalancerClass", svc.getSpec().getLoadBalancerClass(),
          TailscaleKeys.LOAD_BALANCER_CLASS, "this operator does not serve the LoadBalancer (the class cannot be "
              + "changed once set: recreate the Service)").ifPresent(near::add);
    }
    near.addAll(NearMisses.misplaced("Service", ann, NearMisses.INGRESS_ONLY, "Ingress", Map.of()));
    return near;
  }

  /** {@code type: LoadBalancer} with class {@code tailscale} (or no class, when the operator is the default). */
  public boolean isTailscaleLoadBalancer(Service svc) {
    if (!"LoadBalancer".equals(svc.getSpec().getType())) {
      return false;
    }
    String cls = svc.getSpec().getLoadBalancerClass();
    return TailscaleKeys.LOAD_BALANCER_CLASS.equals(cls) || cls == null && defaultLoadBalancer;
  }

  static Map<String, String> annotations(Service svc) {
    return svc.getMetadata().getAnnotations() == null ? Map.of() : svc.getMetadata().getAnnotations();
  }
}
