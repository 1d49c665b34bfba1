package io.tailops.operator.ingress;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.HTTPIngressPath;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBackend;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClass;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngressBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerStatus;
import io.fabric8.kubernetes.api.model.networking.v1.IngressPortStatusBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressRule;
import io.fabric8.kubernetes.api.model.networking.v1.IngressStatus;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.tailops.operator.k8s.StoreWithoutManagedFields;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.k8s.ProxyClassRef;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.pipeline.Claim;
import io.tailops.operator.pipeline.Decision;
import io.tailops.operator.pipeline.Outcome;
import io.tailops.operator.pipeline.Projection;
import io.tailops.operator.pipeline.ProxyKind;
import io.tailops.operator.proxy.DeviceState;
import io.tailops.operator.proxy.FunnelPreflight;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProxyObjectStore;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.proxy.ProxyTarget;
import io.tailops.operator.proxy.ReplicaState;
import io.tailops.operator.status.Problem;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Ingresses of the operator's class as proxy parents: an HTTPS (or, for headscale, plain HTTP) proxy with a serve
 * config per Ingress, Funnel when asked for and allowed. Ingress status has no conditions, so every decision is told with
 * Events: Normal when the proxy is ready, Warning for each problem (each once, not on every resync); the status holds
 * the proxy's DNS name once it serves.
 */
public final class IngressKind implements ProxyKind<Ingress, List<IngressLoadBalancerIngress>, IngressPlan.Expose> {
  public static final String NAME = "ingress-reconciler";
  private static final Identity<Ingress> IDENTITY = new Identity<>(NAME, "Ingress", ParentRef.TYPE_INGRESS,
      Ingress.class, false);
  static final String INDEX_BACKEND = "backend";

  private final OperatorConfig config;
  private final IngressPlanner planner;
  private final RedirectProbe redirectProbe;
  /** Backend URL sets already probed for a redirect loop, per Ingress UID. */
  private final Map<String, Set<String>> probed = new ConcurrentHashMap<>();
  private InformerEventSource<Service, Ingress> backends;
  private InformerEventSource<IngressClass, Ingress> ingressClasses;

  private Function<String, FunnelPreflight.Verdict> funnelVerdicts = uid -> FunnelPreflight.Verdict.UNKNOWN;

  public IngressKind(OperatorConfig config, boolean httpsCertificates, RedirectProbe redirectProbe) {
    this.config = config;
    this.planner = new IngressPlanner(config.ingressClassName(), config.proxyTags(), config.proxyDefaultClass(),
        config::funnelAllowedIn, httpsCertificates);
    this.redirectProbe = redirectProbe;
  }

  @Override
  public Identity<Ingress> identity() {
    return IDENTITY;
  }

  /** Backend Services (every Service: a backend can be anywhere) and the IngressClass. */
  @Override
  public List<EventSource<?, Ingress>> eventSources(EventSourceContext<Ingress> context,
      IndexerResourceCache<Ingress> ingresses) {
    ingresses.addIndexer(INDEX_BACKEND, IngressKind::backendKeys);
    backends = new InformerEventSource<>(InformerEventSourceConfiguration.from(Service.class, Ingress.class)
        .withName("ingress-backend-services")
        .withSecondaryToPrimaryMapper(svc -> ingresses.byIndex(INDEX_BACKEND, svc.getMetadata().getNamespace() + "/"
            + svc.getMetadata().getName()).stream().map(ResourceID::fromResource).collect(Collectors.toSet()))
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
    ingressClasses = new InformerEventSource<>(InformerEventSourceConfiguration.from(IngressClass.class,
            Ingress.class)
        .withName("ingress-classes")
        .withSecondaryToPrimaryMapper(ic -> ic.getMetadata().getName().equals(config.ingressClassName())
            ? ingresses.list(planner::isOurs).map(ResourceID::fromResource).collect(Collectors.toSet())
            : Set.of())
        .withItemStore(new StoreWithoutManagedFields<>()).build(), context);
    return List.of(backends, ingressClasses);
  }

  @Override
  public Claim claim(Ingress ing) {
    return planner.isOurs(ing) ? new Claim(List.of(IngressPlanner.hostname(ing)),
        ProxyClassRef.nameFor(ing, config.proxyDefaultClass()), "use a different first label in spec.tls[0].hosts[0]")
        : Claim.NONE;
  }

  @Override
  public void funnelVerdicts(Function<String, FunnelPreflight.Verdict> verdicts) {
    this.funnelVerdicts = verdicts;
  }

  @Override
  public Decision<IngressPlan.Expose> plan(Ingress ing, ProxyObjectStore proxies) {
    IngressPlan plan = planner.plan(ing, this::backendService, knownFqdn(ParentRef.of(parentType(), ing), proxies));
    if (plan instanceof IngressPlan.NotOurs no) {
      return new Decision.NotWanted<>(no.why(), no.nearMisses());
    }
    if (plan instanceof IngressPlan.Unservable u) {
      return new Decision.Invalid<>("ProxyInvalid", u.problems());
    }
    IngressPlan.Expose e = (IngressPlan.Expose) plan;
    List<Problem> notes = new ArrayList<>(e.problems());
    ingressClassProblem().ifPresent(notes::add);
    ProxySpec spec = new ProxySpec(e.parent(), e.hostname(), e.tags(), new ProxyTarget.Serve(e.serveConfigJson()),
        null, e.ephemeral(), e.forwardClusterTraffic(), e.funnel());
    return new Decision.Wanted<>(spec, e.proxyClassName(), e.funnel(), notes, e);
  }

  /**
   * The proxy's MagicDNS name: from its state, or (while a restarted proxy has not written it yet) the name the
   * plain-HTTP serve config was written for, so that the serve config does not flap on every proxy restart.
   */
  private static String knownFqdn(ParentRef parent, ProxyObjectStore proxies) {
    for (Secret s : proxies.secrets(parent)) {
      String fqdn = ReplicaState.of(s).knownFqdn();
      if (fqdn != null && !fqdn.isEmpty()) {
        return fqdn;
      }
    }
    return null;
  }

  @Override
  public Projection<List<IngressLoadBalancerIngress>> project(Ingress ing, IngressPlan.Expose plan,
      Outcome outcome) {
    if (outcome instanceof Outcome.NotWanted nw) {
      // Unlike upstream, the status is cleared when the proxy goes.
      return new Projection<>(nw.removed() ? List.of() : null, List.of(), List.of());
    }
    if (outcome instanceof Outcome.Blocked b) {
      return Projection.unchanged(b.problems());
    }
    if (outcome instanceof Outcome.Healing) {
      return Projection.unchanged(List.of());
    }
    DeviceState device = ((Outcome.Running) outcome).proxy().device();
    List<Problem> notes = new ArrayList<>();
    if (DeviceState.NO_HTTPS.equalsIgnoreCase(device.httpsEndpoint()) && !plan.plainHttp()) {
      notes.add(Problem.warning("HTTPSNotEnabled", "HTTPS is not enabled on the tailnet; ingress may not work. "
          + "Enable MagicDNS and HTTPS certificates in the tailnet's DNS settings "
          + "(https://tailscale.com/kb/1153/enabling-https)"));
    }
    notes.addAll(probeRedirects(ing, plan));
    String dnsName = plan.plainHttp() ? device.fqdn() : device.ingressDnsName(device.podUid());
    if (device.isReady() && !dnsName.isEmpty()) {
      notes.add(Problem.normal("ProxyReady", "proxy is ready; reachable on the tailnet at "
          + (plan.plainHttp() ? "http://" : "https://") + dnsName + (plan.funnel() ? " (" + FunnelPreflight.wording(
              funnelVerdicts.apply(ing.getMetadata().getUid()), "https://" + dnsName) + ")" : "")));
    }
    return new Projection<>(desiredIngress(dnsName, plan), List.of(), notes);
  }

  private static List<IngressLoadBalancerIngress> desiredIngress(String dnsName, IngressPlan.Expose plan) {
    if (dnsName == null || dnsName.isEmpty()) {
      return List.of();
    }
    IngressLoadBalancerIngressBuilder b = new IngressLoadBalancerIngressBuilder().withHostname(dnsName);
    if (plan.plainHttp()) {
      b.addToPorts(new IngressPortStatusBuilder().withPort(80).withProtocol("TCP").build());
    } else {
      b.addToPorts(new IngressPortStatusBuilder().withPort(443).withProtocol("TCP").build());
      if (plan.httpRedirect()) {
        b.addToPorts(new IngressPortStatusBuilder().withPort(80).withProtocol("TCP").build());
      }
    }
    return List.of(b.build());
  }

  private List<Problem> probeRedirects(Ingress ing, IngressPlan.Expose plan) {
    if (plan.plainHttp() && plan.backendUrls().isEmpty()) {
      return List.of();
    }
    Set<String> urls = new LinkedHashSet<>(plan.backendUrls());
    String uid = ing.getMetadata().getUid();
    if (urls.equals(probed.get(uid))) {
      return List.of();
    }
    probed.put(uid, urls);
    List<Problem> out = new ArrayList<>();
    for (String url : urls) {
      redirectProbe.httpsRedirect(url).ifPresent(location -> out.add(Problem.warning("BackendRedirectsToHTTPS",
          "backend " + url + " answers the proxy's plain-HTTP request with a redirect to " + location + "; the "
              + "Tailscale proxy already terminates HTTPS and talks HTTP to the backend, so browsers will loop. Fix: "
              + "turn off the app's HTTP-to-HTTPS redirect, or point the Ingress at the app's HTTPS port (443 or a "
              + "port named https) and accept its self-signed certificate")));
    }
    return out;
  }

  /** The official IngressClass checks, reported as a Warning on the Ingress instead of only a log line. */
  private Optional<Problem> ingressClassProblem() {
    String name = config.ingressClassName();
    Optional<IngressClass> ic = ingressClasses == null ? Optional.empty() : ingressClasses.get(new ResourceID(name));
    if (ic.isEmpty()) {
      return Optional.of(Problem.warning("IngressClassMissing", "IngressClass " + name + " not found in the cluster; "
          + "install it with the chart (ingressClass.enabled: true)"));
    }
    if (!TailscaleKeys.INGRESS_CONTROLLER.equals(ic.get().getSpec().getController())) {
      return Optional.of(Problem.warning("IngressClassInvalid", "IngressClass " + name + " has controller "
          + ic.get().getSpec().getController() + ", expected " + TailscaleKeys.INGRESS_CONTROLLER));
    }
    if (ic.get().getMetadata().getAnnotations() != null && ic.get().getMetadata().getAnnotations()
        .getOrDefault(TailscaleKeys.DEFAULT_CLASS_ANNOTATION, "").length() > 0) {
      return Optional.of(Problem.warning("IngressClassInvalid", TailscaleKeys.DEFAULT_CLASS_ANNOTATION + " is set on "
          + "IngressClass " + name + ", but the Tailscale Ingress controller does not support being the default "
          + "Ingress class"));
    }
    return Optional.empty();
  }

  private Optional<Service> backendService(String namespace, String name) {
    return backends == null ? Optional.empty() : backends.get(new ResourceID(name, namespace));
  }

  private static List<String> backendKeys(Ingress ing) {
    List<String> keys = new ArrayList<>();
    String ns = ing.getMetadata().getNamespace();
    if (ing.getSpec() == null) {
      return keys;
    }
    addBackend(keys, ns, ing.getSpec().getDefaultBackend());
    if (ing.getSpec().getRules() != null) {
      for (IngressRule r : ing.getSpec().getRules()) {
        if (r.getHttp() != null && r.getHttp().getPaths() != null) {
          for (HTTPIngressPath p : r.getHttp().getPaths()) {
            addBackend(keys, ns, p.getBackend());
          }
        }
      }
    }
    return keys.stream().distinct().toList();
  }

  private static void addBackend(List<String> keys, String ns, IngressBackend b) {
    if (b != null && b.getService() != null && b.getService().getName() != null) {
      keys.add(ns + "/" + b.getService().getName());
    }
  }

  @Override
  public List<IngressLoadBalancerIngress> status(Ingress ing) {
    return ing.getStatus() == null || ing.getStatus().getLoadBalancer() == null
        || ing.getStatus().getLoadBalancer().getIngress() == null ? List.of()
        : ing.getStatus().getLoadBalancer().getIngress();
  }

  @Override
  public Ingress withStatus(Ingress ing, List<IngressLoadBalancerIngress> status) {
    return new IngressBuilder(ing).withStatus(new IngressStatus(new IngressLoadBalancerStatus(new ArrayList<>(status))))
        .build();
  }

  @Override
  public boolean sameStatus(List<IngressLoadBalancerIngress> a, List<IngressLoadBalancerIngress> b) {
    return Objects.equals(a, b);
  }

  @Override
  public void forget(String uid) {
    probed.remove(uid);
  }
}
