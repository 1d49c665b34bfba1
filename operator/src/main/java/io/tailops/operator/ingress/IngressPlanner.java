package io.tailops.operator.ingress;

import static io.tailops.operator.k8s.TailscaleKeys.EPHEMERAL;
import static io.tailops.operator.k8s.TailscaleKeys.FORWARD_CLUSTER_TRAFFIC;
import static io.tailops.operator.k8s.TailscaleKeys.FUNNEL;
import static io.tailops.operator.k8s.TailscaleKeys.HTTP_REDIRECT;
import static io.tailops.operator.k8s.TailscaleKeys.INGRESS_HTTP;
import static io.tailops.operator.k8s.TailscaleKeys.PROXY_GROUP;
import static io.tailops.operator.k8s.TailscaleKeys.TAGS;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPath;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBackend;
import io.fabric8.kubernetes.api.model.networking.v1.IngressRule;
import io.tailops.operator.k8s.NearMisses;
import io.tailops.operator.k8s.ProxyClassRef;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.proxy.DerivedNames;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ServeConfig;
import io.tailops.operator.proxy.Validation;
import io.tailops.operator.status.Problem;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.function.Predicate;

/**
 * Decides how an Ingress is served (official behaviour §2.3, §3.5, §3.8): class check, hostname from the first TLS
 * host, the serve config with its handlers (default backend, rules, paths; backends resolved to cluster IP and port),
 * Funnel (subject to the operator's namespace policy) and the HTTP redirect. Pure: backend Services come from a
 * lookup function backed by a cache.
 */
public final class IngressPlanner {
  private final String ingressClassName;
  private final List<String> defaultTags;
  private final String defaultProxyClass;
  private final Predicate<String> funnelAllowedIn;
  private final boolean httpsAvailable;

  /**
   * @param httpsAvailable whether the control plane issues HTTPS certificates; when it does not (headscale),
   *     Ingresses must opt into plain HTTP ({@code tailscale.com/http: "true"})
   */
  public IngressPlanner(String ingressClassName, List<String> defaultTags, String defaultProxyClass,
      Predicate<String> funnelAllowedIn, boolean httpsAvailable) {
    this.ingressClassName = ingressClassName;
    this.defaultTags = List.copyOf(defaultTags);
    this.defaultProxyClass = defaultProxyClass;
    this.funnelAllowedIn = funnelAllowedIn;
    this.httpsAvailable = httpsAvailable;
  }

  /** Whether the operator serves this Ingress class (and the Ingress is not for a ProxyGroup). */
  public boolean isOurs(Ingress ing) {
    return ing.getSpec() != null && ingressClassName.equals(ing.getSpec().getIngressClassName())
        && annotations(ing).getOrDefault(PROXY_GROUP, "").isEmpty();
  }

  public IngressPlan plan(Ingress ing, BiFunction<String, String, Optional<Service>> services) {
    return plan(ing, services, null);
  }

  /**
   * @param deviceFqdn the proxy's MagicDNS name once known: plain-HTTP Ingresses are keyed by it (without certificates
   *     there is no {@code ${TS_CERT_DOMAIN}} to substitute, and HTTP handlers are matched on the Host header)
   */
  public IngressPlan plan(Ingress ing, BiFunction<String, String, Optional<Service>> services, String deviceFqdn) {
    if (!isOurs(ing)) {
      String cls = ing.getSpec() == null ? null : ing.getSpec().getIngressClassName();
      return new IngressPlan.NotOurs(cls == null ? "no ingressClassName" : "ingressClassName " + cls + " is not "
          + ingressClassName + " (or the Ingress names a ProxyGroup)", notOursNearMisses(ing, cls));
    }
    List<Problem> near = nearMisses(ing);
    IngressPlan plan = served(ing, services, deviceFqdn);
    if (near.isEmpty()) {
      return plan;
    }
    if (plan instanceof IngressPlan.Unservable u) {
      List<Problem> all = new ArrayList<>(u.problems());
      all.addAll(near);
      return new IngressPlan.Unservable(dedupe(all));
    }
    IngressPlan.Expose e = (IngressPlan.Expose) plan;
    List<Problem> all = new ArrayList<>(e.problems());
    all.addAll(near);
    return new IngressPlan.Expose(e.parent(), e.hostname(), e.tags(), e.serveConfigJson(), e.proxyClassName(),
        e.funnel(), e.httpRedirect(), e.plainHttp(), e.forwardClusterTraffic(), e.ephemeral(), e.backendUrls(),
        dedupe(all));
  }

  /**
   * Why an Ingress of the operator's class may not get what it asked for (each a Warning naming the accepted form): a
   * boolean annotation that is neither "true" nor "false" (taken as false), annotations only Services read, misspelt
   * keys.
   */
  static List<Problem> nearMisses(Ingress ing) {
    Map<String, String> ann = annotations(ing);
    List<Problem> near = new ArrayList<>();
    NearMisses.booleanValue(ann, FUNNEL, "the Ingress is not published through Funnel").ifPresent(near::add);
    NearMisses.booleanValue(ann, HTTP_REDIRECT, "port 80 does not redirect to HTTPS").ifPresent(near::add);
    NearMisses.booleanValue(ann, INGRESS_HTTP, "the Ingress is not served over plain HTTP").ifPresent(near::add);
    NearMisses.booleanValue(ann, EPHEMERAL, "the proxy's device is not ephemeral").ifPresent(near::add);
    NearMisses.booleanValue(ann, FORWARD_CLUSTER_TRAFFIC, "cluster traffic is not forwarded through the proxy")
        .ifPresent(near::add);
    near.addAll(NearMisses.misplaced("Ingress", ann, NearMisses.SERVICE_ONLY, "Service", Map.of(
        TailscaleKeys.HOSTNAME, "an Ingress's tailnet hostname is the first label of spec.tls[0].hosts[0] (set "
            + "spec.tls: [{hosts: [<hostname>]}])",
        TailscaleKeys.EXPOSE, "an Ingress is served because of spec.ingressClassName: tailscale")));
    return near;
  }

  /** Why an Ingress that is not of the operator's class may have meant to be. */
  private List<Problem> notOursNearMisses(Ingress ing, String cls) {
    Map<String, String> ann = annotations(ing);
    if (!ann.getOrDefault(PROXY_GROUP, "").isEmpty()) {
      return List.of();
    }
    List<Problem> near = new ArrayList<>();
    NearMisses.classCase("spec.ingressClassName", cls, ingressClassName, "this operator does not serve the Ingress")
        .ifPresent(near::add);
    String legacy = ann.get("kubernetes.io/ingress.class");
    if (cls == null && legacy != null && legacy.trim().equalsIgnoreCase(ingressClassName)) {
      near.add(Problem.warning(NearMisses.CLASS_IGNORED, "the annotation kubernetes.io/ingress.class: " + legacy
          + " is deprecated and not read (neither by the official operator), so this operator does not serve the "
          + "Ingress; use spec.ingressClassName: " + ingressClassName));
    }
    if (near.isEmpty() && cls == null) {
      // An Ingress of another class that keeps our annotations was moved on purpose: no warning for it.
      List<String> ours = ann.keySet().stream().filter(k -> k.startsWith("tailscale.com/")).sorted().toList();
      if (!ours.isEmpty()) {
        near.add(Problem.warning(NearMisses.ANNOTATION_IGNORED, "the Ingress has " + String.join(", ", ours)
            + " but no spec.ingressClassName, so this operator does not serve it and ignores them; use "
            + "spec.ingressClassName: " + ingressClassName));
      }
    }
    return near;
  }

  private IngressPlan served(Ingress ing, BiFunction<String, String, Optional<Service>> services,
      String deviceFqdn) {
    Map<String, String> ann = annotations(ing);
    List<Problem> problems = new ArrayList<>();
    String tlsHost = tlsHost(ing);
    String hostname = hostname(ing);
    if (tlsHost != null) {
      // The user's own name: refused when its first label is not a valid hostname, naming where it came from.
      Optional<String> hostnameError = Validation.dnsLabelError(hostname);
      if (hostnameError.isPresent()) {
        return new IngressPlan.Unservable(List.of(Problem.warning("InvalidHostname",
            "invalid Tailscale hostname " + Validation.quote(hostname) + " (the first label of spec.tls[0].hosts[0] "
                + Validation.quote(tlsHost) + "): " + hostnameError.get() + "; use a TLS host whose first label is "
                + "a valid DNS label (letters, digits and '-', at most 63 characters)")));
      }
    } else {
      String adjusted = defaultHostname(ing).adjusted();
      if (adjusted != null) {
        problems.add(Problem.normal("DefaultHostnameAdjusted", adjusted));
      }
    }
    List<String> tagErrors = ann.containsKey(TAGS) ? Validation.tagViolations(ann.get(TAGS)) : List.of();
    if (!tagErrors.isEmpty()) {
      return new IngressPlan.Unservable(List.of(Problem.warning("InvalidTags", String.join(", ",
          tagErrors))));
    }
    boolean plainHttp = "true".equals(ann.get(INGRESS_HTTP));
    if (!plainHttp && !httpsAvailable) {
      return new IngressPlan.Unservable(List.of(Problem.warning("HTTPSNotAvailable",
          "the control plane cannot issue HTTPS certificates (headscale), so an HTTPS Ingress would never work; "
              + "annotate the Ingress with " + INGRESS_HTTP + ": \"true\" to serve it over plain HTTP on port 80 "
              + "(still encrypted by WireGuard on the tailnet)")));
    }
    boolean funnelRequested = "true".equals(ann.get(FUNNEL));
    boolean funnel = funnelRequested;
    if (funnelRequested && plainHttp) {
      problems.add(Problem.warning("FunnelNotAvailable", "Funnel needs HTTPS and is not available with "
          + INGRESS_HTTP + ": \"true\"; the Ingress is served on the tailnet only"));
      funnel = false;
    } else if (funnelRequested && !funnelAllowedIn.test(ing.getMetadata().getNamespace())) {
      problems.add(Problem.warning("FunnelNotAllowed", "Funnel is not allowed in namespace "
          + ing.getMetadata().getNamespace() + " by the operator's funnel policy (OPERATOR_FUNNEL_NAMESPACES); "
          + "the Ingress is served on the tailnet only, not on the public internet"));
      funnel = false;
    }
    boolean redirect = "true".equals(ann.get(HTTP_REDIRECT)) && !plainHttp;

    Map<String, String> handlers = new LinkedHashMap<>();
    List<String> backendUrls = new ArrayList<>();
    BackendResolver resolver = new BackendResolver(ing, services, problems);
    if (ing.getSpec().getDefaultBackend() != null) {
      resolver.add(ing.getSpec().getDefaultBackend(), "/", handlers);
    }
    List<IngressRule> rules = ing.getSpec().getRules() == null ? List.of() : ing.getSpec().getRules();
    for (IngressRule rule : rules) {
      if (rule.getHost() != null && !rule.getHost().isEmpty() && !rule.getHost().equals(tlsHost)) {
        problems.add(Problem.warning("InvalidIngressBackend", "rule with host "
            + Validation.quote(rule.getHost()) + " ignored, unsupported"));
        continue;
      }
      if (rule.getHttp() == null || rule.getHttp().getPaths() == null) {
        problems.add(Problem.warning("InvalidIngressBackend", "rule without http paths ignored"));
        continue;
      }
      for (HTTPIngressPath p : rule.getHttp().getPaths()) {
        if ("Exact".equals(p.getPathType())) {
          problems.add(Problem.warning("UnsupportedPathTypeExact", "Exact path type strict matching is "
              + "currently not supported and requests will be routed as for Prefix path type. This behaviour might "
              + "change in the future."));
        }
        resolver.add(p.getBackend(), p.getPath(), handlers);
      }
    }
    if (handlers.isEmpty()) {
      problems.add(Problem.warning("NoValidBackends", "no valid backends"));
      return new IngressPlan.Unservable(dedupe(problems));
    }
    backendUrls.addAll(handlers.values());

    ServeConfig sc = new ServeConfig();
    if (plainHttp) {
      sc.tcp(80, false);
      String hostPort = deviceFqdn == null || deviceFqdn.isEmpty() ? ServeConfig.hostPort(80) : deviceFqdn + ":80";
      handlers.forEach((mount, target) -> sc.proxy(hostPort, mount, target));
    } else {
      sc.tcp(443, true);
      handlers.forEach((mount, target) -> sc.proxy(ServeConfig.hostPort(443), mount, target));
      if (funnel) {
        sc.allowFunnel(ServeConfig.hostPort(443));
      }
      if (redirect) {
        sc.tcp(80, false);
        handlers.keySet().forEach(mount -> sc.redirect(ServeConfig.hostPort(80), mount,
            ServeConfig.REDIRECT_TO_HTTPS));
        if (funnel) {
          sc.allowFunnel(ServeConfig.hostPort(80));
        }
      }
    }
    List<String> tags = ann.containsKey(TAGS) ? Validation.splitTags(ann.get(TAGS)) : defaultTags;
    return new IngressPlan.Expose(ParentRef.of(ParentRef.TYPE_INGRESS, ing), hostname, tags, sc.toJson(),
        ProxyClassRef.nameFor(ing, defaultProxyClass), funnel, redirect, plainHttp,
        "true".equals(ann.get(FORWARD_CLUSTER_TRAFFIC)), "true".equals(ann.get(EPHEMERAL)), backendUrls,
        dedupe(problems));
  }

  /**
   * The hostname: first label of {@code spec.tls[0].hosts[0]}, else {@code <ns>-<name>-ingress} (as upstream) when
   * that is a valid DNS label, else a valid one derived from it ({@link DerivedNames#hostname}: an Ingress may be
   * called {@code grafana.example.com}).
   */
  public static String hostname(Ingress ing) {
    String tls = tlsHost(ing);
    if (tls != null) {
      int dot = tls.indexOf('.');
      return dot < 0 ? tls : tls.substring(0, dot);
    }
    return defaultHostname(ing).hostname();
  }

  private static DerivedNames.DerivedHostname defaultHostname(Ingress ing) {
    return DerivedNames.hostname(ing.getMetadata().getNamespace() + "-" + ing.getMetadata().getName() + "-ingress",
        "the Ingress's namespace and name, as it has no spec.tls[0].hosts[0]", "spec.tls[0].hosts[0]");
  }

  static String tlsHost(Ingress ing) {
    if (ing.getSpec().getTls() != null && !ing.getSpec().getTls().isEmpty()
        && ing.getSpec().getTls().get(0).getHosts() != null && !ing.getSpec().getTls().get(0).getHosts().isEmpty()) {
      return ing.getSpec().getTls().get(0).getHosts().get(0);
    }
    return null;
  }

  private static List<Problem> dedupe(List<Problem> problems) {
    return problems.stream().distinct().toList();
  }

  private static Map<String, String> annotations(Ingress ing) {
    return ing.getMetadata().getAnnotations() == null ? Map.of() : ing.getMetadata().getAnnotations();
  }

  /** Resolves backends to {@code <scheme><clusterIP>:<port><path>}, recording a problem for each bad one. */
  private record BackendResolver(Ingress ing, BiFunction<String, String, Optional<Service>> services,
      List<Problem> problems) {

    void add(IngressBackend b, String rawPath, Map<String, String> handlers) {
      String path = rawPath;
      if (path == null || path.isEmpty()) {
        path = "/";
        problems.add(Problem.normal("PathUndefined",
            "configured backend is missing a path, defaulting to '/'"));
      }
      if (b == null) {
        return;
      }
      if (b.getService() == null) {
        problems.add(Problem.warning("InvalidIngressBackend", "backend for path " + Validation.quote(path)
            + " is missing service"));
        return;
      }
      String name = b.getService().getName();
      Optional<Service> svc = services.apply(ing.getMetadata().getNamespace(), name);
      if (svc.isEmpty()) {
        problems.add(Problem.warning("InvalidIngressBackend", "failed to get service "
            + Validation.quote(name) + " for path " + Validation.quote(path) + ": services " + Validation.quote(name)
            + " not found"));
        return;
      }
      String clusterIp = svc.get().getSpec().getClusterIP();
      if (clusterIp == null || clusterIp.isEmpty() || "None".equals(clusterIp)) {
        problems.add(Problem.warning("InvalidIngressBackend", "backend for path " + Validation.quote(path)
            + " has invalid ClusterIP: " + noClusterIp(svc.get())));
        return;
      }
      int port = 0;
      String portName = b.getService().getPort() == null ? null : b.getService().getPort().getName();
      if (portName != null && !portName.isEmpty()) {
        for (ServicePort sp : svc.get().getSpec().getPorts()) {
          if (portName.equals(sp.getName())) {
            port = sp.getPort();
            break;
          }
        }
      } else if (b.getService().getPort() != null && b.getService().getPort().getNumber() != null) {
        port = b.getService().getPort().getNumber();
      }
      if (port == 0) {
        problems.add(Problem.warning("InvalidIngressBackend", "backend for path " + Validation.quote(path)
            + " has invalid port: " + (portName != null && !portName.isEmpty() ? "Service " + Validation.quote(name)
                + " has no port named " + Validation.quote(portName) + " (its ports: " + ports(svc.get()) + ")"
                : "the backend names no port of Service " + Validation.quote(name) + " (its ports: "
                + ports(svc.get()) + ")")));
        return;
      }
      String scheme = port == 443 || "https".equals(portName) ? "https+insecure://" : "http://";
      String host = clusterIp.contains(":") ? "[" + clusterIp + "]" : clusterIp;
      handlers.put(path, scheme + host + ":" + port + path);
    }

    /** Why a backend Service has no cluster IP the proxy could forward to, and what to use instead. */
    private static String noClusterIp(Service svc) {
      String name = Validation.quote(svc.getMetadata().getName());
      String instead = "; the proxy forwards to a Service's cluster IP: point the Ingress at a Service of type "
          + "ClusterIP";
      if ("ExternalName".equals(svc.getSpec().getType())) {
        return "Service " + name + " is of type ExternalName (" + Validation.quote(String.valueOf(
            svc.getSpec().getExternalName())) + ") and has no cluster IP" + instead;
      }
      if ("None".equals(svc.getSpec().getClusterIP())) {
        return "Service " + name + " is headless (clusterIP: None)" + instead;
      }
      return "Service " + name + " has no cluster IP" + instead;
    }

    /** {@code http (80), 8443}: the Service's ports as a backend names them. */
    private static String ports(Service svc) {
      List<ServicePort> ports = svc.getSpec().getPorts() == null ? List.of() : svc.getSpec().getPorts();
      if (ports.isEmpty()) {
        return "none";
      }
      return String.join(", ", ports.stream().map(p -> p.getName() == null || p.getName().isEmpty()
          ? String.valueOf(p.getPort()) : p.getName() + " (" + p.getPort() + ")").toList());
    }
  }
}
