package io.tailops.operator.proxygroup;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.api.v1alpha1.ProxyGroupType;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The ProxyGroup rules: defaults, hostnames, tags, ProxyClass, and every refusal with what to do. */
class ProxyGroupPlannerTest {
  final ProxyGroupPlanner planner = new ProxyGroupPlanner(List.of("tag:k8s"), "default-class");

  static ProxyGroup pg(String yaml) {
    ProxyGroup pg = Serialization.unmarshal("apiVersion: tailscale.com/v1alpha1\nkind: ProxyGroup\n" + yaml,
        ProxyGroup.class);
    pg.getMetadata().setUid("uid-1");
    return pg;
  }

  @Test
  void defaultsAreTwoReplicasNamedAfterTheGroupWithTheOperatorsTagsAndDefaultClass() {
    ProxyGroupPlan.Group g = (ProxyGroupPlan.Group) planner.plan(pg("metadata: {name: eg}\nspec: {type: egress}"));
    assertThat(g.type()).isEqualTo(ProxyGroupType.EGRESS);
    assertThat(g.replicas()).isEqualTo(2);
    assertThat(g.hostnames()).containsExactly("eg-0", "eg-1");
    assertThat(g.tags()).containsExactly("tag:k8s");
    assertThat(g.proxyClassName()).isEqualTo("default-class");
    assertThat(g.parent().type()).isEqualTo("proxygroup");
    assertThat(g.parent().namespace()).isNull();
  }

  @Test
  void theSpecWinsOverTheDefaults() {
    ProxyGroupPlan.Group g = (ProxyGroupPlan.Group) planner.plan(pg("""
        metadata: {name: ing}
        spec: {type: ingress, replicas: 3, hostnamePrefix: web, tags: ["tag:web"], proxyClass: mine}
        """));
    assertThat(g.hostnames()).containsExactly("web-0", "web-1", "web-2");
    assertThat(g.tags()).containsExactly("tag:web");
    assertThat(g.proxyClassName()).isEqualTo("mine");
  }

  @Test
  void zeroReplicasIsAGroupWithoutProxies() {
    ProxyGroupPlan.Group g = (ProxyGroupPlan.Group) planner.plan(pg("metadata: {name: eg}\n"
        + "spec: {type: egress, replicas: 0}"));
    assertThat(g.hostnames()).isEmpty();
  }

  @Test
  void aKubeApiserverGroupIsPlannedLikeTheOthers() {
    ProxyGroupPlan.Group g = (ProxyGroupPlan.Group) planner.plan(pg("metadata: {name: api}\n"
        + "spec: {type: kube-apiserver, kubeAPIServer: {mode: noauth, hostname: k8s}}"));
    assertThat(g.type()).isEqualTo(ProxyGroupType.KUBE_APISERVER);
    assertThat(g.hostnames()).containsExactly("api-0", "api-1");
  }

  @Test
  void anAuthModeApiServerProxyGroupMayBeNamedLikeTheStaticServiceAccountItRunsAs() {
    assertThat(planner.plan(pg("metadata: {name: kube-apiserver-auth-proxy}\nspec: {type: kube-apiserver}")))
        .isInstanceOf(ProxyGroupPlan.Group.class);
    ProxyGroupPlan.Invalid i = (ProxyGroupPlan.Invalid) planner.plan(pg("metadata: {name: kube-apiserver-auth-proxy}"
        + "\nspec: {type: kube-apiserver, kubeAPIServer: {mode: noauth}}"));
    assertThat(i.message()).contains("conflicts with the static ServiceAccount");
  }

  @Test
  void anInvalidApiServerProxyHostnameIsRefused() {
    ProxyGroupPlan.Invalid i = (ProxyGroupPlan.Invalid) planner.plan(pg("metadata: {name: api}\n"
        + "spec: {type: kube-apiserver, kubeAPIServer: {hostname: Not_A_Label}}"));
    assertThat(i.reason()).isEqualTo("ProxyGroupInvalid");
    assertThat(i.message()).startsWith("invalid ProxyGroup spec: invalid spec.kubeAPIServer.hostname "
        + "\"Not_A_Label\"");
  }

  @Test
  void aNameWhosePodsCouldNotBeCreatedIsRefused() {
    String name = "n".repeat(53);
    ProxyGroupPlan.Invalid i = (ProxyGroupPlan.Invalid) planner.plan(pg("metadata: {name: " + name + "}\n"
        + "spec: {type: egress}"));
    assertThat(i.reason()).isEqualTo("ProxyGroupInvalid");
    assertThat(i.message()).startsWith("invalid ProxyGroup spec: the name \"" + name + "\" is 53 characters long; "
        + "at most 52 fit");
    assertThat(planner.plan(pg("metadata: {name: " + "n".repeat(52) + "}\nspec: {type: egress}")))
        .isInstanceOf(ProxyGroupPlan.Group.class);
  }

  @Test
  void theStaticApiServerProxyServiceAccountNameIsRefused() {
    ProxyGroupPlan.Invalid i = (ProxyGroupPlan.Invalid) planner.plan(pg("metadata: {name: kube-apiserver-auth-proxy}"
        + "\nspec: {type: ingress}"));
    assertThat(i.message()).isEqualTo("invalid ProxyGroup spec: the name of the ProxyGroup "
        + "\"kube-apiserver-auth-proxy\" conflicts with the static ServiceAccount used for the API server proxy in "
        + "auth mode");
  }

  @Test
  void aHostnamePrefixTooLongForTheLastReplicaIsRefused() {
    String prefix = "p".repeat(61);
    ProxyGroupPlan.Invalid i = (ProxyGroupPlan.Invalid) planner.plan(pg("metadata: {name: eg}\n"
        + "spec: {type: egress, replicas: 11, hostnamePrefix: " + prefix + "}"));
    assertThat(i.message()).contains("invalid hostname \"" + prefix + "-10\" for replica 10")
        .contains("is too long, max length is 63 bytes").endsWith("set a shorter spec.hostnamePrefix");
  }

  @Test
  void anInvalidDefaultTagIsNamed() {
    ProxyGroupPlanner bad = new ProxyGroupPlanner(List.of("k8s"), "");
    ProxyGroupPlan.Invalid i = (ProxyGroupPlan.Invalid) bad.plan(pg("metadata: {name: eg}\nspec: {type: egress}"));
    assertThat(i.message()).isEqualTo("invalid ProxyGroup spec: invalid tag \"k8s\": tags must start with 'tag:'");
  }
}
