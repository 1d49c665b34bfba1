package io.tailops.operator.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.discovery.v1.EndpointBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProxyAddressesTest {

  static EndpointSlice slice(String family, EndpointBuilder... endpoints) {
    return new EndpointSliceBuilder().withNewMetadata().withName("s").endMetadata().withAddressType(family)
        .withEndpoints(java.util.Arrays.stream(endpoints).map(EndpointBuilder::build).toList()).build();
  }

  static EndpointBuilder ep(Boolean ready, Boolean serving, Boolean terminating, String... addresses) {
    return new EndpointBuilder().withAddresses(addresses).withNewConditions().withReady(ready).withServing(serving)
        .withTerminating(terminating).endConditions();
  }

  @Test
  void readyAddressesOfBothFamiliesWithoutDuplicates() {
    ProxyAddresses a = ProxyAddresses.of(List.of(
        slice("IPv4", ep(true, true, false, "10.244.0.8"), ep(null, null, null, "10.244.0.7")),
        slice("IPv4", ep(true, null, null, "10.244.0.8")),
        slice("IPv6", ep(true, true, false, "fd00::8%eth0"))));
    assertThat(a.ipv4List()).containsExactly("10.244.0.7", "10.244.0.8");
    assertThat(a.ipv6List()).containsExactly("fd00::8");
    assertThat(a.isEmpty()).isFalse();
  }

  @Test
  void endpointsThatAreNotReadyAndMismatchedFamiliesAreLeftOut() {
    ProxyAddresses a = ProxyAddresses.of(List.of(
        slice("IPv4", ep(false, true, false, "10.244.0.1"), ep(true, false, false, "10.244.0.2"),
            ep(true, true, true, "10.244.0.3"), ep(true, true, false, "fd00::1")),
        slice("IPv6", ep(true, true, false, "10.244.0.4")),
        slice("FQDN", ep(true, true, false, "example.com"))));
    assertThat(a.isEmpty()).isTrue();
  }

  @Test
  void anEgressGroupServiceRecordPointsAtItsClusterIpsOfBothFamilies() {
    var dual = new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewSpec().withType("ClusterIP")
        .withClusterIP("10.96.0.12").withClusterIPs("10.96.0.12", "fd00:10:96::c").endSpec().build();
    assertThat(ProxyAddresses.ofClusterIps(dual).ipv4List()).containsExactly("10.96.0.12");
    assertThat(ProxyAddresses.ofClusterIps(dual).ipv6List()).containsExactly("fd00:10:96::c");
    var single = new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewSpec().withClusterIP("10.96.0.13")
        .endSpec().build();
    assertThat(ProxyAddresses.ofClusterIps(single).ipv4List()).containsExactly("10.96.0.13");
    var none = new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewSpec().withType("ClusterIP").endSpec()
        .build();
    assertThat(ProxyAddresses.ofClusterIps(none).isEmpty()).isTrue();
  }
}
