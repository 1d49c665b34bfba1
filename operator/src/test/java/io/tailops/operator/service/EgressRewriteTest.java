package io.tailops.operator.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import java.util.Map;
import org.junit.jupiter.api.Test;

class EgressRewriteTest {

  @Test
  void theServicePointsAtTheProxysHeadlessServiceAndKeepsEverythingElse() {
    Service s = new ServiceBuilder().withNewMetadata().withNamespace("egress-demo").withName("printer")
        .addToLabels("team", "office").endMetadata().withNewSpec().withType("ClusterIP").withClusterIP("10.0.0.7")
        .withSelector(Map.of("app", "printer")).addNewPort().withPort(631).endPort().endSpec().build();
    String name = EgressRewrite.externalName("ts-printer-abcde", "tailscale", "cluster.local");
    assertThat(name).isEqualTo("ts-printer-abcde.tailscale.svc.cluster.local");
    assertThat(EgressRewrite.pointsAt(s, name)).isFalse();

    Service rewritten = EgressRewrite.pointedAt(s, name);
    assertThat(rewritten.getSpec().getType()).isEqualTo("ExternalName");
    assertThat(rewritten.getSpec().getExternalName()).isEqualTo(name);
    assertThat(rewritten.getSpec().getSelector()).isNull();
    assertThat(rewritten.getSpec().getPorts()).isEqualTo(s.getSpec().getPorts());
    assertThat(rewritten.getMetadata().getLabels()).containsEntry("team", "office");
    assertThat(EgressRewrite.pointsAt(rewritten, name)).isTrue();
    assertThat(s.getSpec().getType()).as("the input is not changed").isEqualTo("ClusterIP");
  }
}
