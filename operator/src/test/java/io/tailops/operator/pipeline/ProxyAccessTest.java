package io.tailops.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.tailops.operator.proxy.ObservedProxy;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProxyDefaults;
import io.tailops.operator.proxy.ProxyProvisioner;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.proxy.ProxyTarget;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Each proxy runs as its own ServiceAccount, whose Role reaches only its own state Secrets: created with the proxy,
 * put back when edited or deleted, removed with it.
 */
class ProxyAccessTest {
  static final ParentRef PARENT = new ParentRef("svc", "default", "web", "uid-web");

  static ProxySpec spec(int replicas) {
    return new ProxySpec(PARENT, "web", List.of("tag:k8s"), new ProxyTarget.ClusterIp("10.0.0.1"), null, false, false,
        false, null, replicas, "web");
  }

  final InMemoryCluster cluster = new InMemoryCluster("tailscale");
  final FakeControlPlane tailnet = new FakeControlPlane();
  final ProxyProvisioner provisioner = new ProxyProvisioner(cluster, () -> tailnet, new ProxyDefaults("tailscale",
      "tailscale/tailscale:v1.94.2", "", "", "", List.of("tag:k8s")));

  @Test
  void theProxyRunsAsItsOwnAccountThatReachesOnlyItsOwnStateSecrets() throws Exception {
    String name = provisioner.provision(spec(2), cluster).name();
    StatefulSet sts = cluster.get(StatefulSet.class, name);
    assertThat(sts.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo(name);
    assertThat(cluster.get(ServiceAccount.class, name).getMetadata().getLabels())
        .containsEntry("tailscale.com/managed", "true").containsEntry("tailscale.com/parent-resource", "web");
    Role role = cluster.get(Role.class, name);
    assertThat(role.getRules()).hasSize(2);
    PolicyRule secrets = role.getRules().get(0);
    assertThat(secrets.getResources()).containsExactly("secrets");
    assertThat(secrets.getResourceNames()).containsExactly(name + "-0", name + "-1");
    assertThat(secrets.getVerbs()).containsExactly("get", "update", "patch");
    PolicyRule events = role.getRules().get(1);
    assertThat(events.getResources()).containsExactly("events");
    assertThat(events.getResourceNames()).isNullOrEmpty();
    RoleBinding binding = cluster.get(RoleBinding.class, name);
    assertThat(binding.getRoleRef().getName()).isEqualTo(name);
    assertThat(binding.getSubjects()).singleElement().satisfies(s -> {
      assertThat(s.getKind()).isEqualTo("ServiceAccount");
      assertThat(s.getName()).isEqualTo(name);
      assertThat(s.getNamespace()).isEqualTo("tailscale");
    });

    // Scaled down to one replica: the Role follows.
    provisioner.provision(spec(1), cluster);
    assertThat(cluster.get(Role.class, name).getRules().get(0).getResourceNames()).containsExactly(name + "-0");
  }

  @Test
  void aWidenedRoleAndADeletedBindingArePutBackAndNothingIsWrittenWhenAllMatches() throws Exception {
    String name = provisioner.provision(spec(1), cluster).name();
    int writes = cluster.writeCount();
    provisioner.provision(spec(1), cluster);
    assertThat(cluster.writeCount()).isEqualTo(writes);

    Role role = cluster.get(Role.class, name);
    List<PolicyRule> wider = new ArrayList<>(role.getRules());
    wider.add(new PolicyRuleBuilder().withApiGroups("").withResources("secrets").withVerbs("get", "list").build());
    role.setRules(wider);
    cluster.edit(role);
    cluster.delete(cluster.get(RoleBinding.class, name), false);
    ObservedProxy again = provisioner.provision(spec(1), cluster);
    assertThat(cluster.get(Role.class, name).getRules()).hasSize(2);
    assertThat(cluster.get(RoleBinding.class, name)).isNotNull();
    assertThat(again.reverted()).anySatisfy(r -> assertThat(r).contains("rules of Role tailscale/" + name))
        .anySatisfy(r -> assertThat(r).isEqualTo("recreated the deleted RoleBinding tailscale/" + name));
  }

  @Test
  void cleanupRemovesTheAccountWithTheProxy() throws Exception {
    String name = provisioner.provision(spec(1), cluster).name();
    cluster.delete(cluster.get(StatefulSet.class, name), false);
    assertThat(provisioner.cleanup(PARENT)).isTrue();
    assertThat(cluster.all(ServiceAccount.class)).isEmpty();
    assertThat(cluster.all(Role.class)).isEmpty();
    assertThat(cluster.all(RoleBinding.class)).isEmpty();
    assertThat(cluster.all(Secret.class)).isEmpty();
  }
}
