package io.tailops.operator.ha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class EgressServiceConfigTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static ServicePort port(String name, int port, String protocol, int target) {
    return new ServicePortBuilder().withName(name).withPort(port).withProtocol(protocol)
        .withTargetPort(new IntOrString(target)).build();
  }

  @Test
  void eachNewPortGetsAFreeContainerPortAndTheHealthCheckComesLast() {
    AtomicInteger next = new AtomicInteger(10005);
    List<ServicePort> ports = EgressServiceConfig.clusterIpPorts(List.of(port("pg", 5432, "TCP", 5432),
        port(null, 53, "UDP", 53)), List.of(), Set.of(10005), next::incrementAndGet);
    assertThat(ports).extracting(ServicePort::getName).containsExactly("pg", "tailscale-unnamed",
        "tailscale-health-check");
    assertThat(ports).extracting(p -> p.getTargetPort().getIntVal()).containsExactly(10006, 10007, 9002);
    assertThat(ports.get(2).getPort()).isEqualTo(9002);
    assertThat(EgressServiceConfig.portMaps(ports)).containsExactly(new EgressServiceConfig.PortMap("TCP", 10006,
        5432), new EgressServiceConfig.PortMap("UDP", 10007, 53));
  }

  @Test
  void existingMappingsAreKeptAndDroppedOnesGo() {
    List<ServicePort> existing = List.of(port("pg", 5432, "TCP", 10500), port("old", 80, "TCP", 10501),
        port("tailscale-health-check", 9002, "TCP", 9002));
    List<ServicePort> ports = EgressServiceConfig.clusterIpPorts(List.of(port("postgres", 5432, "TCP", 5432)),
        existing, Set.of(10500, 10501), () -> 10999);
    assertThat(ports).extracting(ServicePort::getName).containsExactly("postgres", "tailscale-health-check");
    assertThat(ports.get(0).getTargetPort().getIntVal()).isEqualTo(10500);
  }

  @Test
  void theHealthCheckPortMovesAsideForAServicePortAndAFullGroupIsRefused() {
    List<ServicePort> ports = EgressServiceConfig.clusterIpPorts(List.of(port("a", 9002, "TCP", 9002)), List.of(),
        Set.of(), () -> 10001);
    assertThat(ports.get(1).getPort()).isEqualTo(9003);
    Set<Integer> full = new HashSet<>();
    IntStream.range(10000, 11000).forEach(full::add);
    assertThatThrownBy(() -> EgressServiceConfig.clusterIpPorts(List.of(port("a", 80, "TCP", 80)), List.of(), full,
        () -> 10001)).hasMessageContaining("unable to allocate additional ports");
  }

  @Test
  void theConfigEntryAndTheReplicaStatusUseTheOfficialJson() throws Exception {
    var entry = EgressServiceConfig.entry(new EgressGroupPlanner.Target("", "db.tailnet-abc.ts.net"),
        "http://ts-db-x.tailscale.svc.cluster.local:9002/healthz",
        Set.of(new EgressServiceConfig.PortMap("TCP", 10006, 5432)));
    assertThat(entry.toString()).isEqualTo("{\"healthCheckEndpoint\":\"http://ts-db-x.tailscale.svc.cluster.local:"
        + "9002/healthz\",\"tailnetTarget\":{\"ip\":\"\",\"fqdn\":\"db.tailnet-abc.ts.net\"},\"ports\":[{\"protocol\":"
        + "\"TCP\",\"matchPort\":10006,\"targetPort\":5432}]}");
    JsonNode status = JSON.readTree("{\"podIPv4\":\"10.0.0.5\",\"services\":{\"apps-db\":{\"ports\":[{\"protocol\":"
        + "\"TCP\",\"matchPort\":10006,\"targetPort\":5432}],\"tailnetTargetIPs\":[\"100.64.0.9\"],\"tailnetTarget\":"
        + "{\"ip\":\"\",\"fqdn\":\"db.tailnet-abc.ts.net\"}}}}");
    assertThat(EgressServiceConfig.routes(status, "10.0.0.5", "apps-db", entry)).isTrue();
    assertThat(EgressServiceConfig.routes(status, "10.0.0.6", "apps-db", entry)).as("another pod IP").isFalse();
    assertThat(EgressServiceConfig.routes(status, "10.0.0.5", "apps-web", entry)).isFalse();
    var moved = EgressServiceConfig.entry(new EgressGroupPlanner.Target("", "db.tailnet-abc.ts.net"), "",
        Set.of(new EgressServiceConfig.PortMap("TCP", 10007, 5432)));
    assertThat(EgressServiceConfig.routes(status, "10.0.0.5", "apps-db", moved)).as("old ports").isFalse();
    assertThat(EgressServiceConfig.routes(null, "10.0.0.5", "apps-db", entry)).isFalse();
  }

  @Test
  void aReplicaStatusWakesOnlyTheServicesWhoseEndpointSliceDisagreesWithIt() throws Exception {
    var entry = EgressServiceConfig.entry(new EgressGroupPlanner.Target("", "db.tailnet-abc.ts.net"), "",
        Set.of(new EgressServiceConfig.PortMap("TCP", 10006, 5432)));
    JsonNode status = JSON.readTree("{\"podIPv4\":\"10.0.0.5\",\"services\":{\"apps-db\":{\"ports\":[{\"protocol\":"
        + "\"TCP\",\"matchPort\":10006,\"targetPort\":5432}],\"tailnetTarget\":{\"ip\":\"\",\"fqdn\":"
        + "\"db.tailnet-abc.ts.net\"}}}}");
    java.util.function.Function<String, io.fabric8.kubernetes.api.model.Service> svc = n ->
        new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewMetadata().withNamespace("apps").withName(n)
            .endMetadata().build();
    var db = svc.apply("db");
    var web = svc.apply("web");
    var cache = svc.apply("cache");
    java.util.Map<String, JsonNode> entries = java.util.Map.of("apps-db", entry, "apps-web", entry);
    // db: routed, not listed yet → woken; web: not routed (no status), not listed → left; cache: no entry, but listed
    // (its entry was removed) → woken
    var listed = java.util.Map.of("apps/cache", Set.of("10.0.0.5"));
    assertThat(EgressServiceConfig.disagreeing(List.of(db, web, cache), "10.0.0.5", status, entries, listed))
        .containsExactly(db, cache);
    // once db's slice lists the replica, its next status says nothing new
    var settled = java.util.Map.of("apps/db", Set.of("10.0.0.5"));
    assertThat(EgressServiceConfig.disagreeing(List.of(db, web), "10.0.0.5", status, entries, settled)).isEmpty();
    assertThat(EgressServiceConfig.disagreeing(List.of(db), "", status, entries, java.util.Map.of())).isEmpty();
  }

  @Test
  void theConfiguredReasonHashesWhatGoWouldEncode() {
    ServicePort p = port("pg", 5432, "TCP", 5432);
    assertThat(EgressServiceConfig.goServicePort(p)).isEqualTo("{\"name\":\"pg\",\"protocol\":\"TCP\",\"port\":5432,"
        + "\"targetPort\":5432}");
    String reason = EgressServiceConfig.configuredReason(true, "eg", List.of(p),
        new EgressGroupPlanner.Target("", "db.tailnet-abc.ts.net"));
    // The value Go's encoder and sha256 give for the same cfg (computed with k8s.io/api v0.34.0's ServicePort).
    assertThat(reason).isEqualTo("ConfiguredFor:ProxyGroup:eg:Config:"
        + "1d11b3ccbb3522a6a1570098e4b075c3f9382399573234160931ec511a75f098");
    assertThat(EgressServiceConfig.configuredReason(false, "eg", List.of(p),
        new EgressGroupPlanner.Target("", "db.tailnet-abc.ts.net"))).startsWith("ConfigurationFailed:ProxyGroup:eg:")
        .endsWith(reason.substring(reason.lastIndexOf(':')));
  }

  @Test
  void theClusterIpServiceNameIsPrefixedAndFits() {
    assertThat(EgressServiceConfig.namePrefix("db")).isEqualTo("ts-db-");
    assertThat(EgressServiceConfig.namePrefix("x".repeat(250)).length() + 5).isLessThanOrEqualTo(248);
  }
}
