package io.tailops.operator.ha;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.api.v1alpha1.ProxyGroupType;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.service.EgressPlanner;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Decides whether and how a Service egresses through an egress ProxyGroup (official {@code egress-services.go}): an
 * ExternalName Service naming the group ({@code tailscale.com/proxy-group}) and one tailnet target
 * ({@code tailscale.com/tailnet-fqdn} or {@code tailscale.com/tailnet-ip}), with at least one port. The official
 * rules and wording ({@code validateEgressService}), plus a group that does not exist said as such. Pure.
 */
public final class EgressGroupPlanner {
  public static final String CONDITION_VALID = "TailscaleEgressSvcValid";
  public static final String CONDITION_CONFIGURED = "TailscaleEgressSvcConfigured";
  public static final String CONDITION_READY = "TailscaleEgressSvcReady";
  static final String REASON_INVALID = "EgressSvcInvalid";
  static final String REASON_VALID = "EgressSvcValid";
  static final String REASON_GROUP_NOT_READY = "ProxyGroupNotReady";
  /** The official event reason of an invalid Service. */
  static final String EVENT_INVALID = "INVALIDSERVICE";

  private final EgressPlanner targets;

  /** @param targets the egress rules of a target's value (a MagicDNS name, an address a device can have) */
  public EgressGroupPlanner(EgressPlanner targets) {
    this.targets = targets;
  }

  /** The tailnet target, as the group's ConfigMap has it ({@code egressservices.TailnetTarget}). */
  public record Target(String ip, String fqdn) {
  }

  /** What to do with a Service. */
  public sealed interface Plan {
  }

  /** The Service does not egress through a group (anything it had is removed). */
  public record NotWanted(String why) implements Plan {
  }

  /**
   * The Service cannot be served as it is.
   *
   * @param unknown the condition's status is Unknown (the group does not exist yet), else False
   * @param eventReason the Event's reason
   */
  public record Invalid(String group, boolean unknown, String reason, String message, String eventReason)
      implements Plan {
  }

  /**
   * The Service is served by {@code group} as {@code tailnetService} ({@code <namespace>-<name>}, its key in the
   * group's ConfigMap).
   */
  public record Wanted(String group, String tailnetService, Target target, List<ServicePort> ports) implements Plan {
    public Wanted {
      ports = List.copyOf(ports);
    }
  }

  /** The group a Service names, or empty. */
  public static String groupOf(Service svc) {
    Map<String, String> ann = svc.getMetadata().getAnnotations();
    return ann == null ? "" : ann.getOrDefault(TailscaleKeys.PROXY_GROUP, "");
  }

  /** The Service's key in its group's ConfigMap and the replicas' status (official {@code tailnetSvcName}). */
  public static String tailnetService(Service svc) {
    return svc.getMetadata().getNamespace() + "-" + svc.getMetadata().getName();
  }

  public Plan plan(Service svc, Optional<ProxyGroup> pg) {
    if (svc.getMetadata().getDeletionTimestamp() != null) {
      return new NotWanted("the Service is being deleted");
    }
    if (!EgressPlanner.viaProxyGroup(svc)) {
      return new NotWanted("the Service does not egress through a ProxyGroup");
    }
    String group = groupOf(svc);
    if (pg.isEmpty()) {
      return new Invalid(group, true, REASON_GROUP_NOT_READY, "ProxyGroup \"" + group + "\" does not exist: create an "
          + "egress ProxyGroup named " + group + ", or name an existing one in " + TailscaleKeys.PROXY_GROUP,
          "ProxyGroupNotFound");
    }
    Map<String, String> ann = svc.getMetadata().getAnnotations();
    String fqdn = ann.getOrDefault(TailscaleKeys.TAILNET_FQDN, "");
    String ip = ann.getOrDefault(TailscaleKeys.TAILNET_IP, "");
    List<String> violations = new ArrayList<>();
    if ("None".equals(svc.getSpec().getClusterIP())) {
      violations.add("headless Services are not supported.");
    }
    if (!fqdn.isEmpty() && !ip.isEmpty()) {
      violations.add("only one of annotations " + TailscaleKeys.TAILNET_IP + " and " + TailscaleKeys.TAILNET_FQDN
          + " can be set");
    }
    violations.addAll(targets.targetViolations(svc));
    if (fqdn.isEmpty() && ip.isEmpty()) {
      violations.add("egress Service for ProxyGroup must have one of " + TailscaleKeys.TAILNET_FQDN + ", "
          + TailscaleKeys.TAILNET_IP + " annotations set");
    }
    List<ServicePort> ports = svc.getSpec().getPorts() == null ? List.of() : svc.getSpec().getPorts();
    if (ports.isEmpty()) {
      violations.add("egress Service for ProxyGroup must have at least one target Port specified");
    }
    String type = svc.getSpec().getType() == null ? "" : svc.getSpec().getType();
    if (!"ExternalName".equals(type)) {
      violations.add("unexpected egress Service type " + type + ". The only supported type is ExternalName.");
    }
    ProxyGroupType pgType = pg.get().getSpec() == null ? null : pg.get().getSpec().getType();
    if (pgType != ProxyGroupType.EGRESS) {
      violations.add("egress Service references ProxyGroup of type " + (pgType == null ? "" : pgType.value())
          + ", must be type egress");
    }
    if (!violations.isEmpty()) {
      return new Invalid(group, false, REASON_INVALID, "invalid egress Service: " + String.join(", ", violations),
          EVENT_INVALID);
    }
    return new Wanted(group, tailnetService(svc), fqdn.isEmpty() ? new Target(ip, "") : new Target("", fqdn),
        ports);
  }
}
