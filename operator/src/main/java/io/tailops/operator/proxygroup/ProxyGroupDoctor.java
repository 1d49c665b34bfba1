package io.tailops.operator.proxygroup;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.api.v1alpha1.ConditionTypes;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.api.v1alpha1.ProxyGroupType;
import io.tailops.operator.doctor.Doctor;
import io.tailops.operator.status.Conditions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What {@code doctor} says about ProxyGroups: one line per group, from its {@code ProxyGroupReady} condition (the
 * reason a replica is not running is in its message); for groups of type kube-apiserver also whether their Tailscale
 * Service was refused ({@code KubeAPIServerProxyValid}) and, when ready, the proxy's URL.
 */
public final class ProxyGroupDoctor {
  private ProxyGroupDoctor() {
  }

  public static List<Doctor.Check> checks(KubernetesClient client) {
    List<ProxyGroup> groups;
    try {
      groups = client.resources(ProxyGroup.class).list().getItems();
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return List.of();
      }
      return List.of(new Doctor.Check("proxygroups", Doctor.Status.WARN, "cannot list ProxyGroups: "
          + e.getMessage(), "check the operator's RBAC (the chart grants list on proxygroups.tailscale.com)"));
    }
    List<Doctor.Check> out = new ArrayList<>();
    for (ProxyGroup pg : groups) {
      out.add(check(pg));
    }
    return out;
  }

  static Doctor.Check check(ProxyGroup pg) {
    String name = "proxygroup " + pg.getMetadata().getName();
    String type = pg.getSpec() == null || pg.getSpec().getType() == null ? "?" : pg.getSpec().getType().value();
    Optional<Condition> ready = pg.getStatus() == null ? Optional.empty()
        : Conditions.find(pg.getStatus().getConditions(), ConditionTypes.PROXY_GROUP_READY);
    if (ready.isEmpty()) {
      return new Doctor.Check(name, Doctor.Status.WARN, "the operator has not reported on this " + type
          + " group yet", "wait a moment; if it stays so, look at the operator's log");
    }
    Condition c = ready.get();
    int devices = pg.getStatus().getDevices() == null ? 0 : pg.getStatus().getDevices().size();
    boolean apiServerProxy = pg.getSpec() != null && pg.getSpec().getType() == ProxyGroupType.KUBE_APISERVER;
    if (apiServerProxy) {
      // The Tailscale Service of the API server proxies: refused (another owner) or without a replica advertising it.
      Optional<Condition> valid = Conditions.find(pg.getStatus().getConditions(),
          ConditionTypes.KUBE_API_SERVER_PROXY_VALID);
      if (valid.isPresent() && "False".equals(valid.get().getStatus())) {
        return new Doctor.Check(name, Doctor.Status.FAIL, type + ": " + valid.get().getReason() + ": "
            + valid.get().getMessage(), "set another spec.kubeAPIServer.hostname, or delete the Tailscale Service "
            + "that holds the name");
      }
    }
    if ("True".equals(c.getStatus())) {
      String url = apiServerProxy && pg.getStatus().getUrl() != null ? "; API server proxy at "
          + pg.getStatus().getUrl() : "";
      return new Doctor.Check(name, Doctor.Status.OK, type + ", " + devices + " replica(s) running: "
          + String.join(", ", pg.getStatus().getDevices().stream().map(d -> d.getHostname()).toList()) + url, "");
    }
    boolean invalid = ProxyGroupPlanner.REASON_INVALID.equals(c.getReason())
        || ProxyGroupStatusProjector.REASON_CREATION_FAILED.equals(c.getReason());
    return new Doctor.Check(name, invalid ? Doctor.Status.FAIL : Doctor.Status.WARN, type + ", " + devices
        + " replica(s) running; " + c.getReason() + ": " + c.getMessage(),
        "see kubectl describe proxygroup " + pg.getMetadata().getName() + " (conditions and Events)");
  }
}
