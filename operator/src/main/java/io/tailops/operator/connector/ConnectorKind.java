package io.tailops.operator.connector;

import io.tailops.api.v1alpha1.Connector;
import io.tailops.api.v1alpha1.ConnectorDevice;
import io.tailops.api.v1alpha1.ConnectorStatus;
import io.tailops.operator.connector.ConnectorStatusProjector.Approval;
import io.tailops.operator.connector.ConnectorStatusProjector.Replica;
import io.tailops.operator.connector.ConnectorStatusProjector.Verdict;
import io.tailops.operator.pipeline.Claim;
import io.tailops.operator.pipeline.Decision;
import io.tailops.operator.pipeline.Outcome;
import io.tailops.operator.pipeline.PlanMemo;
import io.tailops.operator.pipeline.Projection;
import io.tailops.operator.pipeline.ProxyKind;
import io.tailops.operator.proxy.DeviceState;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProxyObjectStore;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.proxy.ProxyTarget;
import io.tailops.operator.proxy.ReplicaState;
import io.tailops.operator.status.Conditions;
import io.tailops.operator.status.Problem;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Connectors as proxy parents (cluster-scoped): every valid Connector gets a proxy of the standard shape with
 * {@code replicas} replicas, each advertising the Connector's routes. The decisions are {@link ConnectorPlanner}'s
 * and {@link ConnectorStatusProjector}'s; what the control plane says about the devices' routes comes from
 * {@link ConnectorTailnetChecks}.
 */
public final class ConnectorKind implements ProxyKind<Connector, ConnectorStatus, ConnectorPlan> {
  public static final String NAME = "connector-reconciler";
  private static final Identity<Connector> IDENTITY = new Identity<>(NAME, "Connector", ConnectorPlan.PARENT_TYPE,
      Connector.class, true);

  private final PlanMemo<Connector, ConnectorPlanner.Result> plans;
  private final ConnectorTailnetChecks checks;
  private final String controlPlaneName;
  private final Clock clock;

  /**
   * @param defaultTags the operator's proxy tags ({@code PROXY_TAGS})
   * @param controlPlaneName {@code Tailscale} or {@code headscale} (for the advice in messages)
   */
  public ConnectorKind(List<String> defaultTags, ConnectorTailnetChecks checks, String controlPlaneName,
      Clock clock) {
    this.plans = new PlanMemo<>(c -> ConnectorPlanner.plan(c, defaultTags));
    this.checks = checks;
    this.controlPlaneName = controlPlaneName;
    this.clock = clock;
  }

  @Override
  public Identity<Connector> identity() {
    return IDENTITY;
  }

  @Override
  public Claim claim(Connector connector) {
    return plans.get(connector) instanceof ConnectorPlanner.Valid v ? new Claim(v.plan().hostnames(),
        v.plan().proxyClassName(), "set a different spec.hostname or spec.hostnamePrefix on the Connector")
        : Claim.NONE;
  }

  @Override
  public Decision<ConnectorPlan> plan(Connector connector, ProxyObjectStore proxies) {
    ConnectorPlanner.Result r = plans.get(connector);
    if (r instanceof ConnectorPlanner.Invalid inv) {
      return new Decision.Invalid<>(ConnectorPlanner.REASON_INVALID, List.of(inv.problem()));
    }
    ConnectorPlan plan = ((ConnectorPlanner.Valid) r).plan();
    ProxySpec spec = new ProxySpec(ParentRef.of(ConnectorPlan.PARENT_TYPE, connector), plan.hostname(), plan.tags(),
        new ProxyTarget.Connector(plan.routes().advertisedText(), plan.appConnector()), null, false, false, false,
        null, plan.replicas(), plan.hostnamePrefix());
    return new Decision.Wanted<>(spec, plan.proxyClassName(), false, plan.notes(), plan);
  }

  @Override
  public Projection<ConnectorStatus> project(Connector connector, ConnectorPlan plan, Outcome outcome) {
    Long generation = connector.getMetadata().getGeneration();
    if (outcome instanceof Outcome.NotWanted) {
      return Projection.unchanged(List.of());
    }
    if (outcome instanceof Outcome.Blocked b) {
      Verdict v = blocked(b, plan);
      return new Projection<>(ConnectorStatusProjector.condition(connector.getStatus(), v, generation, clock),
          List.of(Problem.warning(b.problem().reason(), v.message())), b.problems().subList(1, b.problems().size()));
    }
    if (outcome instanceof Outcome.Healing h) {
      Verdict v = new Verdict(false, ConnectorStatusProjector.REASON_CREATING, h.event().message());
      return new Projection<>(ConnectorStatusProjector.condition(connector.getStatus(), v, generation, clock),
          List.of(), List.of());
    }
    List<Replica> replicas = new ArrayList<>();
    for (int i = 0; i < plan.replicas(); i++) {
      List<ReplicaState> states = ((Outcome.Running) outcome).proxy().replicas();
      DeviceState d = i < states.size() ? states.get(i).device() : DeviceState.NONE;
      replicas.add(new Replica(i, d.hasDevice() ? d.deviceId() : null, d.fqdn().isEmpty() ? null : d.fqdn(),
          d.ips()));
    }
    boolean allUp = replicas.stream().allMatch(r -> r.deviceId() != null && r.dnsName() != null
        && !r.tailnetIps().isEmpty());
    String uid = connector.getMetadata().getUid();
    ConnectorTailnetChecks.Result tailnet = allUp && plan.replicas() > 0 ? checks.check(uid, plan, replicas)
        : new ConnectorTailnetChecks.Result(new ConnectorStatusProjector.RoutesChecked(java.util.Map.of()),
            new ConnectorStatusProjector.AppConnectorConfigured(List.of()));
    Verdict v = ConnectorStatusProjector.verdict(plan, replicas, tailnet.routes(), tailnet.app(),
        new Approval(controlPlaneName, checks.operatorApproves()));
    Duration recheck = allUp && plan.replicas() > 0 ? checks.settle(uid, v.ready()) : null;
    ConnectorStatus status = ConnectorStatusProjector.status(connector.getStatus(), plan, replicas, v, generation,
        clock);
    return new Projection<>(status, List.of(v.event()), List.of(), recheck);
  }

  private static Verdict blocked(Outcome.Blocked b, ConnectorPlan plan) {
    String message = b.problem().message();
    return switch (b.gate()) {
      case INVALID -> new Verdict(false, ConnectorPlanner.REASON_INVALID, message);
      case PROXY_CLASS_MISSING -> new Verdict(false, ConnectorStatusProjector.REASON_FAILED,
          "Failed creating Connector: error verifying ProxyClass for Connector: ProxyClass " + plan.proxyClassName()
              + " not found; create it or remove spec.proxyClass");
      case PROXY_CLASS_NOT_READY -> new Verdict(false, ConnectorStatusProjector.REASON_CREATING, message);
      case HOSTNAME_CONFLICT -> new Verdict(false, Outcome.CONFLICT, message);
      case PROVISIONING_FAILED -> new Verdict(false, ConnectorStatusProjector.REASON_FAILED,
          "Failed creating Connector: " + message);
    };
  }

  @Override
  public ConnectorStatus status(Connector connector) {
    return connector.getStatus() == null ? new ConnectorStatus() : connector.getStatus();
  }

  @Override
  public Connector withStatus(Connector connector, ConnectorStatus status) {
    Connector copy = new Connector();
    copy.setMetadata(connector.getMetadata());
    copy.setSpec(connector.getSpec());
    copy.setStatus(status);
    return copy;
  }

  @Override
  public boolean sameStatus(ConnectorStatus a, ConnectorStatus b) {
    return Objects.equals(a.getSubnetRoutes(), b.getSubnetRoutes())
        && Objects.equals(a.getIsExitNode(), b.getIsExitNode())
        && Objects.equals(a.getIsAppConnector(), b.getIsAppConnector())
        && Objects.equals(a.getHostname(), b.getHostname())
        && Objects.equals(a.getTailnetIPs(), b.getTailnetIPs())
        && sameDevices(a.getDevices(), b.getDevices())
        && Conditions.same(a.getConditions(), b.getConditions(), ConnectorStatusProjector.CONDITION);
  }

  @Override
  public void forget(String uid) {
    plans.forget(uid);
    checks.forget(uid);
  }

  private static boolean sameDevices(List<ConnectorDevice> a, List<ConnectorDevice> b) {
    if (a == null || b == null) {
      return a == b;
    }
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!Objects.equals(a.get(i).getHostname(), b.get(i).getHostname())
          || !Objects.equals(a.get(i).getTailnetIPs(), b.get(i).getTailnetIPs())) {
        return false;
      }
    }
    return true;
  }
}
