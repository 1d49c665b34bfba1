package io.tailops.operator.proxygroup;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code cap-106.hujson} byte for byte as the official operator writes it, and its advertised Services. */
class ProxyGroupConfigTest {
  @Test
  void rendersTheOfficialFieldsInGoOrder() {
    assertThat(new ProxyGroupConfig("https://ctl.example", "tskey-auth-x", "pg-0", true, List.of("svc:a", "svc:b"))
        .render()).isEqualTo("{\"Version\":\"alpha0\",\"Locked\":false,\"ServerURL\":\"https://ctl.example\","
        + "\"AuthKey\":\"tskey-auth-x\",\"Hostname\":\"pg-0\",\"acceptDNS\":false,\"acceptRoutes\":true,"
        + "\"AdvertiseServices\":[\"svc:a\",\"svc:b\"]}");
    assertThat(new ProxyGroupConfig(null, null, "pg-1", false, List.of()).files()).containsExactly(
        java.util.Map.entry("cap-106.hujson", "{\"Version\":\"alpha0\",\"Locked\":false,\"Hostname\":\"pg-1\","
            + "\"acceptDNS\":false,\"acceptRoutes\":false}"));
  }

  @Test
  void advertisedServicesAreReadAndReplacedInPlace() {
    String cfg = new ProxyGroupConfig(null, null, "pg-0", false, List.of("svc:a")).render();
    assertThat(ProxyGroupConfig.advertisedServices(cfg)).containsExactly("svc:a");
    assertThat(ProxyGroupConfig.withAdvertisedServices(cfg, List.of("svc:a", "svc:c")))
        .isEqualTo(new ProxyGroupConfig(null, null, "pg-0", false, List.of("svc:a", "svc:c")).render());
    assertThat(ProxyGroupConfig.withAdvertisedServices(cfg, List.of()))
        .isEqualTo(new ProxyGroupConfig(null, null, "pg-0", false, List.of()).render());
    String withEndpoints = "{\"Version\":\"alpha0\",\"Hostname\":\"pg-0\",\"StaticEndpoints\":[\"1.2.3.4:5\"]}";
    assertThat(ProxyGroupConfig.withAdvertisedServices(withEndpoints, List.of("svc:x"))).isEqualTo(
        "{\"Version\":\"alpha0\",\"Hostname\":\"pg-0\",\"AdvertiseServices\":[\"svc:x\"],"
            + "\"StaticEndpoints\":[\"1.2.3.4:5\"]}");
    assertThat(ProxyGroupConfig.advertisedServices("not json")).isEmpty();
  }
}
