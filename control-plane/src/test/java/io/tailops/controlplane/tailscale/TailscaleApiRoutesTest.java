package io.tailops.controlplane.tailscale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.ControlPlaneException.Kind;
import io.tailops.controlplane.DeviceRoutes;
import io.tailops.controlplane.TailnetPolicy;
import io.tailops.testkit.tailscale.Endpoint;
import io.tailops.testkit.tailscale.FakeDevice;
import io.tailops.testkit.tailscale.FakeTailscaleApi;
import io.tailops.testkit.tailscale.RecordedRequest;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Device routes (subnet routers, exit nodes) and app connector definitions over the Tailscale API v2. */
class TailscaleApiRoutesTest extends ClientFixture {
  private FakeDevice router;

  @BeforeEach
  void routesScope() {
    writeCredentials(fake.addOAuthClient(List.of("auth_keys", "devices:core", FakeTailscaleApi.SCOPE_DEVICES_ROUTES,
        "policy_file:read"), List.of("tag:k8s-operator")));
    router = fake.registerDevice(fake.mintKey(List.of("tag:k8s"), false, false, true, Duration.ofHours(1)).secret(),
        "cn-subnet-connector");
  }

  @Test
  void readsAdvertisedAndEnabledRoutes() throws Exception {
    fake.advertiseRoutes(router.nodeId(), List.of("0.0.0.0/0", "::/0", "10.40.0.0/14"));
    fake.approveRoutes(router.nodeId(), List.of("10.40.0.0/14"));
    DeviceRoutes r = client().getDeviceRoutes(router.nodeId()).orElseThrow();
    assertThat(r.advertised()).containsExactly("0.0.0.0/0", "::/0", "10.40.0.0/14");
    assertThat(r.approved()).containsExactly("10.40.0.0/14");
    assertThat(r.unapproved()).containsExactly("0.0.0.0/0", "::/0");
    RecordedRequest req = fake.requests(Endpoint.GET_DEVICE_ROUTES).get(0);
    assertThat(req.path()).isEqualTo("/api/v2/device/" + router.nodeId() + "/routes");
    assertThat(events).contains("GET /api/v2/device/{id}/routes 200");
  }

  @Test
  void approvesRoutesWithTheWholeList() throws Exception {
    fake.advertiseRoutes(router.nodeId(), List.of("10.40.0.0/14", "192.168.10.0/24"));
    DeviceRoutes r = client().setApprovedRoutes(router.nodeId(), List.of("10.40.0.0/14", "192.168.10.0/24"));
    assertThat(r.approved()).containsExactly("10.40.0.0/14", "192.168.10.0/24");
    assertThat(r.unapproved()).isEmpty();
    assertThat(fake.routes(router.nodeId()).enabled()).containsExactly("10.40.0.0/14", "192.168.10.0/24");
    assertThat(fake.requests(Endpoint.SET_DEVICE_ROUTES).get(0).body())
        .isEqualTo("{\"routes\":[\"10.40.0.0/14\",\"192.168.10.0/24\"]}");
  }

  @Test
  void anUnknownDeviceHasNoRoutes() throws Exception {
    assertThat(client().getDeviceRoutes("nGoneCNTRL")).isEmpty();
    ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class,
        () -> client().setApprovedRoutes("nGoneCNTRL", List.of("10.0.0.0/8")));
    assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND);
  }

  @Test
  void withoutTheRoutesScopeTheCallIsForbidden() {
    writeCredentials(fake.addOAuthClient(List.of("auth_keys", "devices:core"), List.of("tag:k8s-operator")));
    ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class,
        () -> client().getDeviceRoutes(router.nodeId()));
    assertThat(e.kind()).isEqualTo(Kind.FORBIDDEN);
    writeCredentials(fake.addOAuthClient(List.of("devices:routes:read"), List.of("tag:k8s-operator")));
    ControlPlaneException write = catchThrowableOfType(ControlPlaneException.class,
        () -> client().setApprovedRoutes(router.nodeId(), List.of()));
    assertThat(write.kind()).as("reading is not approving").isEqualTo(Kind.FORBIDDEN);
  }

  @Test
  void readsTheAppConnectorDefinitionsOfThePolicy() throws Exception {
    fake.addAppConnector("github", List.of("tag:k8s"), List.of("github.com", "*.github.com"));
    fake.addAppConnector("any", List.of("*"), List.of("example.com"));
    TailnetPolicy p = client().readPolicy();
    assertThat(p.appConnectors()).extracting(TailnetPolicy.AppConnector::name).containsExactly("github", "any");
    assertThat(p.appConnectors().get(0).domains()).containsExactly("github.com", "*.github.com");
    assertThat(p.appConnectorsFor(List.of("tag:k8s"))).extracting(TailnetPolicy.AppConnector::name)
        .containsExactly("github", "any");
    assertThat(p.appConnectorsFor(List.of("tag:other"))).extracting(TailnetPolicy.AppConnector::name)
        .containsExactly("any");
  }
}
