package io.tailops.it;

import static io.tailops.it.ServiceExposeIT.clusterIp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.tailscale.FakeDevice;
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

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    env.env("OPERATOR_SELF_DEVICE", "true").env("OPERATOR_HOSTNAME", "k3s-tailscale-operator")
        .env("POD_NAME", "operator-7d9f-abcde");
    env.startOperator();
  }

  @AfterAll
  static void stop() {
    env.close();
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
    assertThat(value(s, "serve-config")).isEqualTo("{\"TCP\":{\"443\":{\"HTTPS\":true}},\"Web\":{\"${TS_CERT_DOMAIN}:443\":"
        + "{\"Handlers\":{\"/\":{\"Proxy\":\"http://127.0.0.1:" + env.operator().httpPort() + "/status\"}}}}}");

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
        "http://127.0.0.1:" + env.operator().httpPort() + "/status")).build(), HttpResponse.BodyHandlers.ofString());
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
    String url = "http://127.0.0.1:" + env.operator().httpPort() + "/status";
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
