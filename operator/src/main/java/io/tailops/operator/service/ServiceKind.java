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
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.pipeline.Claim;
import io.tailops.operator.pipeline.Decision;
import io.tailops.operator.pipeline.Outcome;
import io.tailops.operator.pipeline.PlanMemo;
import io.tailops.operator.pipeline.Projection;
import io.tailops.operator.pipeline.ProxyKind;
import io.tailops.operator.proxy.DeviceState;
import io.tailops.operator.proxy.FunnelPreflight;
import io.tailops.operator.proxy.ProxyObjectStore;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.status.Conditions;
import io.tailops.operator.status.Problem;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;

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

  private Function<String, FunnelPreflight.Verdict> funnelVerdicts = uid -> FunnelPreflight.Verdict.UNKNOWN;

  public ServiceKind(OperatorConfig config, boolean funnelAvailable, Clock clock) {
    this.planner = new ServicePlanner(config.defaultLoadBalancer(), config.proxyTags(), config.proxyDefaultClass(),
        config.proxyFirewallMode(), config::funnelAllowedIn, funnelAvailable);
    this.plans = new PlanMemo<>(planner::plan);
    this.clock = clock;
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

  @Override
  public Claim claim(Service svc) {
    return plans.get(svc) instanceof ServicePlan.Expose e ? new Claim(List.of(e.hostname()), e.proxyClassName(),
        "set a different " + TailscaleKeys.HOSTNAME + " annotation") : Claim.NONE;
  }

  @Override
  public void funnelVerdicts(Function<String, FunnelPreflight.Verdict> verdicts) {
    this.funnelVerdicts = verdicts;
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

  @Override
  public Projection<ServiceStatus> project(Service svc, ServicePlan.Expose plan, Outcome outcome) {
    if (outcome instanceof Outcome.NotWanted) {
      return new Projection<>(cleared(svc), List.of(), List.of());
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
    DeviceState device = ((Outcome.Running) outcome).proxy().device();
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
