package io.tailops.controlplane.headscale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.ControlPlaneException.Kind;
import io.tailops.controlplane.DeviceRoutes;
import io.tailops.controlplane.tailscale.RetryPolicy;
import io.tailops.testkit.headscale.HeadscaleServer;
import io.tailops.testkit.headscale.TailnetClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's routes on a real headscale v0.29.2: a real tailscaled advertises a subnet route and the exit node, headscale
 * lists them as available, and approving them through {@link HeadscaleControlPlane} makes them approved.
 */
class HeadscaleRoutesTest {
  private static HeadscaleServer headscale;
  private static TailnetClient router;

  @TempDir
  static Path dir;

  @BeforeAll
  static void start() {
    headscale = HeadscaleServer.builder().start();
    router = TailnetClient.builder(headscale).hostname("routes-test").tags("tag:k8s")
        .upArgs("--advertise-routes=10.77.0.0/16", "--advertise-exit-node").startupTimeout(Duration.ofSeconds(120))
        .start();
  }

  @AfterAll
  static void stop() {
    if (router != null) {
      router.close();
    }
    if (headscale != null) {
      headscale.close();
    }
  }

  private static HeadscaleControlPlane client() throws Exception {
    Path keyFile = dir.resolve("api-key");
    Files.writeString(keyFile, headscale.apiKey());
    return HeadscaleControlPlane.builder(headscale.baseUrl(), ApiKeySource.fromFile(keyFile))
        .baseDomain(headscale.baseDomain())
        .retryPolicy(RetryPolicy.defaults().withMaxAttempts(2).withBaseDelay(Duration.ofMillis(50)))
        .requestTimeout(Duration.ofSeconds(10)).build();
  }

  @Test
  void advertisedRoutesWaitForApprovalAndApprovingEnablesThem() throws Exception {
    HeadscaleControlPlane cp = client();
    String node = router.nodeId();
    DeviceRoutes before = cp.getDeviceRoutes(node).orElseThrow();
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (before.advertised().size() < 3 && System.nanoTime() < deadline) { // the announcement reaches headscale
      Thread.sleep(200);
      before = cp.getDeviceRoutes(node).orElseThrow();
    }
    assertThat(before.advertised()).containsExactlyInAnyOrder("10.77.0.0/16", "0.0.0.0/0", "::/0");
    assertThat(before.approved()).isEmpty();

    DeviceRoutes subnet = cp.setApprovedRoutes(node, List.of("10.77.0.0/16"));
    assertThat(subnet.approved()).containsExactly("10.77.0.0/16");
    assertThat(subnet.unapproved()).containsExactlyInAnyOrder("0.0.0.0/0", "::/0");

    DeviceRoutes all = cp.setApprovedRoutes(node, List.of("10.77.0.0/16", "0.0.0.0/0"));
    assertThat(all.approved()).as("headscale approves both default routes together")
        .containsExactlyInAnyOrder("10.77.0.0/16", "0.0.0.0/0", "::/0");
    assertThat(cp.getDeviceRoutes(node).orElseThrow().unapproved()).isEmpty();

    assertThat(cp.setApprovedRoutes(node, List.of()).approved()).as("the list replaces what was approved").isEmpty();
  }

  @Test
  void anUnknownNodeHasNoRoutes() throws Exception {
    HeadscaleControlPlane cp = client();
    assertThat(cp.getDeviceRoutes("999999")).isEmpty();
    assertThat(cp.getDeviceRoutes("nAbcCNTRL")).as("a Tailscale id is no headscale node").isEmpty();
    ControlPlaneException e = catchThrowableOfType(ControlPlaneException.class,
        () -> cp.setApprovedRoutes("999999", List.of("10.0.0.0/8")));
    assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND);
  }
}
