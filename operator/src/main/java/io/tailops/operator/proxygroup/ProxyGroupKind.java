package io.tailops.operator.proxygroup;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.APIServerProxyMode;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.api.v1alpha1.ProxyGroupType;
import io.tailops.api.v1alpha1.ProxyGroupStatus;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.pipeline.Claim;
import io.tailops.operator.pipeline.Decision;
import io.tailops.operator.pipeline.Outcome;
import io.tailops.operator.pipeline.PlanMemo;
import io.tailops.operator.pipeline.Projection;
import io.tailops.operator.pipeline.ProxyKind;
import io.tailops.operator.proxy.ProxyObjectStore;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.proxy.ReplicaState;
import io.tailops.operator.status.Conditions;
import io.tailops.operator.status.Problem;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * ProxyGroups as proxy parents: a group of type egress or ingress gets {@code replicas} proxies of the official shape
 * ({@link ProxyGroupProxy}) that the Services and Ingresses naming it with {@code tailscale.com/proxy-group} share; a
 * group of type kube-apiserver gets {@code replicas} k8s-proxy replicas serving the Kubernetes API server (its
 * Tailscale Service is {@code KubeApiServerController}'s). The
 * outcome shows in {@code status.devices} and the {@code ProxyGroupReady} and {@code ProxyGroupAvailable} conditions
 * ({@link ProxyGroupStatusProjector}); the rules are in {@link ProxyGroupPlanner}.
 */
public final class ProxyGroupKind implements ProxyKind<ProxyGroup, ProxyGroupStatus, ProxyGroupKind.Observation> {
  public static final String NAME = "proxygroup-reconciler";
  private static final Identity<ProxyGroup> IDENTITY = new Identity<>(NAME, ProxyGroup.KIND,
      ProxyGroupNames.PARENT_TYPE, ProxyGroup.class, true);

  /**
   * A group's plan with what its replicas looked like when it was made (for the status when provisioning stops at a
   * gate) and its pods (whose state explains a replica that is not running).
   */
  public record Observation(ProxyGroupPlan.Group group, List<ReplicaState> replicas, Map<String, Pod> pods) {
  }

  private final ProxyGroupPlanner planner;
  private final PlanMemo<ProxyGroup, ProxyGroupPlan> plans;
  private final Clock clock;
  private final String k8sProxyImage;
  private final String logLevel;
  private final Predicate<String> serviceAccountExists;

  /** Without a cluster to ask: the chart's ServiceAccount for API server proxies in auth mode is taken to exist. */
  public ProxyGroupKind(OperatorConfig config, Clock clock) {
    this(config, clock, name -> true);
  }

  /**
   * @param serviceAccountExists whether a ServiceAccount of that name exists in the operator namespace (asked for
   *     kube-apiserver groups in auth mode, whose pods run as the chart's {@code kube-apiserver-auth-proxy})
   */
  public ProxyGroupKind(OperatorConfig config, Clock clock, Predicate<String> serviceAccountExists) {
    this.planner = new ProxyGroupPlanner(config.proxyTags(), config.proxyDefaultClass());
    this.plans = new PlanMemo<>(planner::plan);
    this.clock = clock;
    this.k8sProxyImage = config.k8sProxyImage();
    this.logLevel = switch (config.logging()) {
      case DEBUG, DEV -> "debug";
      case WARN -> "warn";
      case ERROR -> "error";
      default -> "info";
    };
    this.serviceAccountExists = serviceAccountExists;
  }

  @Override
  public Identity<ProxyGroup> identity() {
    return IDENTITY;
  }

  @Override
  public List<Class<? extends HasMetadata>> ownedTypes() {
    return List.of(ServiceAccount.class, Role.class, RoleBinding.class, ConfigMap.class);
  }

  @Override
  public List<Class<? extends HasMetadata>> watchedTypes() {
    return List.of(Pod.class);
  }

  @Override
  public Claim claim(ProxyGroup pg) {
    return plans.get(pg) instanceof ProxyGroupPlan.Group g ? new Claim(g.hostnames(), g.proxyClassName(),
        "set a different spec.hostnamePrefix") : Claim.NONE;
  }

  @Override
  public Decision<Observation> plan(ProxyGroup pg, ProxyObjectStore proxies) {
    ProxyGroupPlan plan = plans.get(pg);
    if (plan instanceof ProxyGroupPlan.Invalid inv) {
      return new Decision.Invalid<>(inv.reason(), List.of(Problem.warning(inv.reason(), inv.message())));
    }
    ProxyGroupPlan.Group g = (ProxyGroupPlan.Group) plan;
    Map<String, Pod> pods = new LinkedHashMap<>();
    for (Pod p : proxies.objects(g.parent(), Pod.class)) {
      pods.put(p.getMetadata().getName(), p);
    }
    List<ReplicaState> replicas = ReplicaState.pair(proxies.secrets(g.parent())).stream()
        .sorted(java.util.Comparator.comparingInt(r -> ProxyGroupStatusProjector.ordinal(r.secretName())))
        .toList();
    ProxySpec spec = new ProxySpec(g.parent(), g.hostname(0), g.tags(), null, null, false, false, false, null,
        g.replicas(), g.hostnamePrefix());
    ProxyGroupProxy.ApiServerProxy apiServerProxy = null;
    if (g.type() == ProxyGroupType.KUBE_APISERVER) {
      boolean noauth = pg.getSpec().getKubeAPIServer() != null
          && pg.getSpec().getKubeAPIServer().getMode() == APIServerProxyMode.NOAUTH;
      apiServerProxy = new ProxyGroupProxy.ApiServerProxy(k8sProxyImage, noauth ? "noauth" : "auth", logLevel,
          noauth || serviceAccountExists.test(ProxyGroupPlanner.AUTH_PROXY_SERVICE_ACCOUNT));
    }
    return new Decision.Wanted<>(spec, g.proxyClassName(), false, List.of(), new Observation(g, replicas, pods),
        new ProxyGroupProxy(g.type(), apiServerProxy));
  }

  @Override
  public Projection<ProxyGroupStatus> project(ProxyGroup pg, Observation plan, Outcome outcome) {
    if (outcome instanceof Outcome.NotWanted) {
      return Projection.unchanged(List.of());
    }
    if (plan == null) {
      // Invalid: the plan stopped before any replica was looked at.
      Outcome.Blocked b = (Outcome.Blocked) outcome;
      ProxyGroupStatus status = ProxyGroupStatusProjector.project(pg, 0, List.of(), Map.of(),
          new ProxyGroupStatusProjector.Blocker(b.conditionReason(), b.problem().message()), clock);
      status.setDevices(current(pg).getDevices());
      status.setConditions(keepAvailable(pg, status));
      return new Projection<>(status, List.of(b.problem()), b.problems().subList(1, b.problems().size()));
    }
    int desired = plan.group().replicas();
    if (outcome instanceof Outcome.Blocked b) {
      ProxyGroupStatusProjector.Blocker blocker = switch (b.gate()) {
        case PROXY_CLASS_MISSING -> new ProxyGroupStatusProjector.Blocker(ProxyGroupStatusProjector.REASON_CREATING,
            "the ProxyGroup's ProxyClass \"" + plan.group().proxyClassName() + "\" does not (yet) exist");
        case PROXY_CLASS_NOT_READY -> new ProxyGroupStatusProjector.Blocker(
            ProxyGroupStatusProjector.REASON_CREATING, "the ProxyGroup's ProxyClass \""
                + plan.group().proxyClassName() + "\" is not yet in a ready state, waiting...");
        case PROVISIONING_FAILED -> new ProxyGroupStatusProjector.Blocker(
            ProxyGroupStatusProjector.REASON_CREATION_FAILED, b.problem().message());
        default -> new ProxyGroupStatusProjector.Blocker(b.conditionReason(), b.problem().message());
      };
      ProxyGroupStatus status = ProxyGroupStatusProjector.project(pg, desired, plan.replicas(), plan.pods(),
          blocker, clock);
      Problem event = b.gate() == Outcome.Gate.PROVISIONING_FAILED
          ? Problem.warning(ProxyGroupStatusProjector.REASON_CREATION_FAILED, b.problem().message()) : b.problem();
      return new Projection<>(status, List.of(event), b.problems().subList(1, b.problems().size()));
    }
    if (outcome instanceof Outcome.Healing h) {
      ProxyGroupStatus status = ProxyGroupStatusProjector.project(pg, desired, plan.replicas(), plan.pods(), null,
          clock);
      return new Projection<>(status, List.of(), List.of());
    }
    List<ReplicaState> replicas = ((Outcome.Running) outcome).proxy().replicas();
    ProxyGroupStatus status = ProxyGroupStatusProjector.project(pg, desired, replicas, plan.pods(), null, clock);
    boolean ready = Conditions.find(status.getConditions(), io.tailops.api.v1alpha1.ConditionTypes.PROXY_GROUP_READY)
        .map(c -> "True".equals(c.getStatus())).orElse(false);
    List<Problem> onChange = ready ? List.of(Problem.normal(ProxyGroupStatusProjector.REASON_READY, "all "
        + desired + " replicas are running: " + devices(status))) : List.of();
    return new Projection<>(status, onChange, List.of());
  }

  private static String devices(ProxyGroupStatus status) {
    if (status.getDevices() == null) {
      return "none";
    }
    return String.join(", ", status.getDevices().stream().map(d -> d.getHostname()
        + (d.getTailnetIPs() == null ? "" : " " + d.getTailnetIPs())).toList());
  }

  /** An invalid group keeps whatever ProxyGroupAvailable said (its proxies, if any, are left as they are). */
  private static List<io.fabric8.kubernetes.api.model.Condition> keepAvailable(ProxyGroup pg, ProxyGroupStatus s) {
    var available = Conditions.find(current(pg).getConditions(),
        io.tailops.api.v1alpha1.ConditionTypes.PROXY_GROUP_AVAILABLE);
    List<io.fabric8.kubernetes.api.model.Condition> out = Conditions.remove(s.getConditions(),
        io.tailops.api.v1alpha1.ConditionTypes.PROXY_GROUP_AVAILABLE);
    if (available.isPresent()) {
      List<io.fabric8.kubernetes.api.model.Condition> with = new java.util.ArrayList<>();
      with.add(available.get());
      with.addAll(out);
      return with;
    }
    return out;
  }

  private static ProxyGroupStatus current(ProxyGroup pg) {
    return pg.getStatus() == null ? new ProxyGroupStatus() : pg.getStatus();
  }

  @Override
  public ProxyGroupStatus status(ProxyGroup pg) {
    return current(pg);
  }

  @Override
  public ProxyGroup withStatus(ProxyGroup pg, ProxyGroupStatus status) {
    ProxyGroup copy = Serialization.clone(pg);
    copy.setStatus(status);
    return copy;
  }

  @Override
  public boolean sameStatus(ProxyGroupStatus a, ProxyGroupStatus b) {
    return Conditions.same(a.getConditions(), b.getConditions())
        && Objects.equals(Serialization.asJson(a.getDevices()), Serialization.asJson(b.getDevices()))
        && Objects.equals(a.getUrl(), b.getUrl());
  }

  @Override
  public void forget(String uid) {
    plans.forget(uid);
  }
}
