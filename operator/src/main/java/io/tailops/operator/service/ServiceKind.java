package io.tailops.operator.service;

import static io.tailops.operator.k8s.TailscaleKeys.CONDITION_PROXY_READY;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.LoadBalancerStatusBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import io.fabric8.kubernetes.api.model.ServiceStatusBuilder;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.pipeline.Claim;
import io.tailops.operator.pipeline.Decision;
import io.tailops.operator.pipeline.Outcome;
import io.tailops.operator.pipeline.PlanMemo;
import io.tailops.operator.pipeline.Projection;
import io.tailops.operator.pipeline.ProxyKind;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.operator.proxy.DeviceState;
import io.tailops.operator.proxy.FunnelPreflight;
import io.tailops.operator.proxy.ObservedProxy;
import io.tailops.operator.proxy.ProxyTarget;
import io.tailops.operator.reconcile.TailnetDevices;
import io.tailops.operator.proxy.ProxyObjectStore;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.status.Conditions;
import io.tailops.operator.status.Problem;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Services as proxy parents: those that ask for it ({@code tailscale.com/expose}, LoadBalancer class
 * {@code tailscale}) get a proxy; the outcome shows as the {@code TailscaleProxyReady} condition and, for
 * LoadBalancers, {@code status.loadBalancer.ingress}. The rules are in {@link ServicePlanner} and
 * {@link ServiceProxyStatus}.
 */
public final class ServiceKind implements ProxyKind<Service, ServiceStatus, ServicePlan.Expose> {
  public static final String NAME = "service-reconciler";
  private static final Identity<Service> IDENTITY = new Identity<>(NAME, "Service",
      io.tailops.operator.proxy.ParentRef.TYPE_SERVICE, Service.class, false);

  private final ServicePlanner planner;
  private final PlanMemo<Service, ServicePlan> plans;
  private final Clock clock;
  private final String namespace;
  private final String clusterDomain;
  private final TailnetDevices devices;
  /** The controller's Service cache, once its event sources are prepared (read by the DNS records). */
  private volatile IndexerResourceCache<Service> services;

  private Function<String, FunnelPreflight.Verdict> funnelVerdicts = uid -> FunnelPreflight.Verdict.UNKNOWN;

  public ServiceKind(OperatorConfig config, boolean funnelAvailable, Clock clock) {
    this(config, funnelAvailable, clock, Optional::empty, null, ClusterDomain.DEFAULT);
  }

  /**
   * @param tailnetDomain the tailnet's MagicDNS domain when it is not under ts.net (headscale), for egress by name
   * @param devices the tailnet's devices as the device sweep lists them, for the egress target check (null: none)
   * @param clusterDomain the cluster's DNS domain, for the name an egress Service points at
   */
  public ServiceKind(OperatorConfig config, boolean funnelAvailable, Clock clock,
      Supplier<Optional<String>> tailnetDomain, TailnetDevices devices, String clusterDomain) {
    this.planner = new ServicePlanner(config.defaultLoadBalancer(), config.proxyTags(), config.proxyDefaultClass(),
        config.proxyFirewallMode(), config::funnelAllowedIn, funnelAvailable,
        new EgressPlanner(config.proxyTags(), config.proxyDefaultClass(), tailnetDomain));
    this.plans = new PlanMemo<>(planner::plan);
    this.clock = clock;
    this.namespace = config.namespace();
    this.clusterDomain = clusterDomain;
    this.devices = devices;
  }

  @Override
  public Identity<Service> identity() {
    return IDENTITY;
  }

  /**
   * The operator's own Services (proxies' headless Services, metrics Services) carry {@code tailscale.com/managed=true}
   * and are never exposed: leaving them out of the primary cache halves the Services cached and reconciled at start.
   */
  @Override
  public void configure(ControllerConfigurationOverrider<Service> controller) {
    controller.withLabelSelector(TailscaleKeys.LABEL_MANAGED + "!=true");
  }

  /** Keeps a reference to the controller's Service cache for {@link #service(String, String)}; adds no source. */
  @Override
  public List<EventSource<?, Service>> eventSources(EventSourceContext<Service> context,
      IndexerResourceCache<Service> parents) {
    this.services = parents;
    return List.of();
  }

  /** A Service (not the operator's own) from the controller's cache, once it is running. */
  public Optional<Service> service(String namespace, String name) {
    IndexerResourceCache<Service> cache = services;
    return cache == null ? Optional.empty() : cache.get(new ResourceID(name, namespace));
  }

  @Override
  public Claim claim(Service svc) {
    return plans.get(svc) instanceof ServicePlan.Expose e ? new Claim(List.of(e.hostname()), e.proxyClassName(),
        "set a different " + TailscaleKeys.HOSTNAME + " annotation") : Claim.NONE;
  }

  @Override
  public void funnelVerdicts(Function<String, FunnelPreflight.Verdict> verdicts) {
    this.funnelVerdicts = verdicts;
  }

  /** A Service egressing through a ProxyGroup is served by the group's egress controller. */
  @Override
  public boolean servedElsewhere(Service svc) {
    return EgressPlanner.viaProxyGroup(svc);
  }

  @Override
  public Decision<ServicePlan.Expose> plan(Service svc, ProxyObjectStore proxies) {
    ServicePlan plan = plans.get(svc);
    if (plan instanceof ServicePlan.NotExposed ne) {
      return new Decision.NotWanted<>(ne.why(), ne.nearMisses());
    }
    if (plan instanceof ServicePlan.Invalid inv) {
      return new Decision.Invalid<>(inv.reason(), List.of(Problem.warning(inv.eventReason(), inv.message())));
    }
    ServicePlan.Expose e = (ServicePlan.Expose) plan;
    ProxySpec spec = new ProxySpec(e.parent(), e.hostname(), e.tags(), e.target(), null, e.ephemeral(), false,
        e.funnelServeConfig() != null, e.funnelServeConfig());
    List<Problem> notes = new ArrayList<>();
    if (e.funnelDenied() != null) {
      notes.add(e.funnelDenied());
    }
    notes.addAll(e.notes());
    return new Decision.Wanted<>(spec, e.proxyClassName(), e.funnelServeConfig() != null, notes, e);
  }

  /** An egress Service points at its proxy: type ExternalName, the proxy's headless Service's cluster DNS name. */
  @Override
  public Optional<UnaryOperator<Service>> parentChange(Service svc, ServicePlan.Expose plan, ObservedProxy proxy) {
    if (plan == null || !plan.egress()) {
      return Optional.empty();
    }
    String name = EgressRewrite.externalName(proxy.name(), namespace, clusterDomain);
    return EgressRewrite.pointsAt(svc, name) ? Optional.empty()
        : Optional.of(s -> EgressRewrite.pointedAt(s, name));
  }

  @Override
  public Projection<ServiceStatus> project(Service svc, ServicePlan.Expose plan, Outcome outcome) {
    if (outcome instanceof Outcome.NotWanted notWanted) {
      return new Projection<>(cleared(svc), List.of(), notWanted.removed() ? danglingEgress(svc) : List.of());
    }
    if (outcome instanceof Outcome.Blocked b) {
      String message = b.gate() == Outcome.Gate.PROXY_CLASS_MISSING
          ? "error verifying ProxyClass for Service: " + b.problem().message() : b.problem().message();
      return new Projection<>(condition(svc, false, b.conditionReason(), message, null),
          List.of(Problem.warning(b.problem().reason(), message)), b.problems().subList(1, b.problems().size()));
    }
    if (outcome instanceof Outcome.Healing h) {
      return new Projection<>(condition(svc, false, Outcome.PENDING, h.event().message(), null), List.of(),
          List.of());
    }
    Outcome.Running running = (Outcome.Running) outcome;
    DeviceState device = running.proxy().device();
    if (plan.egress()) {
      return projectEgress(svc, plan, running, device);
    }
    ServiceProxyStatus status = ServiceProxyStatus.of(svc, plan.loadBalancer(), device);
    String message = status.message();
    if (plan.funnelDenied() != null) {
      message = message + "; " + plan.funnelDenied().message();
    } else if (plan.funnelServeConfig() != null && status.ready()) {
      message = message + "; port 443: " + FunnelPreflight.wording(funnelVerdicts.apply(svc.getMetadata().getUid()),
          "https://" + device.fqdn());
    }
    return new Projection<>(condition(svc, status.ready(), status.reason(), message, status.ingress()),
        status.ready() ? List.of(Problem.normal("ProxyReady", message)) : List.of(), List.of());
  }

  /**
   * An egress Service's status: ready when its proxy's device is up and the target can be reached as far as the
   * tailnet's device list tells (a target no device has, an offline one, or an address outside the tailnet that the
   * proxy cannot route to is reported). Looked at again after each device sweep: the target can come and go without an
   * event in the cluster (reading the cached list costs no API call and writes nothing while nothing changes).
   */
  private Projection<ServiceStatus> projectEgress(Service svc, ServicePlan.Expose plan, Outcome.Running running,
      DeviceState device) {
    if (!device.isReady()) {
      return new Projection<>(condition(svc, false, ServiceProxyStatus.REASON_PENDING,
          ServiceProxyStatus.PENDING_MESSAGE, null), List.of(), List.of());
    }
    Optional<Problem> problem = devices == null ? Optional.empty() : devices.last().flatMap(snapshot ->
        EgressTargetCheck.check(plan.target(), snapshot.devices(), acceptsRoutes(running.spec().proxyClass())));
    if (problem.isPresent()) {
      return new Projection<>(condition(svc, false, problem.get().reason(), problem.get().message(), null),
          List.of(problem.get()), List.of(), devices.interval());
    }
    String where = device.fqdn() + (device.ips().isEmpty() ? "" : " (" + String.join(", ", device.ips()) + ")");
    String message = "egress proxy is ready: cluster traffic to this Service goes to " + target(plan.target())
        + " over the tailnet, from the proxy device " + where;
    return new Projection<>(condition(svc, true, ServiceProxyStatus.REASON_CREATED, message, null),
        List.of(Problem.normal("ProxyReady", message)), List.of(), devices == null ? null : devices.interval());
  }

  /**
   * An egress Service whose proxy was removed still points at it (upstream leaves it so, and so do we: its former type
   * and selector are not known): said once, with what to do.
   */
  private List<Problem> danglingEgress(Service svc) {
    String name = svc.getSpec().getExternalName();
    if (!"ExternalName".equals(svc.getSpec().getType()) || name == null || !name.startsWith("ts-")
        || !name.endsWith("." + namespace + ".svc." + clusterDomain)) {
      return List.of();
    }
    return List.of(Problem.warning("EgressServiceDangling", "the egress proxy is removed, but the Service still "
        + "points at it (type ExternalName, externalName " + name + "), so its name resolves to nothing: give it "
        + "back its type and selector, or delete it"));
  }

  private static String target(ProxyTarget t) {
    if (t instanceof ProxyTarget.TailnetFqdn f) {
      return f.fqdn().endsWith(".") ? f.fqdn().substring(0, f.fqdn().length() - 1) : f.fqdn();
    }
    return ((ProxyTarget.TailnetIp) t).ip();
  }

  private static boolean acceptsRoutes(ProxyClass pc) {
    return pc != null && pc.getSpec() != null && pc.getSpec().getTailscale() != null
        && Boolean.TRUE.equals(pc.getSpec().getTailscale().getAcceptRoutes());
  }

  /** The status with our condition set (and {@code status.loadBalancer.ingress} when given). */
  private ServiceStatus condition(Service svc, boolean ready, String reason, String message,
      List<LoadBalancerIngress> ingress) {
    ServiceStatus current = status(svc);
    List<Condition> conditions = Conditions.set(current.getConditions(), CONDITION_PROXY_READY, ready, reason, message,
        null, clock);
    ServiceStatus desired = new ServiceStatusBuilder(current).withConditions(conditions).build();
    if (ingress != null) {
      desired.setLoadBalancer(new LoadBalancerStatusBuilder().withIngress(new ArrayList<>(ingress)).build());
    }
    return desired;
  }

  /** Without our condition and, for Services whose ingress entries were ours, without those; null if nothing is ours. */
  private ServiceStatus cleared(Service svc) {
    ServiceStatus current = status(svc);
    if (Conditions.find(current.getConditions(), CONDITION_PROXY_READY).isEmpty()) {
      return null;
    }
    ServiceStatus desired = new ServiceStatusBuilder(current)
        .withConditions(Conditions.remove(current.getConditions(), CONDITION_PROXY_READY)).build();
    if (!ingress(current).isEmpty()) {
      desired.setLoadBalancer(new io.fabric8.kubernetes.api.model.LoadBalancerStatus());
    }
    return desired;
  }

  @Override
  public ServiceStatus status(Service svc) {
    return svc.getStatus() == null ? new ServiceStatus() : svc.getStatus();
  }

  @Override
  public Service withStatus(Service svc, ServiceStatus status) {
    return new ServiceBuilder(svc).withStatus(status).build();
  }

  @Override
  public boolean sameStatus(ServiceStatus a, ServiceStatus b) {
    return Conditions.same(a.getConditions(), b.getConditions(), CONDITION_PROXY_READY)
        && sameIngress(ingress(a), ingress(b));
  }

  @Override
  public void forget(String uid) {
    plans.forget(uid);
  }

  private static List<LoadBalancerIngress> ingress(ServiceStatus s) {
    return s.getLoadBalancer() == null || s.getLoadBalancer().getIngress() == null ? List.of()
        : s.getLoadBalancer().getIngress();
  }

  private static boolean sameIngress(List<LoadBalancerIngress> a, List<LoadBalancerIngress> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!Objects.equals(a.get(i).getHostname(), b.get(i).getHostname())
          || !Objects.equals(a.get(i).getIp(), b.get(i).getIp())) {
        return false;
      }
    }
    return true;
  }
}
