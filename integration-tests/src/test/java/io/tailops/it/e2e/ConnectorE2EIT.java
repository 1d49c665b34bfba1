package io.tailops.it.e2e;

import static io.tailops.it.e2e.RealTailnet.TIMEOUT;
import static io.tailops.it.e2e.RealTailnet.env;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.Connector;
import io.tailops.controlplane.DeviceRoutes;
import io.tailops.controlplane.headscale.ApiKeySource;
import io.tailops.controlplane.headscale.HeadscaleControlPlane;
import io.tailops.testkit.headscale.HeadscaleNode;
import io.tailops.testkit.podrunner.LocalPod;
import io.tailops.testkit.podrunner.PodNetwork;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Connectors on the real local tailnet: the operator's proxy (real kernel-mode containerboot/tailscaled in its own
 * network namespace) advertises the Connector's routes to headscale, the operator approves them there
 * ({@code HEADSCALE_APPROVE_ROUTES=true}) and says so in {@code ConnectorReady}, and the tailnet client
 * <ul>
 *   <li>reaches an HTTP server on a pod-network address through a subnet router Connector (the server sees the
 *       Connector pod's address: tailscaled masquerades subnet traffic), and
 *   <li>uses an exit node Connector to reach an address outside the tailnet and the cluster
 *       ({@link PodNetwork#outsideAddress()}: an address of this machine that the Connector's pod reaches through the
 *       node, standing in for the internet; nothing leaves the machine), the server seeing the exit node pod's
 *       address.
 * </ul>
 * Deleting a Connector deletes its node from headscale.
 */
@ExtendWith(RealTailnet.class)
class ConnectorE2EIT {
  private final List<Runnable> cleanup = new ArrayList<>();

  @BeforeAll
  static void kernelMode() {
    RealTailnet.requireKernelMode();
  }

  @AfterEach
  void cleanUp() {
    for (int i = cleanup.size() - 1; i >= 0; i--) {
      try {
        cleanup.get(i).run();
      } catch (RuntimeException e) {
        // keep cleaning
      }
    }
  }

  @Test
  void subnetRouterCarriesTailnetTrafficToAPodAddressWithItsRouteApprovedByTheOperator() throws Exception {
    PodNetwork net = env().network();
    String backendIp = net.podAddress();
    cleanup.add(() -> net.releasePodAddress(backendIp));
    HttpServer backend = echoServer(backendIp, "pod-network backend");

    create("""
        apiVersion: tailscale.com/v1alpha1
        kind: Connector
        metadata:
          name: e2e-router
        spec:
          subnetRouter:
            advertiseRoutes: ["%s"]
        """.formatted(net.podCidr()));
    LocalPod pod = env().pods().awaitStartupComplete(env().awaitProxy("connector", "", "e2e-router") + "-0", TIMEOUT);
    assertThat(pod.kernelMode()).isTrue();
    HeadscaleNode node = RealTailnet.awaitNode("e2e-router-connector");
    Condition ready = awaitReady("e2e-router");
    assertThat(ready.getReason()).isEqualTo("ConnectorCreated");
    assertThat(ready.getMessage()).isEqualTo("Connector is ready: subnet router for " + net.podCidr() + "; device "
        + RealTailnet.fqdn("e2e-router-connector") + " (" + String.join(", ", node.ipAddresses()) + "); routes "
        + "approved (the operator approves its Connectors' routes: HEADSCALE_APPROVE_ROUTES=true)");
    DeviceRoutes routes = controlPlane().getDeviceRoutes(node.id()).orElseThrow();
    assertThat(routes.advertised()).containsExactly(net.podCidr());
    assertThat(routes.approved()).containsExactly(net.podCidr());
    Connector c = get("e2e-router");
    assertThat(c.getStatus().getSubnetRoutes()).isEqualTo(net.podCidr());
    assertThat(c.getStatus().getTailnetIPs()).containsExactlyInAnyOrderElementsOf(node.ipAddresses());
    assertThat(c.getStatus().getHostname()).isEqualTo(RealTailnet.fqdn("e2e-router-connector"));

    env().tailnetClient().tailscale("set", "--accept-routes=true");
    cleanup.add(() -> env().tailnetClient().tailscale("set", "--accept-routes=false"));
    String url = "http://" + backendIp + ":" + backend.getAddress().getPort() + "/through-the-router";
    HttpResponse<String> r = RealTailnet.httpGet(url);
    assertThat(r.body()).isEqualTo("pod-network backend /through-the-router from " + pod.podIp());

    delete("e2e-router");
    await("node removed from headscale").atMost(TIMEOUT).until(() -> env().headscale().node(node.id()).isEmpty());
    assertThat(env().statefulSets("connector", "", "e2e-router")).isEmpty();
  }

  @Test
  void exitNodeCarriesTheClientsTrafficToAnAddressOutsideTheTailnet() throws Exception {
    PodNetwork net = env().network();
    String outside = net.outsideAddress();
    HttpServer site = echoServer(outside, "outside site");

    create("""
        apiVersion: tailscale.com/v1alpha1
        kind: Connector
        metadata:
          name: e2e-exit
        spec:
          exitNode: true
        """);
    LocalPod pod = env().pods().awaitStartupComplete(env().awaitProxy("connector", "", "e2e-exit") + "-0", TIMEOUT);
    // the exit node's pod reaches "the internet" (this run's stand-in address) through the node, as a pod would
    // through its default route
    net.routeToOutside(pod.netns().orElseThrow());
    HeadscaleNode node = RealTailnet.awaitNode("e2e-exit-connector");
    assertThat(awaitReady("e2e-exit").getMessage()).startsWith("Connector is ready: exit node; device ");
    assertThat(controlPlane().getDeviceRoutes(node.id()).orElseThrow().approved())
        .containsExactlyInAnyOrder("0.0.0.0/0", "::/0");
    assertThat(get("e2e-exit").getStatus().getIsExitNode()).isTrue();

    await("the client sees the exit node").atMost(TIMEOUT).ignoreExceptions().until(() ->
        env().tailnetClient().tailscale("exit-node", "list").contains(node.ipv4()));
    env().tailnetClient().tailscale("set", "--exit-node=" + node.ipv4());
    cleanup.add(() -> env().tailnetClient().tailscale("set", "--exit-node="));
    String url = "http://" + outside + ":" + site.getAddress().getPort() + "/via-exit-node";
    HttpResponse<String> r = RealTailnet.httpGet(url);
    assertThat(r.body()).isEqualTo("outside site /via-exit-node from " + pod.podIp());
  }

  // ------------------------------------------------------------------------------------------------ helpers

  private void create(String yaml) {
    Connector c = env().client().resource(Serialization.unmarshal(yaml, Connector.class)).create();
    cleanup.add(() -> delete(c.getMetadata().getName()));
  }

  private static void delete(String name) {
    env().client().resources(Connector.class).withName(name).delete();
    await("Connector " + name + " deleted").atMost(TIMEOUT).until(() -> get(name) == null);
  }

  private static Connector get(String name) {
    return env().client().resources(Connector.class).withName(name).get();
  }

  private static Condition awaitReady(String name) {
    await("ConnectorReady=True on " + name).atMost(TIMEOUT).until(() -> ready(get(name))
        .filter(c -> "True".equals(c.getStatus())).isPresent());
    return ready(get(name)).orElseThrow();
  }

  private static Optional<Condition> ready(Connector c) {
    return c == null || c.getStatus() == null ? Optional.empty() : c.getStatus().getConditions().stream()
        .filter(x -> "ConnectorReady".equals(x.getType())).findFirst();
  }

  private HttpServer echoServer(String ip, String name) throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress(ip, 0), 0);
    server.createContext("/", exchange -> {
      byte[] body = (name + " " + exchange.getRequestURI().getPath() + " from "
          + exchange.getRemoteAddress().getAddress().getHostAddress()).getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    cleanup.add(() -> server.stop(0));
    return server;
  }

  private static HeadscaleControlPlane controlPlane() {
    return HeadscaleControlPlane.builder(env().headscale().baseUrl(),
        ApiKeySource.fromFile(env().headscale().apiKeyFile())).baseDomain(env().headscale().baseDomain()).build();
  }
}
