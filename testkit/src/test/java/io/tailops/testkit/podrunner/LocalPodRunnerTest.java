package io.tailops.testkit.podrunner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.testkit.headscale.HeadscaleNode;
import io.tailops.testkit.headscale.HeadscaleServer;
import io.tailops.testkit.headscale.PreAuthKey;
import io.tailops.testkit.headscale.TailnetBinaries;
import io.tailops.testkit.headscale.TailnetClient;
import io.tailops.testkit.kube.KubeApiServer;

/**
 * The local pod runner with the real containerboot, headscale and API server, on StatefulSets shaped like the
 * operator's (env, fieldRefs, {@code $(POD_NAME)}, per-replica Secret volumes, the {@code sysctler} init container):
 * a kernel-mode Service proxy in its own network namespace forwarding tailnet traffic to a cluster IP, and a
 * userspace proxy with a serve config; Secret updates reach the running proxy; a deleted pod comes back with a new UID
 * as the same device; nothing is left behind.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalPodRunnerTest {

  private static final String NS = "tailscale";
  private static final Duration BOOT = Duration.ofSeconds(120);
  private static final ObjectMapper JSON = new ObjectMapper();

  private static PodNetwork network;
  private static KubeApiServer kube;
  private static HeadscaleServer headscale;
  private static LocalPodRunner runner;
  private static TailnetClient client;
  private static HttpServer backend;
  private static KubernetesClient k;

  @BeforeAll
  static void start() throws Exception {
    try {
      TailnetBinaries.locate().requireTailscale().requireHeadscale();
    } catch (IllegalStateException e) {
      assumeTrue(false, "tailnet binaries not built, skipping: " + e.getMessage());
    }
    PodNetwork.Support support = PodNetwork.probe();
    assumeTrue(support.bridge(), "no pod network here: " + support.reason());
    network = PodNetwork.create();
    kube = KubeApiServer.builder().controllerManager(true)
        .apiServerFlag("--service-cluster-ip-range=" + network.serviceCidr()).start();
    headscale = HeadscaleServer.builder().policy(HeadscaleServer.OPERATOR_POLICY)
        .listenAddress(network.hostAddress()).start();
    k = kube.client();
    k.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).create();
    k.serviceAccounts().inNamespace(NS).resource(new ServiceAccountBuilder().withNewMetadata().withName("proxies")
        .endMetadata().build()).create();
    k.rbac().roles().inNamespace(NS).resource(new RoleBuilder().withNewMetadata().withName("proxies").endMetadata()
        .withRules(new PolicyRuleBuilder().withApiGroups("").withResources("secrets")
                .withVerbs("get", "list", "watch", "create", "update", "patch").build(),
            new PolicyRuleBuilder().withApiGroups("").withResources("events")
                .withVerbs("create", "patch", "get").build())
        .build()).create();
    k.rbac().roleBindings().inNamespace(NS).resource(new RoleBindingBuilder().withNewMetadata().withName("proxies")
        .endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "Role", "proxies")
        .addNewSubject().withKind("ServiceAccount").withName("proxies").withNamespace(NS).endSubject()
        .build()).create();
    backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    backend.createContext("/", exchange -> {
      byte[] body = ("backend " + exchange.getRequestURI().getPath() + " from "
          + exchange.getRemoteAddress().getAddress().getHostAddress()).getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    backend.start();
    runner = LocalPodRunner.builder(kube).network(network).start();
    client = TailnetClient.builder(headscale).hostname("e2e-client").start();
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable c : new AutoCloseable[] {runner, client, headscale, kube, network}) {
      if (c != null) {
        try {
          c.close();
        } catch (Exception e) {
          // keep closing
        }
      }
    }
    if (backend != null) {
      backend.stop(0);
    }
  }

  @Test
  @Order(1)
  void kernelModeProxyForwardsTailnetTrafficToTheClusterIpAndSurvivesAPodDeletion() throws Exception {
    assumeTrue(PodNetwork.probe().kernelMode(), "kernel-mode pods unavailable: " + PodNetwork.probe().reason());
    Service svc = k.resource(new ServiceBuilder().withNewMetadata().withNamespace("default").withName("web")
        .endMetadata().withNewSpec().addToSelector("app", "web").addNewPort().withPort(8080).endPort().endSpec()
        .build()).create();
    String clusterIp = svc.getSpec().getClusterIP();
    assertThat(network.isServiceAddress(clusterIp)).as(clusterIp).isTrue();
    runner.services().backend("default", "web", 8080, backend.getAddress());
    runner.services().awaitServing("default", "web", 8080, Duration.ofSeconds(30));

    createProxy("ts-web-abcde", "web", false, List.of(value("TS_DEST_IP", clusterIp),
        value("TS_DEBUG_FIREWALL_MODE", "auto"), value("TS_INTERNAL_APP", "k8s-operator-ingress-proxy")), null);
    LocalPod pod = runner.awaitStartupComplete("ts-web-abcde-0", BOOT);
    assertThat(pod.kernelMode()).isTrue();
    assertThat(pod.netns()).isPresent();
    assertThat(pod.env()).containsEntry("TS_KUBE_SECRET", "ts-web-abcde-0")
        .containsEntry("POD_IP", pod.podIp())
        .containsEntry("TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR",
            pod.volumeDir("tailscaledconfig-0").orElseThrow().toString());
    String log = String.join("\n", pod.logLines());
    assertThat(log).contains("# init container sysctler").contains("net.ipv4.ip_forward = 1")
        .contains("Installing proxy rules");
    Map<String, String> data = await(() -> secretData("ts-web-abcde-0"), d -> d.containsKey("device_fqdn"),
        "device_fqdn");
    assertThat(data.get("device_fqdn")).isEqualTo("web." + headscale.baseDomain() + ".");
    assertThat(data.get("pod_uid")).isEqualTo(pod.uid());
    Pod live = k.pods().inNamespace(NS).withName("ts-web-abcde-0").get();
    assertThat(live.getStatus().getPhase()).isEqualTo("Running");
    assertThat(live.getStatus().getPodIP()).isEqualTo(pod.podIp());
    assertThat(live.getSpec().getNodeName()).as("bound to the runner's node").isEqualTo("tsop-local");
    assertThat(k.nodes().withName("tsop-local").get().getStatus().getConditions())
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));

    HeadscaleNode node = headscale.nodeNamed("web").orElseThrow();
    client.awaitPeer("web", BOOT);
    HttpResponse<String> r = await(() -> get("http://" + node.ipv4() + ":8080/hello"),
        x -> x != null && x.statusCode() == 200, "HTTP 200 through the kernel-mode proxy");
    assertThat(r.body()).startsWith("backend /hello from ");

    // The StatefulSet controller replaces a deleted pod; the runner stops the old process first, then runs the
    // new UID in a new namespace; the device stays the same (state in the Secret).
    String oldUid = pod.uid();
    String oldNetns = pod.netns().orElseThrow();
    k.pods().inNamespace(NS).withName("ts-web-abcde-0").delete();
    LocalPod second = runner.awaitPod("ts-web-abcde-0", p -> !p.uid().equals(oldUid), "replaced", BOOT);
    second.awaitStartupComplete(BOOT);
    assertThat(second.netns().orElseThrow()).isNotEqualTo(oldNetns);
    assertThat(Host.run("ip", "netns", "list").stdout()).doesNotContain(oldNetns + " ");
    Map<String, String> after = await(() -> secretData("ts-web-abcde-0"),
        d -> second.uid().equals(d.get("pod_uid")) && d.containsKey("device_fqdn"), "device info after the restart");
    assertThat(after.get("device_id")).isEqualTo(node.id());
    assertThat(await(() -> get("http://web." + headscale.baseDomain() + ":8080/again"),
        x -> x != null && x.statusCode() == 200, "HTTP 200 after the restart").body()).startsWith("backend /again");
  }

  @Test
  @Order(2)
  void userspaceProxyAppliesItsServeConfigAndPicksUpSecretChanges() throws Exception {
    Service svc = k.resource(new ServiceBuilder().withNewMetadata().withNamespace("default").withName("dash")
        .endMetadata().withNewSpec().addToSelector("app", "dash").addNewPort().withPort(3000).endPort().endSpec()
        .build()).create();
    String clusterIp = svc.getSpec().getClusterIP();
    runner.services().backend("default", "dash", 3000, backend.getAddress());
    String fqdn = "dash." + headscale.baseDomain();
    String serve = "{\"TCP\":{\"80\":{\"HTTP\":true}},\"Web\":{\"" + fqdn + ":80\":{\"Handlers\":{\"/\":{\"Proxy\":"
        + "\"http://" + clusterIp + ":3000/\"}}}}}";
    createProxy("ts-dash-fghij", "dash", true, List.of(
        value("TS_SERVE_CONFIG", "/etc/tailscaled/$(POD_NAME)/serve-config"),
        value("TS_INTERNAL_APP", "k8s-operator-ingress-resource")), serve);
    LocalPod pod = runner.awaitStartupComplete("ts-dash-fghij-0", BOOT);
    assertThat(pod.kernelMode()).isFalse();
    // in a network namespace of its own too (where namespaces work): its ports are not this machine's
    assertThat(pod.netns()).isPresent();
    assertThat(pod.env().get("TS_SERVE_CONFIG")).isEqualTo(pod.volumeDir("serve-config-0").orElseThrow()
        .resolve("serve-config").toString());
    // the items volume holds exactly the serve-config key
    assertThat(Files.list(pod.volumeDir("serve-config-0").orElseThrow()).map(p -> p.getFileName().toString())
        .filter(n -> !n.startsWith("..")).toList()).containsExactly("serve-config");
    pod.awaitLog("serve proxy: applying serve config", BOOT);
    client.awaitPeer("dash", BOOT);
    assertThat(await(() -> get("http://" + fqdn + "/x"), x -> x != null && x.statusCode() == 200,
        "HTTP 200 through the userspace proxy").body()).startsWith("backend /x");

    // A Secret change (the operator renaming the proxy) reaches the running containerboot, which reloads tailscaled.
    Secret s = k.secrets().inNamespace(NS).withName("ts-dash-fghij-0").get();
    String cap = new String(Base64.getDecoder().decode(s.getData().get("cap-107.hujson")), StandardCharsets.UTF_8);
    k.secrets().inNamespace(NS).withName("ts-dash-fghij-0").edit(x -> {
      x.getData().put("cap-107.hujson", Base64.getEncoder().encodeToString(
          cap.replace("\"Hostname\":\"dash\"", "\"Hostname\":\"dash2\"").getBytes(StandardCharsets.UTF_8)));
      return x;
    });
    pod.awaitLog("tailscaled config watch: ensuring that config is up to date", BOOT);
    HeadscaleNode renamed = headscale.awaitNode(n -> "dash2".equals(n.givenName()), "renamed to dash2", BOOT);
    assertThat(renamed.name()).isEqualTo("dash2");
  }

  @Test
  @Order(4)
  void closingLeavesNoNamespaceLinkOrProcessBehind() {
    List<String> before = new ArrayList<>();
    runner.pods().forEach(p -> p.netns().ifPresent(before::add));
    Path work = runner.workDir();
    runner.close();
    String prefix = "tsop" + network.slot();
    // the pods' namespaces are gone (the network's own service router, tsop<n>-0, goes with the network)
    assertThat(Host.run("ip", "netns", "list").stdout()).doesNotContainPattern(prefix + "-[1-9]");
    for (String ns : before) {
      assertThat(Host.run("ip", "netns", "list").stdout()).doesNotContain(ns);
    }
    assertThat(ProcessHandle.allProcesses().filter(p -> p.info().arguments()
        .map(a -> String.join(" ", a).contains(work.toString())).orElse(false)).toList()).isEmpty();
    network.close();
    assertThat(Host.run("ip", "-o", "link", "show").stdout()).doesNotContain(prefix + "br")
        .doesNotContain(prefix + "v");
    assertThat(Host.run("ip", "netns", "list").stdout()).doesNotContain(prefix + "-");
    network = null;
    runner = null;
  }

  // ------------------------------------------------------------------------------------------------ helpers

  private static EnvVar value(String name, String value) {
    return new EnvVarBuilder().withName(name).withValue(value).build();
  }

  private static EnvVar fieldRef(String name, String path) {
    return new EnvVarBuilder().withName(name).withNewValueFrom().withNewFieldRef("v1", path).endValueFrom().build();
  }

  /** A Secret and a StatefulSet as the operator makes them (official skeletons: proxy.yaml, userspace-proxy.yaml). */
  private static void createProxy(String sts, String hostname, boolean userspace, List<EnvVar> modeEnv,
      String serveConfig) throws Exception {
    PreAuthKey key = headscale.createPreAuthKey(List.of("tag:k8s"), false, false, Duration.ofHours(1));
    String common = "\"Locked\":false,\"ServerURL\":" + JSON.writeValueAsString(headscale.baseUrl())
        + ",\"AuthKey\":" + JSON.writeValueAsString(key.key()) + ",\"Hostname\":\"" + hostname + "\","
        + "\"acceptDNS\":false,\"acceptRoutes\":false";
    String secret = sts + "-0";
    SecretBuilder sb = new SecretBuilder().withNewMetadata().withName(secret).withNamespace(NS).endMetadata()
        .addToStringData("cap-95.hujson", "{\"Version\":\"alpha0\"," + common + ",\"NoStatefulFiltering\":true}")
        .addToStringData("cap-107.hujson", "{\"Version\":\"alpha0\"," + common
            + ",\"AppConnector\":{\"Advertise\":false},\"NoStatefulFiltering\":true}");
    if (serveConfig != null) {
      sb.addToStringData("serve-config", serveConfig);
    }
    k.secrets().inNamespace(NS).resource(sb.build()).create();
    List<EnvVar> env = new ArrayList<>(List.of(value("TS_USERSPACE", Boolean.toString(userspace)),
        fieldRef("POD_IP", "status.podIP"), fieldRef("POD_NAME", "metadata.name"), fieldRef("POD_UID", "metadata.uid"),
        value("TS_KUBE_SECRET", "$(POD_NAME)"),
        value("TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR", "/etc/tsconfig/$(POD_NAME)"),
        value("TS_DEBUG_ACME_FORCE_RENEWAL", "true")));
    env.addAll(modeEnv);
    ContainerBuilder main = new ContainerBuilder().withName("tailscale").withImage("tailscale/tailscale:v1.94.2")
        .withEnv(env).addNewVolumeMount().withName("tailscaledconfig-0").withReadOnly(true)
        .withMountPath("/etc/tsconfig/" + secret).endVolumeMount();
    if (serveConfig != null) {
      main.addNewVolumeMount().withName("serve-config-0").withReadOnly(true).withMountPath("/etc/tailscaled/" + secret)
          .endVolumeMount();
    }
    StatefulSetBuilder b = new StatefulSetBuilder().withNewMetadata().withName(sts).withNamespace(NS).endMetadata()
        .withNewSpec().withReplicas(1).withServiceName(sts)
        .withNewSelector().addToMatchLabels("app", sts).endSelector()
        .withNewTemplate().withNewMetadata().addToLabels("app", sts).addToLabels("tailscale.com/managed", "true")
        .endMetadata().withNewSpec().withServiceAccountName("proxies").withContainers(main.build())
        .addNewVolume().withName("tailscaledconfig-0").withNewSecret().withSecretName(secret).endSecret().endVolume()
        .endSpec().endTemplate().endSpec();
    if (serveConfig != null) {
      b.editSpec().editTemplate().editSpec().addNewVolume().withName("serve-config-0").withNewSecret()
          .withSecretName(secret).addNewItem().withKey("serve-config").withPath("serve-config").endItem().endSecret()
          .endVolume().endSpec().endTemplate().endSpec();
    }
    if (!userspace) {
      b.editSpec().editTemplate().editSpec().addNewInitContainer().withName("sysctler")
          .withImage("tailscale/tailscale:v1.94.2").withNewSecurityContext().withPrivileged(true).endSecurityContext()
          .withCommand("/bin/sh", "-c").withArgs("sysctl -w net.ipv4.ip_forward=1 && if sysctl "
              + "net.ipv6.conf.all.forwarding; then sysctl -w net.ipv6.conf.all.forwarding=1; fi")
          .endInitContainer().endSpec().endTemplate().endSpec();
    }
    StatefulSet set = b.build();
    k.apps().statefulSets().inNamespace(NS).resource(set).create();
  }

  @Test
  @Order(3)
  void aServicePortWithoutABackendIsServedFromItsReadyEndpointSliceEndpoints() throws Exception {
    // a "pod" of the test: an HTTP server on the node address (an endpoint address the API server accepts)
    HttpServer pod = HttpServer.create(new InetSocketAddress(network.hostAddress(), 0), 0);
    pod.createContext("/", exchange -> {
      byte[] body = ("pod " + exchange.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    pod.start();
    try {
      Service svc = k.resource(new ServiceBuilder().withNewMetadata().withNamespace("default").withName("sliced")
          .endMetadata().withNewSpec().addNewPort().withName("http").withPort(80).withNewTargetPort(10080).endPort()
          .endSpec().build()).create();
      java.util.function.Function<Boolean, EndpointSlice> slice = ready -> new EndpointSliceBuilder()
          .withNewMetadata().withNamespace("default").withName("sliced-1")
          .addToLabels("kubernetes.io/service-name", "sliced")
          .addToLabels("endpointslice.kubernetes.io/managed-by", "test").endMetadata().withAddressType("IPv4")
          .addNewPort().withName("http").withProtocol("TCP").withPort(pod.getAddress().getPort()).endPort()
          .addNewEndpoint().withAddresses(network.hostAddress()).withNewConditions().withReady(ready).endConditions()
          .endEndpoint().build();
      k.resource(slice.apply(true)).create();
      InetSocketAddress endpoint = new InetSocketAddress(network.hostAddress(), pod.getAddress().getPort());
      await(() -> runner.services().endpoints("default", "sliced", 80), e -> e.equals(List.of(endpoint)),
          "the slice's endpoint");
      String url = "http://" + svc.getSpec().getClusterIP() + ":80/via-slice";
      java.net.http.HttpClient http = java.net.http.HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
          .build();
      HttpResponse<String> r = await(() -> {
        try {
          return http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url))
              .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (Exception e) {
          return null;
        }
      }, x -> x != null && x.statusCode() == 200, "HTTP 200 through the cluster IP");
      assertThat(r.body()).isEqualTo("pod /via-slice");

      // not ready: no endpoint, the cluster IP refuses connections
      k.resource(slice.apply(false)).update();
      await(() -> runner.services().endpoints("default", "sliced", 80), List::isEmpty, "no ready endpoint");
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> http.send(java.net.http.HttpRequest
          .newBuilder(java.net.URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.ofString())).isInstanceOf(java.io.IOException.class);
      k.services().inNamespace("default").withName("sliced").delete();
      k.discovery().v1().endpointSlices().inNamespace("default").withName("sliced-1").delete();
    } finally {
      pod.stop(0);
    }
  }

  private static Map<String, String> secretData(String name) {
    Secret s = k.secrets().inNamespace(NS).withName(name).get();
    Map<String, String> out = new LinkedHashMap<>();
    if (s != null && s.getData() != null) {
      s.getData().forEach((key, v) -> out.put(key, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    }
    return out;
  }

  private static HttpResponse<String> get(String url) {
    try {
      return client.httpGet(url, Duration.ofSeconds(10));
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static <T> T await(Supplier<T> get, Predicate<T> ok, String what) {
    long deadline = System.nanoTime() + BOOT.toNanos();
    T v = get.get();
    while (!ok.test(v)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what + "; last value: " + v);
      }
      Host.sleep(500);
      v = get.get();
    }
    return v;
  }
}
