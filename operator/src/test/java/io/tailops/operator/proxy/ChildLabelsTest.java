package io.tailops.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChildLabelsTest {
  private static final ParentRef SERVICE = new ParentRef(ParentRef.TYPE_SERVICE, "apps", "db", "uid-1");
  private static final ParentRef INGRESS = new ParentRef(ParentRef.TYPE_INGRESS, "apps", "web", "uid-2");
  private static final ParentRef GROUP = new ParentRef("proxygroup", null, "api", "uid-3");

  private static Map<String, String> labels(ParentRef parent, String key, String value) {
    Map<String, String> l = new LinkedHashMap<>(ChildLabels.of(parent));
    if (key != null) {
      l.put(key, value);
    }
    return l;
  }

  private static HasMetadata service(Map<String, String> labels) {
    return new ServiceBuilder().withNewMetadata().withName("x").withLabels(labels).endMetadata().build();
  }

  private static HasMetadata secret(Map<String, String> labels) {
    return new SecretBuilder().withNewMetadata().withName("x").withLabels(labels).endMetadata().build();
  }

  @Test
  void theParentsOwnProxyObjectsAreItsOwn() {
    assertThat(ChildLabels.isProxyObjectOf(service(labels(SERVICE, null, null)), SERVICE)).isTrue();
    assertThat(ChildLabels.isProxyObjectOf(secret(labels(SERVICE, null, null)), SERVICE)).isTrue();
    assertThat(ChildLabels.isProxyObjectOf(secret(labels(GROUP, ReplicaState.LABEL_SECRET_TYPE, "state")), GROUP))
        .isTrue();
  }

  @Test
  void anotherParentsObjectsAreNot() {
    assertThat(ChildLabels.isProxyObjectOf(service(labels(INGRESS, null, null)), SERVICE)).isFalse();
    assertThat(ChildLabels.isProxyObjectOf(service(labels(new ParentRef(ParentRef.TYPE_SERVICE, "other", "db", null),
        null, null)), SERVICE)).isFalse();
  }

  @Test
  void aGroupEgressServicesClusterIpServiceIsTheGroups() {
    Map<String, String> l = labels(SERVICE, ChildLabels.LABEL_SVC_TYPE, ChildLabels.EGRESS);
    l.put("tailscale.com/proxy-group", "eg");
    assertThat(ChildLabels.isProxyObjectOf(service(l), SERVICE)).isFalse();
  }

  @Test
  void anHaIngressCertificateSecretIsTheGroupsButAKubeApiServerGroupsOwnIsItsOwn() {
    assertThat(ChildLabels.isProxyObjectOf(secret(labels(INGRESS, ReplicaState.LABEL_SECRET_TYPE, "certs")), INGRESS))
        .isFalse();
    assertThat(ChildLabels.isProxyObjectOf(secret(labels(GROUP, ReplicaState.LABEL_SECRET_TYPE, "certs")), GROUP))
        .isTrue();
  }
}
