package io.tailops.it.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.headscale.HeadscaleServer;
import io.tailops.testkit.headscale.TailnetClient;
import io.tailops.testkit.kube.KubeBinaries;
import io.tailops.testkit.podrunner.LocalPod;
import io.tailops.testkit.podrunner.LocalPodRunner;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * {@code kubectl} over a real tailnet: headscale, the operator device run as the chart runs it (the operator pod's
 * {@code tailscale} container: real containerboot and tailscaled configured through the Secret {@code operator}, its
 * LocalAPI socket shared with the operator), the operator with {@code APISERVER_PROXY=true}, and two tailnet clients
 * running the real {@code kubectl} through their SOCKS5 proxies: a user's device (alice, groups from a
 * {@code tailscale.com/cap/kubernetes} grant in headscale's policy) and a tagged device. headscale issues no
 * certificates, so kubectl talks plain HTTP to {@code http://<operator>.<tailnet>} (still WireGuard-encrypted).
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class ApiServerProxyE2EIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String HOSTNAME = "k3s-tailscale-operator";
  static final String NS = "kubectl-e2e";
  static final Duration TIMEOUT = Duration.ofSeconds(180);

  static OperatorEnvironment env;
  static LocalPodRunner operatorPods;
  static TailnetClient alice;
  static Path work;
  static Path deviceSocket;

  @BeforeAll
  static void start() throws Exception {
    env = OperatorEnvironment.create(OperatorEnvironment.Mode.REAL);
    work = Files.createTempDirectory(Path.of("/tmp"), "tsop-kx-");
    deviceSocket = work.resolve("device.sock");
    HeadscaleServer hs = env.headscale();
    // alice: a user of the tailnet, with a grant of the Kubernetes capability on the operator's device
    String userId = hs.api("POST", "/api/v1/user", "{\"name\":\"alice\",\"email\":\"alice@example.com\"}")
        .path("user").path("id").asText();
    // the operator policy of the other end-to-end tests, plus the grant
    hs.updatePolicy(HeadscaleServer.OPERATOR_POLICY.substring(0, HeadscaleServer.OPERATOR_POLICY.lastIndexOf('}'))
        + """
          "grants": [
            {
              "src": ["alice@example.com"],
              "dst": ["tag:k8s-operator"],
              "app": {"tailscale.com/cap/kubernetes": [{"impersonate": {"groups": ["tailnet-readers"]}}]},
            },
          ],
        }
        """);
    env.env("APISERVER_PROXY", "true").env("OPERATOR_SELF_DEVICE", "true").env("OPERATOR_APISERVER_PROXY_PORT", "0")
        .env("OPERATOR_DEVICE_SOCKET", deviceSocket.toString()).env("POD_NAME", "operator-6f7d9-x2k4q")
        .env("OPERATOR_HOSTNAME", HOSTNAME);
    env.startOperator();
    runOperatorDevice();
    String aliceKey = hs.api("POST", "/api/v1/preauthkey", "{\"user\":\"" + userId + "\",\"reusable\":false,"
        + "\"ephemeral\":false,\"expiration\":\"" + Instant.now().plus(Duration.ofHours(1)) + "\"}")
        .path("preAuthKey").path("key").asText();
    alice = TailnetClient.builder(hs).hostname("alice-laptop").authKey(aliceKey)
        .startupTimeout(Duration.ofSeconds(120)).start();
    var c = env.client();
    env.createNamespace(NS);
    c.rbac().roles().inNamespace(NS).resource(new RoleBuilder().withNewMetadata().withName("reader").endMetadata()
        .withRules(new PolicyRuleBuilder().withApiGroups("").withResources("configmaps")
            .withVerbs("get", "list", "watch").build()).build()).create();
    c.rbac().roleBindings().inNamespace(NS).resource(new RoleBindingBuilder().withNewMetadata()
        .withName("tailnet-readers").endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "Role", "reader")
        .addNewSubject().withKind("Group").withName("tailnet-readers").withApiGroup("rbac.authorization.k8s.io")
        .endSubject().build()).create();
    c.configMaps().inNamespace(NS).resource(new ConfigMapBuilder().withNewMetadata().withName("first").endMetadata()
        .addToData("k", "v").build()).create();
  }

  /**
   * The operator pod's {@code tailscale} container as templates/deployment.yaml defines it, run by a pod runner of
   * its own (the operator itself runs in-process); its LocalAPI socket is where {@code OPERATOR_DEVICE_SOCKET} points,
   * as the chart's shared volume makes it.
   */
  static void runOperatorDevice() {
    var c = env.client();
    // Its ServiceAccount and permissions are the chart's (the operator ServiceAccount and its Role, as in the
    // operator's Pod), which the environment applied: a request the chart does not grant fails the test.
    await("the operator's device Secret").atMost(TIMEOUT).until(() -> c.secrets().inNamespace("tailscale")
        .withName("operator").get() != null);
    Pod pod = new PodBuilder().withNewMetadata().withName("operator-6f7d9-x2k4q").withNamespace("tailscale")
        .addToLabels("app", "operator").endMetadata().withNewSpec().withServiceAccountName("operator")
        .addNewContainer().withName("tailscale").withImage(env.config().proxyImage())
        .addNewEnv().withName("TS_USERSPACE").withValue("true").endEnv()
        .addNewEnv().withName("POD_NAME").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name")
        .endFieldRef().endValueFrom().endEnv()
        .addNewEnv().withName("POD_UID").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.uid")
        .endFieldRef().endValueFrom().endEnv()
        .addNewEnv().withName("TS_KUBE_SECRET").withValue("operator").endEnv()
        .addNewEnv().withName("TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR").withValue("/etc/tsconfig/operator").endEnv()
        .addNewEnv().withName("TS_SERVE_CONFIG").withValue("/etc/tailscaled/operator/serve-config").endEnv()
        .addNewEnv().withName("TS_INTERNAL_APP").withValue("k8s-operator").endEnv()
        .addNewVolumeMount().withName("operator-config").withMountPath("/etc/tsconfig/operator").withReadOnly(true)
        .endVolumeMount()
        .addNewVolumeMount().withName("operator-serve-config").withMountPath("/etc/tailscaled/operator")
        .withReadOnly(true).endVolumeMount()
        .addNewVolumeMount().withName("tailscale-tmp").withMountPath("/tmp").endVolumeMount()
        .endContainer()
        .addNewVolume().withName("operator-config").withNewSecret().withSecretName("operator").withOptional(true)
        .endSecret().endVolume()
        .addNewVolume().withName("operator-serve-config").withNewSecret().withSecretName("operator")
        .withOptional(true).addNewItem().withKey("serve-config").withPath("serve-config").endItem().endSecret()
        .endVolume()
        .addNewVolume().withName("tailscale-tmp").withNewEmptyDir().endEmptyDir().endVolume()
        .endSpec().build();
    c.pods().inNamespace("tailscale").resource(pod).create();
    operatorPods = LocalPodRunner.builder(env.kube()).namespace("tailscale").label("app", "operator")
        .bindToNode(false).serviceProxy(false).binaries(env.pods().binaries()).start();
    LocalPod device = operatorPods.awaitStartupComplete("operator-6f7d9-x2k4q", TIMEOUT);
    try {
      Files.createSymbolicLink(deviceSocket, device.socket());
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    env.headscale().awaitNode(n -> HOSTNAME.equals(n.givenName()) && n.online(), "online node " + HOSTNAME, TIMEOUT);
    await("the operator's device name in the status").atMost(TIMEOUT).until(() -> env.operator().apiServerProxy()
        .status().endpoint().equals("http://" + fqdn()));
  }

  @AfterAll
  static void stop() {
    for (AutoCloseable c : new AutoCloseable[] {alice, operatorPods, env}) {
      try {
        if (c != null) {
          c.close();
        }
      } catch (Exception e) {
        // keep closing
      }
    }
  }

  static String fqdn() {
    return HOSTNAME + "." + env.headscale().baseDomain();
  }

  /** A kubeconfig for {@code http://<operator>.<tailnet>} through a tailnet client's SOCKS5 proxy, no credentials. */
  static Path kubeconfig(TailnetClient via) throws Exception {
    Path f = work.resolve("kubeconfig-" + via.hostname());
    Files.writeString(f, io.tailops.it.ApiServerProxyUpgradeIT.kubeconfigYaml("http://" + fqdn(),
        "socks5://127.0.0.1:" + via.socks5Address().getPort()));
    return f;
  }

  record Result(int exit, String out) {
  }

  static List<String> kubectl(TailnetClient via, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(KubeBinaries.locate().require(KubeBinaries.KUBECTL).kubectl()
        .toString(), "--kubeconfig", kubeconfig(via).toString(), "--cache-dir", work.resolve("cache-"
        + via.hostname()).toString()));
    cmd.addAll(List.of(args));
    return cmd;
  }

  static Result run(TailnetClient via, String... args) throws Exception {
    Process p = new ProcessBuilder(kubectl(via, args)).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out);
  }

  /** kubectl until it succeeds (the first requests wait for the path between the two devices). */
  static Result runUntilOk(TailnetClient via, String... args) {
    Result[] last = new Result[1];
    await("kubectl " + String.join(" ", args) + " through " + via.hostname()).atMost(TIMEOUT)
        .pollInterval(Duration.ofSeconds(2)).until(() -> {
          last[0] = run(via, args);
          return last[0].exit() == 0;
        });
    return last[0];
  }

  @Test
  void a1KubectlGetRunsAsTheTailnetUserWithTheGroupsOfTheGrant() throws Exception {
    Result who = runUntilOk(alice, "auth", "whoami", "-o", "json");
    JsonNode info = JSON.readTree(who.out()).path("status").path("userInfo");
    assertThat(info.path("username").asText()).isEqualTo("alice@example.com");
    assertThat(info.path("groups").toString()).isEqualTo("[\"tailnet-readers\",\"system:authenticated\"]");
    Result get = run(alice, "get", "configmaps", "-n", NS, "-o", "name");
    assertThat(get.exit()).as(get.out()).isZero();
    assertThat(get.out()).contains("configmap/first");
  }

  @Test
  void a2ARequestOutsideTheIdentitysRbacIsRefusedByTheApiServer() throws Exception {
    runUntilOk(alice, "get", "configmaps", "-n", NS);
    Result denied = run(alice, "get", "secrets", "-n", "kube-system");
    assertThat(denied.exit()).isNotZero();
    assertThat(denied.out()).contains("Error from server (Forbidden): secrets is forbidden: User "
        + "\"alice@example.com\" cannot list resource \"secrets\" in API group \"\" in the namespace \"kube-system\"");
  }

  @Test
  void a3KubectlGetWatchStreamsChanges() throws Exception {
    runUntilOk(alice, "get", "configmaps", "-n", NS);
    Process watch = new ProcessBuilder(kubectl(alice, "get", "configmaps", "-n", NS, "-w", "-o", "name"))
        .redirectErrorStream(true).start();
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(watch.getInputStream(),
        StandardCharsets.UTF_8))) {
      CompletableFuture<List<String>> seen = CompletableFuture.supplyAsync(() -> {
        List<String> got = new ArrayList<>();
        try {
          String l;
          while ((l = lines.readLine()) != null) {
            got.add(l);
            if (l.contains("configmap/watched-later")) {
              return got;
            }
            if (l.contains("configmap/first")) {
              // the initial list is there: the watch is established; now change something
              env.client().configMaps().inNamespace(NS).resource(new ConfigMapBuilder().withNewMetadata()
                  .withName("watched-later").endMetadata().addToData("k", "v").build()).create();
            }
          }
          return got;
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      assertThat(seen.get(120, TimeUnit.SECONDS)).contains("configmap/first", "configmap/watched-later");
    } finally {
      watch.destroy();
      watch.waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void a4ATaggedDeviceIsItsNameWithItsTags() throws Exception {
    Result who = runUntilOk(env.tailnetClient(), "auth", "whoami", "-o", "json");
    JsonNode info = JSON.readTree(who.out()).path("status").path("userInfo");
    assertThat(info.path("username").asText()).isEqualTo(OperatorEnvironment.CLIENT_HOSTNAME + "."
        + env.headscale().baseDomain());
    assertThat(info.path("groups").toString()).isEqualTo("[\"tag:e2e-client\",\"system:authenticated\"]");
    Result denied = run(env.tailnetClient(), "get", "configmaps", "-n", NS);
    assertThat(denied.out()).contains("User \"" + OperatorEnvironment.CLIENT_HOSTNAME + "."
        + env.headscale().baseDomain() + "\" cannot list resource \"configmaps\"");
  }

  @Test
  void a5TheStatusSaysWhereKubectlGoesAndThatItIsPlainHttp() throws Exception {
    await().atMost(TIMEOUT).until(() -> {
      var cm = env.client().configMaps().inNamespace("tailscale").withName("tailscale-operator-status").get();
      return cm != null && cm.getData() != null && cm.getData().getOrDefault("apiServerProxy", "").contains(
          "kubectl server: http://" + fqdn() + " (plain HTTP: the control plane issues no TLS certificates");
    });
    String doctor = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + env.operator().adminPort() + "/doctor")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    assertThat(doctor).contains("ok   api server proxy: APISERVER_PROXY=true: kubectl server http://" + fqdn()
        + " (plain HTTP: the control plane issues no TLS certificates; traffic is still encrypted by WireGuard)");
  }
}
