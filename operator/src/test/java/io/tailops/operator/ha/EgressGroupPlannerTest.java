package io.tailops.operator.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.api.v1alpha1.ProxyGroupSpec;
import io.tailops.api.v1alpha1.ProxyGroupType;
import io.tailops.operator.service.EgressPlanner;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class EgressGroupPlannerTest {
  final EgressGroupPlanner planner = new EgressGroupPlanner(new EgressPlanner(List.of("tag:k8s"), "",
      Optional::empty));

  static Service svc(String type, Map<String, String> annotations, boolean ports) {
    ServiceBuilder b = new ServiceBuilder().withNewMetadata().withNamespace("apps").withName("db").withUid("u1")
        .withAnnotations(new LinkedHashMap<>(annotations)).endMetadata().withNewSpec().withType(type)
        .withExternalName("placeholder").endSpec();
    if (ports) {
      b.editSpec().addNewPort().withName("pg").withPort(5432).withProtocol("TCP").endPort().endSpec();
    }
    return b.build();
  }

  static Optional<ProxyGroup> group(ProxyGroupType type) {
    ProxyGroup pg = new ProxyGroup();
    pg.getMetadata().setName("eg");
    ProxyGroupSpec spec = new ProxyGroupSpec();
    spec.setType(type);
    pg.setSpec(spec);
    return Optional.of(pg);
  }

  static final Map<String, String> FQDN = Map.of("tailscale.com/proxy-group", "eg", "tailscale.com/tailnet-fqdn",
      "db.tailnet-abc.ts.net");

  @Test
  void anExternalNameServiceWithATargetAndPortsIsServedByItsEgressGroup() {
    var plan = planner.plan(svc("ExternalName", FQDN, true), group(ProxyGroupType.EGRESS));
    assertThat(plan).isInstanceOfSatisfying(EgressGroupPlanner.Wanted.class, w -> {
      assertThat(w.group()).isEqualTo("eg");
      assertThat(w.tailnetService()).isEqualTo("apps-db");
      assertThat(w.target()).isEqualTo(new EgressGroupPlanner.Target("", "db.tailnet-abc.ts.net"));
      assertThat(w.ports()).hasSize(1);
    });
    var ip = planner.plan(svc("ExternalName", Map.of("tailscale.com/proxy-group", "eg", "tailscale.com/tailnet-ip",
        "100.64.0.7"), true), group(ProxyGroupType.EGRESS));
    assertThat(((EgressGroupPlanner.Wanted) ip).target()).isEqualTo(new EgressGroupPlanner.Target("100.64.0.7", ""));
  }

  @Test
  void aMissingGroupIsUnknownAndSaysWhatToDo() {
    var plan = planner.plan(svc("ExternalName", FQDN, true), Optional.empty());
    assertThat(plan).isEqualTo(new EgressGroupPlanner.Invalid("eg", true, "ProxyGroupNotReady", "ProxyGroup \"eg\" "
        + "does not exist: create an egress ProxyGroup named eg, or name an existing one in "
        + "tailscale.com/proxy-group", "ProxyGroupNotFound"));
  }

  @Test
  void badInputsAreRefusedWithTheOfficialWording() {
    assertThat(message(svc("ExternalName", FQDN, true), ProxyGroupType.INGRESS)).isEqualTo("invalid egress Service: "
        + "egress Service references ProxyGroup of type ingress, must be type egress");
    assertThat(message(svc("ExternalName", Map.of("tailscale.com/proxy-group", "eg"), true), ProxyGroupType.EGRESS))
        .isEqualTo("invalid egress Service: egress Service for ProxyGroup must have one of tailscale.com/tailnet-fqdn, "
            + "tailscale.com/tailnet-ip annotations set");
    assertThat(message(svc("ExternalName", Map.of("tailscale.com/proxy-group", "eg", "tailscale.com/tailnet-fqdn",
        "db.tailnet-abc.ts.net", "tailscale.com/tailnet-ip", "100.64.0.7"), true), ProxyGroupType.EGRESS))
        .isEqualTo("invalid egress Service: only one of annotations tailscale.com/tailnet-ip and "
            + "tailscale.com/tailnet-fqdn can be set");
    assertThat(message(svc("ExternalName", FQDN, false), ProxyGroupType.EGRESS)).isEqualTo("invalid egress Service: "
        + "egress Service for ProxyGroup must have at least one target Port specified");
    assertThat(message(svc("ClusterIP", FQDN, true), ProxyGroupType.EGRESS)).isEqualTo("invalid egress Service: "
        + "unexpected egress Service type ClusterIP. The only supported type is ExternalName.");
    assertThat(message(svc("ExternalName", Map.of("tailscale.com/proxy-group", "eg", "tailscale.com/tailnet-fqdn",
        "db"), true), ProxyGroupType.EGRESS)).contains("\"db\" does not appear to be a valid MagicDNS name");
  }

  private String message(Service svc, ProxyGroupType type) {
    var plan = planner.plan(svc, group(type));
    assertThat(plan).isInstanceOf(EgressGroupPlanner.Invalid.class);
    var inv = (EgressGroupPlanner.Invalid) plan;
    assertThat(inv.unknown()).isFalse();
    assertThat(inv.reason()).isEqualTo("EgressSvcInvalid");
    assertThat(inv.eventReason()).isEqualTo("INVALIDSERVICE");
    return inv.message();
  }

  @Test
  void aServiceNotNamingAGroupOrBeingDeletedIsNotWanted() {
    assertThat(planner.plan(svc("ExternalName", Map.of("tailscale.com/tailnet-fqdn", "db.tailnet-abc.ts.net"), true),
        group(ProxyGroupType.EGRESS))).isInstanceOf(EgressGroupPlanner.NotWanted.class);
    Service deleting = svc("ExternalName", FQDN, true);
    deleting.getMetadata().setDeletionTimestamp("2026-12-07T00:00:00Z");
    assertThat(planner.plan(deleting, group(ProxyGroupType.EGRESS))).isInstanceOf(EgressGroupPlanner.NotWanted.class);
  }
}
