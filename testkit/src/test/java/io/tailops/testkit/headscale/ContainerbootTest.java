package io.tailops.testkit.headscale;

import io.tailops.testkit.WatchedProcess;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.testkit.kube.KubeApiServer;

/**
 * The real containerboot (tailscale v1.94.2) outside a kubelet, as the operator's Ingress proxy Pod would run it:
 * config-file mode with the operator's {@code cap-95.hujson}/{@code cap-107.hujson}, the state in a Kubernetes Secret
 * on a real API server (service account through a private mount namespace), logging in to headscale, serving a
 * plain-HTTP serve config. Proves what the local pod runner needs: containerboot writes {@code device_id},
 * {@code device_fqdn}, {@code device_ips}, {@code tailscale_capver} and {@code pod_uid}, the proxy is reachable from
 * the tailnet, SIGTERM stops it cleanly, and a restarted "Pod" resumes the same node from the Secret.
 */
class ContainerbootTest {

  private static final String NS = "tailscale";
  private static final String POD = "default-web-0";
  private static final String HOSTNAME = "default-web";
  private static final Duration BOOT = Duration.ofSeconds(90);
  private static final ObjectMapper JSON = new ObjectMapper();

  private static KubeApiServer kube;
  private static HeadscaleServer headscale;
  private static TailnetClient client;
  private static HttpServer backend;

  @BeforeAll
  static void start() throws Exception {
    kube = KubeApiServer.builder().start();
    headscale = HeadscaleServer.builder().policy(HeadscaleServer.OPERATOR_POLICY).start();
    backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    backend.createContext("/", exchange -> {
      byte[] body = ("backend behind " + exchange.getRequestHeaders().getFirst("Host"))
          .getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    backend.start();
    client = TailnetClient.builder(headscale).hostname("e2e-client").start();
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable c : new AutoCloseable[] {client, headscale, kube}) {
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
  void containerbootStoresDeviceInfoInTheStateSecretServesTheTailnetAndResumesAfterARestart() throws Exception {
    KubernetesClient k = kube.client();
    // What the operator sets up for StatefulSet proxies: namespace, ServiceAccount "proxies" with Role "proxies".
    k.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NS).endMetadata().build()).create();
    k.serviceAccounts().inNamespace(NS).resource(new ServiceAccountBuilder().withNewMetadata().withName("proxies")
        .endMetadata().build()).create();
    k.rbac().roles().inNamespace(NS).resource(new RoleBuilder().withNewMetadata().withName("proxies").endMetadata()
        .withRules(new PolicyRuleBuilder().withApiGroups("").withResources("secrets")
                .withVerbs("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch").build(),
            new PolicyRuleBuilder().withApiGroups("").withResources("events")
                .withVerbs("create", "patch", "get").build())
        .build()).create();
    k.rbac().roleBindings().inNamespace(NS).resource(new RoleBindingBuilder().withNewMetadata().withName("proxies")
        .endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "Role", "proxies")
        .addNewSubject().withKind("ServiceAccount").withName("proxies").withNamespace(NS).endSubject()
        .build()).create();
    // The kubelet would mount a projected token; here a TokenRequest for the same ServiceAccount.
    String token = k.serviceAccounts().inNamespace(NS).withName("proxies").tokenRequest(new TokenRequestBuilder()
        .withNewSpec().withExpirationSeconds(3600L).endSpec().build()).getStatus().getToken();

    // The operator mints a single-use tagged key and writes the config Secret (= state Secret) for replica 0.
    PreAuthKey key = headscale.createPreAuthKey(List.of("tag:k8s"), false, false, Duration.ofHours(1));
    String common = "\"Locked\":false,\"ServerURL\":" + JSON.writeValueAsString(headscale.baseUrl())
        + ",\"AuthKey\":" + JSON.writeValueAsString(key.key()) + ",\"Hostname\":\"" + HOSTNAME + "\","
        + "\"acceptDNS\":false,\"acceptRoutes\":false";
    String cap95 = "{\"Version\":\"alpha0\"," + common + ",\"NoStatefulFiltering\":true}";
    String cap107 = "{\"Version\":\"alpha0\"," + common
        + ",\"AppConnector\":{\"Advertise\":false},\"NoStatefulFiltering\":true}";
    String fqdn = HOSTNAME + "." + headscale.baseDomain();
    // A plain-HTTP serve config (the operator's Ingress one is HTTPS, which headscale cannot serve).
    String serveConfig = "{\"TCP\":{\"80\":{\"HTTP\":true}},\"Web\":{\"" + fqdn + ":80\":{\"Handlers\":{\"/\":"
        + "{\"Proxy\":\"http://127.0.0.1:" + backend.getAddress().getPort() + "\"}}}}}";
    k.secrets().inNamespace(NS).resource(new SecretBuilder().withNewMetadata().withName(POD).endMetadata()
        .addToStringData("cap-95.hujson", cap95).addToStringData("cap-107.hujson", cap107)
        .addToStringData("serve-config", serveConfig).build()).create();

    String podUid = UUID.randomUUID().toString();
    String caPem = Files.readString(kube.caCertificate());
    Path firstWorkDir;
    String deviceId;
    try (ContainerbootProcess proxy = pod(podUid, caPem, token, cap95, cap107, serveConfig)) {
      firstWorkDir = proxy.workDir();
      proxy.awaitStartupComplete(BOOT);
      String log = Files.readString(proxy.logFile());
      assertThat(log).contains("Using tailscaled config file \"" + proxy.configDir().resolve("cap-107.hujson")
          + "\" to match current capability version 131");
      assertThat(log).doesNotContain(key.key());
      // the Event-permission check goes to kubernetes.default.svc:443 = 127.0.0.1:443 (private /etc/hosts): refused
      assertThat(log).contains("dial tcp 127.0.0.1:443");
      assertThat(log).doesNotContain("lookup kubernetes.default.svc on");

      Map<String, String> data = await(() -> secretData(k), d -> d.containsKey("device_fqdn"), "device_fqdn");
      HeadscaleNode node = headscale.nodeNamed(HOSTNAME).orElseThrow();
      deviceId = data.get("device_id");
      assertThat(deviceId).isEqualTo(node.id());
      assertThat(data.get("device_fqdn")).isEqualTo(fqdn + ".");
      assertThat(JSON.readValue(data.get("device_ips"), new TypeReference<List<String>>() { }))
          .isEqualTo(node.ipAddresses());
      assertThat(data.get("tailscale_capver")).isEqualTo("131");
      assertThat(data.get("pod_uid")).isEqualTo(podUid);
      // tailscaled's own kube state store keys, and the operator's keys left alone
      assertThat(data).containsKeys("_machinekey", "_profiles", "_current-profile", "cap-107.hujson",
          "serve-config");
      assertThat(node.tags()).containsExactly("tag:k8s");
      assertThat(node.registerMethod()).isEqualTo("REGISTER_METHOD_AUTH_KEY");

      // the proxy serves the backend on the tailnet
      client.awaitPeer(HOSTNAME, BOOT);
      HttpResponse<String> r = await(() -> tryGet("http://" + fqdn + "/"), x -> x != null && x.statusCode() == 200,
          "HTTP 200 from the proxy");
      assertThat(r.body()).isEqualTo("backend behind " + fqdn);
      assertThat(proxy.tailscale("status", "--json")).contains("\"BackendState\": \"Running\"");
      // headscale has no TLS certificates: containerboot applies the HTTP-only config and says so in the Secret
      assertThat(await(() -> secretData(k).get("https_endpoint"), "no-https"::equals, "https_endpoint"))
          .isEqualTo("no-https");

      // the host saw none of this: no service-account files, no changed /etc/hosts
      assertThat(Path.of("/var/run/secrets/kubernetes.io/serviceaccount/token")).doesNotExist();
      assertThat(Files.readString(Path.of("/etc/hosts"))).doesNotContain("kubernetes.default.svc");

      // SIGTERM, as on Pod deletion: containerboot checks the state Secret and stops tailscaled
      proxy.stop(Duration.ofSeconds(40));
      assertThat(proxy.isAlive()).isFalse();
      assertThat(proxy.exitCode()).isEqualTo(0);
      assertThat(Files.readString(proxy.logFile())).contains("tailscaled exited");
    }
    assertThat(firstWorkDir).doesNotExist();
    assertThat(leftovers(firstWorkDir)).isEmpty();

    // A new "Pod" (new work folder, new UID) with the same Secret resumes the same node from the Secret's state.
    String newUid = UUID.randomUUID().toString();
    try (ContainerbootProcess proxy = pod(newUid, caPem, token, cap95, cap107, serveConfig)) {
      proxy.awaitStartupComplete(BOOT);
      Map<String, String> data = await(() -> secretData(k),
          d -> newUid.equals(d.get("pod_uid")) && d.containsKey("device_fqdn"), "device info after the restart");
      assertThat(data.get("device_id")).isEqualTo(deviceId);
      assertThat(data.get("device_fqdn")).isEqualTo(fqdn + ".");
      assertThat(headscale.nodes()).extracting(HeadscaleNode::givenName).containsExactlyInAnyOrder("e2e-client",
          HOSTNAME);
    }
  }

  private static ContainerbootProcess pod(String podUid, String caPem, String token, String cap95, String cap107,
      String serveConfig) {
    return ContainerbootProcess.builder()
        .podName(POD)
        .podUid(podUid)
        .kubeApiServer("127.0.0.1", kube.port(), NS, caPem, token)
        .configFile("cap-95.hujson", cap95)
        .configFile("cap-107.hujson", cap107)
        .serveConfig(serveConfig)
        // as the operator's userspace (Ingress) proxy template sets them
        .env("TS_USERSPACE", "true")
        .env("POD_IP", "127.0.0.1")
        .env("TS_DEBUG_ACME_FORCE_RENEWAL", "true")
        .env("TS_INTERNAL_APP", "k8s-operator-ingress-resource")
        .start();
  }

  private static Map<String, String> secretData(KubernetesClient k) {
    Secret s = k.secrets().inNamespace(NS).withName(POD).get();
    Map<String, String> out = new LinkedHashMap<>();
    if (s != null && s.getData() != null) {
      s.getData().forEach((key, v) -> out.put(key, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    }
    return out;
  }

  private static HttpResponse<String> tryGet(String url) {
    try {
      return client.httpGet(url, Duration.ofSeconds(10));
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static List<ProcessHandle> leftovers(Path workDir) {
    return ProcessHandle.allProcesses()
        .filter(p -> p.info().arguments().map(a -> String.join(" ", a).contains(workDir.toString())).orElse(false))
        .toList();
  }

  private static <T> T await(java.util.function.Supplier<T> get, java.util.function.Predicate<T> ok, String what) {
    long deadline = System.nanoTime() + BOOT.toNanos();
    T v = get.get();
    while (!ok.test(v)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what + "; last value: " + v);
      }
      WatchedProcess.sleep(250);
      v = get.get();
    }
    return v;
  }
}
