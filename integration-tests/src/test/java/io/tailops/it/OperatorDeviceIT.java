package io.tailops.it;

import static io.tailops.it.ServiceExposeIT.clusterIp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.tailscale.Endpoint;
import io.tailops.testkit.tailscale.FakeDevice;
import io.tailops.testkit.tailscale.FakeLocalApi;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The operator's own tailnet device (configured through its device Secret, as the chart's {@code tailscale}
 * container expects) and the status page it serves, checked in a real headless browser.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class OperatorDeviceIT {
  static OperatorEnvironment env;
  /** The device's whois: alice has the status page grant, bob has none. */
  static FakeLocalApi localApi;
  static final String ALICE = "100.64.0.7";
  static final String BOB = "100.64.0.8";

  @BeforeAll
  static void start() {
    localApi = FakeLocalApi.start(Path.of("/tmp", "tsop-slapi-" + ProcessHandle.current().pid() + ".sock"))
        .user(ALICE, "alice-laptop.tailnet.test", "alice@example.com", "{\"tailops.io/cap/status\":[{}]}")
        .user(BOB, "bob-phone.tailnet.test", "bob@example.com", "{}");
    env = OperatorEnvironment.create();
    env.env("OPERATOR_SELF_DEVICE", "true").env("OPERATOR_HOSTNAME", "k3s-tailscale-operator")
        .env("POD_NAME", "operator-7d9f-abcde").env("OPERATOR_DEVICE_SOCKET", localApi.socket().toString());
    env.startOperator();
  }

  @AfterAll
  static void stop() {
    env.close();
    localApi.close();
  }

  static Secret deviceSecret() {
    return env.client().secrets().inNamespace("tailscale").withName("operator").get();
  }

  static String value(Secret s, String key) {
    String v = s.getData().get(key);
    return v == null ? null : new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8);
  }

  @Test
  void a1TheOperatorDeviceIsConfiguredLikeAProxyAndJoinsAsK3sTailscaleOperator() throws Exception {
    await().atMost(Duration.ofSeconds(30)).until(() -> deviceSecret() != null);
    Secret s = deviceSecret();
    String config = value(s, "cap-107.hujson");
    assertThat(config).contains("\"Hostname\":\"k3s-tailscale-operator\"").contains("\"AuthKey\":\"tskey-auth-")
        .contains("\"ServerURL\":\"" + env.tailnet().baseUrl() + "\"");
    assertThat(value(s, "leader")).isEqualTo("operator-7d9f-abcde");
    // Its key is short-lived like every key the operator mints, and names the operator instance.
    String keyId = s.getMetadata().getAnnotations().get("tailscale.com/auth-key-id");
    assertThat(env.tailnet().keys()).filteredOn(k -> k.id().equals(keyId)).singleElement().satisfies(k -> {
      assertThat(k.description()).matches("k3s-tailscale-operator own device op[0-9a-f]{10}");
      assertThat(Duration.between(k.created(), k.expires())).isEqualTo(Duration.ofMinutes(30));
      assertThat(Duration.between(java.time.Instant.parse(s.getMetadata().getAnnotations()
          .get("tailscale.com/auth-key-expires")), k.expires()).abs()).isLessThan(Duration.ofSeconds(1));
    });
    assertThat(value(s, "serve-config")).isEqualTo("{\"TCP\":{\"443\":{\"HTTPS\":true}},\"Web\":{\"${TS_CERT_DOMAIN}:443\":"
        + "{\"Handlers\":{\"/\":{\"Proxy\":\"http://127.0.0.1:" + env.operator().adminPort() + "/tailnet\"}}}}}");

    // What containerboot in the operator pod's tailscale container does with it:
    String key = new ObjectMapper().readTree(config).get("AuthKey").asText();
    FakeDevice device = env.tailnet().registerDevice(key, "k3s-tailscale-operator");
    env.client().secrets().inNamespace("tailscale").withName("operator").patch(PatchContext.of(PatchType.JSON_MERGE),
        new ObjectMapper().writeValueAsString(Map.of("data", Map.of(
            "device_id", b64(device.nodeId()), "device_fqdn", b64(device.name() + "."),
            "device_ips", b64("[\"" + device.ipv4() + "\"]"), "https_endpoint", b64(device.name())))));
    assertThat(device.tags()).containsExactly("tag:k8s-operator");
    assertThat(device.name()).startsWith("k3s-tailscale-operator.");
    // Once the device exists, the key leaves the config, and the device is remembered.
    await().atMost(Duration.ofSeconds(30)).until(() -> !value(deviceSecret(), "cap-107.hujson").contains("AuthKey"));
    await().atMost(Duration.ofSeconds(30)).until(() -> device.nodeId().equals(deviceSecret().getMetadata()
        .getAnnotations().get("tailscale.com/device-id")));
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void a2TheStatusPageShowsWhatIsExposedAndEscapesNames() throws Exception {
    env.createNamespace("status-demo");
    env.client().resource(clusterIp("status-demo", "grafana", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "grafana"))).create();
    env.client().resource(clusterIp("status-demo", "broken", Map.of("tailscale.com/expose", "true",
        "tailscale.com/tags", "<script>alert(1)</script>"))).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> ServiceExposeIT.ready(env.client().services()
        .inNamespace("status-demo").withName("grafana").get()).map(c -> "True".equals(c.getStatus())).orElse(false));
    await().atMost(Duration.ofSeconds(60)).until(() -> ServiceExposeIT.ready(env.client().services()
        .inNamespace("status-demo").withName("broken").get()).isPresent());
    HttpResponse<String> resp = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
        "http://127.0.0.1:" + env.operator().adminPort() + "/status")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(resp.statusCode()).isEqualTo(200);
    assertThat(resp.headers().firstValue("Content-Type").orElse("")).startsWith("text/html");
    String html = resp.body();
    assertThat(html).contains("<title>k3s-tailscale-operator · Tailscale operator</title>")
        .contains("status-demo/grafana").contains("grafana." + env.tailnet().tailnetDomain())
        .contains("ProxyInvalid").contains("&lt;script&gt;").doesNotContain("<script>")
        .contains("Doctor").contains("Credentials");
  }

  @Test
  void a3TheStatusPageRendersInAHeadlessBrowser() throws Exception {
    Path chromium = java.util.Arrays.stream(System.getenv().getOrDefault("PATH", "").split(":"))
        .filter(d -> !d.isEmpty()).map(d -> Path.of(d, "chromium")).filter(Files::isExecutable).findFirst()
        .orElse(null);
    Assumptions.assumeTrue(chromium != null, "chromium is not on PATH (Debian package chromium; as root, "
        + "bash tools/install-test-packages.sh installs it)");
    String url = "http://127.0.0.1:" + env.operator().adminPort() + "/status";
    Path profile = Files.createTempDirectory("chromium-profile");
    Path shots = Path.of("target", "screenshots");
    Files.createDirectories(shots);
    String dom = run(chromium(chromium, profile, "--dump-dom", url));
    assertThat(dom).contains("Exposed on the tailnet").contains("status-demo/grafana").contains("Doctor");
    for (String[] size : new String[][] {{"desktop", "1200,900"}, {"phone", "390,844"}}) {
      Path png = shots.resolve("status-page-" + size[0] + ".png").toAbsolutePath();
      run(chromium(chromium, profile, "--window-size=" + size[1], "--screenshot=" + png, url));
      assertThat(png).exists();
      assertThat(Files.size(png)).isGreaterThan(10_000);
    }
  }

  static HttpResponse<String> get(int port, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path));
    if (headers.length > 0) {
      b.headers(headers);
    }
    return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void a4TheClusterFacingPortServesOnlyProbesAndMetrics() throws Exception {
    int port = env.operator().httpPort();
    assertThat(get(port, "/healthz").statusCode()).isEqualTo(200);
    assertThat(get(port, "/readyz").statusCode()).isEqualTo(200);
    assertThat(get(port, "/metrics").body()).contains("tailscale_operator");
    for (String path : List.of("/", "/status", "/doctor", "/doctor.json", "/tailnet", "/tailnet/doctor",
        "/status/metrics")) {
      assertThat(get(port, path).statusCode()).as(path).isEqualTo(404);
    }
    // The status page and doctor listen on loopback only: kubectl port-forward, or the device's serve config.
    assertThat(env.operator().adminAddress().getAddress().isLoopbackAddress()).isTrue();
    assertThat(get(env.operator().adminPort(), "/doctor").body()).contains("ok   token:");
  }

  @Test
  void a5DoctorRunsAtMostOncePerIntervalHoweverManyAsk() throws Exception {
    int runsBefore = env.operator().doctorResults().runs();
    int policyReadsBefore = env.tailnet().calls(Endpoint.GET_POLICY);
    List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> answers = new ArrayList<>();
    HttpClient http = HttpClient.newHttpClient();
    for (int i = 0; i < 20; i++) {
      answers.add(http.sendAsync(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + env.operator().adminPort()
          + (i % 2 == 0 ? "/doctor" : "/doctor.json"))).build(), HttpResponse.BodyHandlers.ofString()));
    }
    for (var a : answers) {
      HttpResponse<String> r = a.get(60, TimeUnit.SECONDS);
      // 503 when a check fails: this class's Service status-demo/broken is not served, and doctor says so
      assertThat(r.statusCode()).as("doctor's answer: %s", r.body()).isIn(200, 503);
      assertThat(r.body()).contains("credentials");
      assertThat(r.headers().firstValue("Age")).isPresent();
    }
    // 20 requests, at most one run (none if the last run is younger than OPERATOR_DOCTOR_MIN_INTERVAL, 30 s): one
    // run reads the policy once, so the control plane saw at most one policy read.
    assertThat(env.operator().doctorResults().runs() - runsBefore).isLessThanOrEqualTo(1);
    assertThat(env.tailnet().calls(Endpoint.GET_POLICY) - policyReadsBefore).isLessThanOrEqualTo(1);
  }

  @Test
  void a6OnTheTailnetOnlyCallersWithTheStatusPageGrantSeeIt() throws Exception {
    int admin = env.operator().adminPort();
    HttpResponse<String> alice = get(admin, "/tailnet", "X-Forwarded-For", ALICE);
    assertThat(alice.statusCode()).isEqualTo(200);
    assertThat(alice.body()).contains("Exposed on the tailnet").contains("Doctor");
    assertThat(get(admin, "/tailnet/doctor", "X-Forwarded-For", ALICE).body()).contains("ok   token:");
    HttpResponse<String> bob = get(admin, "/tailnet", "X-Forwarded-For", BOB);
    assertThat(bob.statusCode()).isEqualTo(403);
    assertThat(bob.body()).startsWith("bob@example.com on bob-phone.tailnet.test may not see this operator's status page")
        .contains("tailops.io/cap/status").doesNotContain("Exposed on the tailnet");
    assertThat(get(admin, "/tailnet/doctor", "X-Forwarded-For", BOB).statusCode()).isEqualTo(403);
    assertThat(get(admin, "/tailnet", "X-Forwarded-For", "100.64.0.99").statusCode()).isEqualTo(403);
    assertThat(get(admin, "/tailnet").statusCode()).isEqualTo(403);
    assertThat(get(admin, "/tailnet", "X-Forwarded-For", BOB + ", " + ALICE).statusCode()).isEqualTo(403);
  }

  static List<String> chromium(Path chromium, Path profile, String... args) {
    List<String> cmd = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", "--user-data-dir=" + profile));
    cmd.addAll(List.of(args));
    return cmd;
  }

  static String run(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new String(out, StandardCharsets.UTF_8);
  }
}
