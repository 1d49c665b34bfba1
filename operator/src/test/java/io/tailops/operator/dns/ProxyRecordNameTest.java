package io.tailops.operator.dns;

import static io.tailops.operator.golden.GoldenObjects.expected;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.operator.golden.GoldenObjects;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Against the golden files: the official operator's headless Services when a DNSConfig exists. */
class ProxyRecordNameTest {

  private static ObjectNode headless(List<ObjectNode> docs) {
    return docs.stream().filter(d -> d.path("kind").asText().equals("Service")
        && d.path("metadata").path("namespace").asText().equals("tailscale")).findFirst().orElseThrow();
  }

  @Test
  void anEgressProxyToAMagicDnsNameHasTheAnnotationAsWritten() {
    for (String name : List.of("db", "wiki")) {
      List<ObjectNode> golden = expected("service/egress-demo/" + name);
      Service parent = Serialization.jsonMapper().convertValue(golden.get(0), Service.class);
      ObjectNode h = headless(golden);
      assertThat(ProxyRecordName.forService(parent)).contains(h.path("metadata").path("annotations")
          .path(ProxyRecordName.ANNOTATION).asText());
      assertThat(h.path("metadata").path("finalizers").get(0).asText()).isEqualTo(ProxyRecordName.FINALIZER);
    }
  }

  @Test
  void egressProxiesToAnAddressHaveNone() {
    for (String name : List.of("nas", "nas-v6", "printer", "lab", "legacy")) {
      List<ObjectNode> golden = expected("service/egress-demo/" + name);
      Service parent = Serialization.jsonMapper().convertValue(golden.get(0), Service.class);
      assertThat(ProxyRecordName.forService(parent)).isEmpty();
      assertThat(headless(golden).path("metadata").has("annotations")).isFalse();
      assertThat(headless(golden).path("metadata").has("finalizers")).isFalse();
    }
  }

  @Test
  void anIngressProxyHasTheIngresssMagicDnsName() {
    for (String file : List.of("ingress/my-dashboard/my-dashboard", "ingress/my-namespace/my-public-app")) {
      List<ObjectNode> golden = expected(file);
      Ingress ing = Serialization.jsonMapper().convertValue(golden.get(0), Ingress.class);
      assertThat(ProxyRecordName.forIngress(ing)).contains(headless(golden).path("metadata").path("annotations")
          .path(ProxyRecordName.ANNOTATION).asText());
    }
    assertThat(ProxyRecordName.forIngress(new Ingress())).isEqualTo(Optional.empty());
  }

  @Test
  void ingressServicesHaveNone() {
    List<ObjectNode> golden = GoldenObjects.expected("service/my-namespace/my-service");
    assertThat(headless(golden).path("metadata").has("annotations")).isFalse();
  }

  @Test
  void onlyAnEgressGroupsClusterIpServiceIsAGroupEgressService() {
    java.util.function.BiFunction<java.util.Map<String, String>, String, io.fabric8.kubernetes.api.model.Service> svc =
        (labels, type) -> new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewMetadata().withName("ts-db-x")
            .withLabels(labels).endMetadata().withNewSpec().withType(type).endSpec().build();
    var group = java.util.Map.of("tailscale.com/managed", "true", "tailscale.com/parent-resource-type", "svc",
        "tailscale.com/proxy-group", "eg", "tailscale.com/svc-type", "egress");
    assertThat(ProxyRecordName.isGroupEgressService(svc.apply(group, "ClusterIP"))).isTrue();
    assertThat(ProxyRecordName.isGroupEgressService(svc.apply(group, "ExternalName"))).isFalse();
    assertThat(ProxyRecordName.isGroupEgressService(svc.apply(java.util.Map.of("tailscale.com/managed", "true",
        "tailscale.com/parent-resource-type", "svc"), "ClusterIP"))).isFalse(); // a proxy's headless Service
  }
}
