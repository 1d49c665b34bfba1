package io.tailops.operator.proxygroup;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The k8s-proxy config file: Go's field order, unset fields omitted, the service reconcile's fields set in place. */
class K8sProxyConfigTest {
  @Test
  void everyFieldInGoOrder() {
    assertThat(new K8sProxyConfig("tskey", "api-1", "info", "https://hs.example", true, "web-1", false,
        List.of("svc:k8s"), "noauth", "svc:k8s", false).render()).isEqualTo("{\"Version\":\"v1alpha1\","
        + "\"AuthKey\":\"tskey\",\"State\":\"kube:api-1\",\"LogLevel\":\"info\",\"App\":"
        + "\"k8s-operator-proxygroup-kube-apiserver\",\"ServerURL\":\"https://hs.example\",\"LocalPort\":9002,"
        + "\"MetricsEnabled\":true,\"HealthCheckEnabled\":true,\"Hostname\":\"web-1\",\"AcceptRoutes\":false,"
        + "\"AdvertiseServices\":[\"svc:k8s\"],\"APIServerProxy\":{\"Enabled\":true,\"Mode\":\"noauth\","
        + "\"ServiceName\":\"svc:k8s\",\"IssueCerts\":false}}");
  }

  @Test
  void theServiceIsSetAndUnadvertisedInPlace() {
    String file = new K8sProxyConfig(null, "api-0", "info", null, null, "api-0", null, List.of("svc:old"), "auth",
        "svc:old", true).render();
    assertThat(K8sProxyConfig.serviceName(file)).isEqualTo("svc:old");
    String moved = K8sProxyConfig.withService(file, "svc:new", List.of());
    assertThat(moved).isEqualTo(new K8sProxyConfig(null, "api-0", "info", null, null, "api-0", null, List.of(),
        "auth", "svc:new", true).render());
    assertThat(K8sProxyConfig.advertisedServices(moved)).isEmpty();
    assertThat(K8sProxyConfig.withService("not json", "svc:x", List.of())).isEqualTo("not json");
  }
}
