package io.tailops.it.e2e;

import static io.tailops.it.e2e.RealTailnet.TIMEOUT;
import static io.tailops.it.e2e.RealTailnet.env;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.tailops.api.v1alpha1.Connector;
import io.tailops.api.v1alpha1.ConnectorSpec;
import io.tailops.api.v1alpha1.SubnetRouter;
import io.tailops.controlplane.DeviceRoutes;
import io.tailops.controlplane.headscale.ApiKeySource;
import io.tailops.controlplane.headscale.HeadscaleControlPlane;
import io.tailops.local.OperatorEnvironment;
import io.tailops.operator.connector.ConnectorPlan;
import io.tailops.operator.connector.ConnectorPlanner;
import io.tailops.operator.connector.ConnectorStatusProjector;
import io.tailops.operator.connector.ConnectorStatusProjector.AppConnectorConfigured;
import io.tailops.operator.connector.ConnectorStatusProjector.Approval;
import io.tailops.operator.connector.ConnectorStatusProjector.Replica;
import io.tailops.operator.connector.ConnectorStatusProjector.RoutesChecked;
import io.tailops.operator.connector.ConnectorStatusProjector.Verdict;
import io.tailops.testkit.headscale.HeadscaleNode;
import io.tailops.testkit.podrunner.LocalPod;
import io.tailops.testkit.podrunner.PodNetwork;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The data path of a Connector on the real local tailnet, before the operator serves Connectors: the proxy objects the
 * operator will make for a Connector (the official StatefulSet shape for Connectors, the tailscaled config from
 * {@link ConnectorPlanner}) run as a real kernel-mode containerboot/tailscaled in its own network namespace,
 * advertising routes to headscale; headscale holds them until they are approved through the operator's control-plane
 * client ({@link HeadscaleControlPlane#setApprovedRoutes}), and the status the operator would derive says so before
 * and after ({@link ConnectorStatusProjector}). Then the tailnet client reaches
 * <ul>
 *   <li>an HTTP server on a pod-network address through the subnet router (the server sees the router's pod address:
 *       tailscaled masquerades subnet traffic), and
 *   <li>an HTTP server on an address outside the tailnet and the cluster ({@link PodNetwork#outsideAddress()}, a local
 *       address of this machine that the exit node's pod reaches through the node, standing in for the internet) with
 *       the Connector as its exit node (the server sees the exit node's pod address).
 * </ul>
 */
@ExtendWith(RealTailnet.class)
class ConnectorDataPathE2EIT {
  private static final String NS = OperatorEnvironment.NAMESPACE;
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
  void subnetRouterCarriesTailnetTrafficToAPodAddressOnceHeadscaleApprovesItsRoute() throws Exception {
    PodNetwork net = env().network();
    String backendIp = net.podAddress();
    cleanup.add(() -> net.releasePodAddress(backendIp));
    HttpServer backend = echoServer(backendIp, "pod-network backend");

    ConnectorPlan plan = plan("e2e-router", s -> s.setSubnetRouter(new SubnetRouter(List.of(net.podCidr()))));
    LocalPod pod = runConnectorProxy("ts-e2e-router-pdq7k", plan);
    HeadscaleNode node = RealTailnet.awaitNode("e2e-router-connector");
    HeadscaleControlPlane cp = controlPlane();

    DeviceRoutes advertised = await("headscale lists the advertised pod range").atMost(TIMEOUT)
        .until(() -> cp.getDeviceRoutes(node.id()).orElseThrow(), r -> r.advertised().contains(net.podCidr()));
    assertThat(advertised.approved()).as("nothing approves it yet").isEmpty();
    Verdict before = verdict(plan, pod, node, advertised);
    assertThat(before.ready()).isFalse();
    assertThat(before.reason()).isEqualTo("RoutesNotApproved");
    assertThat(before.message()).contains("approve it with headscale nodes approve-routes --identifier " + node.id()
        + " --routes " + net.podCidr());

    DeviceRoutes approved = cp.setApprovedRoutes(node.id(), List.of(net.podCidr()));
    assertThat(approved.unapproved()).isEmpty();
    Verdict after = verdict(plan, pod, node, approved);
    assertThat(after.ready()).as(after.message()).isTrue();

    env().tailnetClient().tailscale("set", "--accept-routes=true");
    cleanup.add(() -> env().tailnetClient().tailscale("set", "--accept-routes=false"));
    String url = "http://" + backendIp + ":" + backend.getAddress().getPort() + "/through-the-router";
    HttpResponse<String> r = RealTailnet.httpGet(url);
    assertThat(r.body()).isEqualTo("pod-network backend /through-the-router from " + pod.podIp());
  }

  @Test
  void exitNodeCarriesTheClientsTrafficToAnAddressOutsideTheTailnet() throws Exception {
    PodNetwork net = env().network();
    String outside = net.outsideAddress();
    HttpServer site = echoServer(outside, "outside site");

    ConnectorPlan plan = plan("e2e-exit", s -> s.setExitNode(true));
    LocalPod pod = runConnectorProxy("ts-e2e-exit-x2m4b", plan);
    // the exit node's pod reaches "the internet" (this run's stand-in range) through the node, as a pod would through
    // its default route; the node owns the address, so nothing leaves the machine
    net.routeToOutside(pod.netns().orElseThrow());
    HeadscaleNode node = RealTailnet.awaitNode("e2e-exit-connector");
    HeadscaleControlPlane cp = controlPlane();
    DeviceRoutes advertised = await("headscale lists the exit routes").atMost(TIMEOUT)
        .until(() -> cp.getDeviceRoutes(node.id()).orElseThrow(), r -> r.advertised().size() == 2);
    assertThat(advertised.advertised()).containsExactlyInAnyOrder("0.0.0.0/0", "::/0");
    assertThat(verdict(plan, pod, node, advertised).reason()).isEqualTo("ExitNodeNotApproved");

    DeviceRoutes approved = cp.setApprovedRoutes(node.id(), List.of("0.0.0.0/0", "::/0"));
    assertThat(verdict(plan, pod, node, approved).ready()).isTrue();

    await("the client sees the exit node").atMost(TIMEOUT).ignoreExceptions().until(() ->
        env().tailnetClient().tailscale("exit-node", "list").contains(node.ipv4()));
    env().tailnetClient().tailscale("set", "--exit-node=" + node.ipv4());
    cleanup.add(() -> env().tailnetClient().tailscale("set", "--exit-node="));
    String url = "http://" + outside + ":" + site.getAddress().getPort() + "/via-exit-node";
    HttpResponse<String> r = RealTailnet.httpGet(url);
    assertThat(r.body()).isEqualTo("outside site /via-exit-node from " + pod.podIp());
  }

  // ------------------------------------------------------------------------------------------------ helpers

  private static ConnectorPlan plan(String name, Consumer<ConnectorSpec> spec) {
    Connector c = new Connector();
    c.setMetadata(new ObjectMetaBuilder().withName(name).withUid("uid-" + name).build());
    ConnectorSpec s = new ConnectorSpec();
    spec.accept(s);
    c.setSpec(s);
    ConnectorPlanner.Result r = ConnectorPlanner.plan(c, List.of("tag:k8s"));
    assertThat(r).isInstanceOf(ConnectorPlanner.Valid.class);
    return ((ConnectorPlanner.Valid) r).plan();
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

  /**
   * The proxy objects of a one-replica Connector as the official operator makes them (golden files
   * {@code connector/*}): the config Secret {@code <sts>-0} with the plan's tailscaled config and a fresh key, the
   * kernel-mode StatefulSet with the {@code sysctler} init container and the Connector's environment.
   */
  private LocalPod runConnectorProxy(String sts, ConnectorPlan plan) {
    String key = env().headscale().createPreAuthKey("tag:k8s").key();
    Map<String, String> files = plan.tailscaledConfig(0, env().headscale().baseUrl(), key, false).files();
    Map<String, String> labels = Map.of("tailscale.com/managed", "true", "tailscale.com/parent-resource",
        plan.name(), "tailscale.com/parent-resource-ns", "", "tailscale.com/parent-resource-type", "connector");
    String secret = sts + "-0";
    env().client().secrets().inNamespace(NS).resource(new SecretBuilder().withNewMetadata().withName(secret)
        .withNamespace(NS).withLabels(labels).endMetadata().withStringData(files).build()).create();
    List<EnvVar> envVars = List.of(value("TS_USERSPACE", "false"), fieldRef("POD_IP", "status.podIP"),
        fieldRef("POD_NAME", "metadata.name"), fieldRef("POD_UID", "metadata.uid"),
        value("TS_KUBE_SECRET", "$(POD_NAME)"), value("TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR",
            "/etc/tsconfig/$(POD_NAME)"), value("TS_DEBUG_ACME_FORCE_RENEWAL", "true"),
        value("TS_DEBUG_FIREWALL_MODE", "auto"), value("TS_INTERNAL_APP", ConnectorPlan.INTERNAL_APP));
    String image = "tailscale/tailscale:v" + env().pods().binaries().tailscaleVersion();
    env().client().apps().statefulSets().inNamespace(NS).resource(new StatefulSetBuilder().withNewMetadata()
        .withName(sts).withNamespace(NS).withLabels(labels).endMetadata().withNewSpec().withReplicas(1)
        .withServiceName(sts).withNewSelector().addToMatchLabels("app", "uid-" + plan.name()).endSelector()
        .withNewTemplate().withNewMetadata().addToLabels(labels).addToLabels("app", "uid-" + plan.name())
        .endMetadata().withNewSpec().withServiceAccountName("proxies")
        .addNewInitContainer().withName("sysctler").withImage(image).withNewSecurityContext().withPrivileged(true)
        .endSecurityContext().withCommand("/bin/sh", "-c").withArgs("sysctl -w net.ipv4.ip_forward=1 && if sysctl "
            + "net.ipv6.conf.all.forwarding; then sysctl -w net.ipv6.conf.all.forwarding=1; fi").endInitContainer()
        .withContainers(new ContainerBuilder().withName("tailscale").withImage(image).withEnv(envVars)
            .withNewSecurityContext().withPrivileged(true).endSecurityContext()
            .addNewVolumeMount().withName("tailscaledconfig-0").withReadOnly(true)
            .withMountPath("/etc/tsconfig/" + secret).endVolumeMount().build())
        .addNewVolume().withName("tailscaledconfig-0").withNewSecret().withSecretName(secret).endSecret().endVolume()
        .endSpec().endTemplate().endSpec().build()).create();
    cleanup.add(() -> {
      env().client().apps().statefulSets().inNamespace(NS).withName(sts).delete();
      env().client().secrets().inNamespace(NS).withName(secret).delete();
    });
    LocalPod pod = env().pods().awaitStartupComplete(secret, TIMEOUT);
    assertThat(pod.kernelMode()).isTrue();
    return pod;
  }

  private static Verdict verdict(ConnectorPlan plan, LocalPod pod, HeadscaleNode node, DeviceRoutes routes) {
    Map<String, String> state = RealTailnet.secretData(pod.name());
    Replica replica = new Replica(0, state.get("device_id"), state.get("device_fqdn").replaceAll("\\.$", ""),
        node.ipAddresses());
    return ConnectorStatusProjector.verdict(plan, List.of(replica), new RoutesChecked(Map.of(node.id(), routes)),
        new AppConnectorConfigured(List.of()), new Approval("headscale", false));
  }

  private static HeadscaleControlPlane controlPlane() {
    return HeadscaleControlPlane.builder(env().headscale().baseUrl(),
        ApiKeySource.fromFile(env().headscale().apiKeyFile())).baseDomain(env().headscale().baseDomain()).build();
  }

  private static EnvVar value(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }

  private static EnvVar fieldRef(String name, String path) {
    return new EnvVarBuilder().withName(name).withNewValueFrom().withNewFieldRef("v1", path).endValueFrom().build();
  }
}
