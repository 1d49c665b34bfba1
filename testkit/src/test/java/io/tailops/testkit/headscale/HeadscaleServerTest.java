package io.tailops.testkit.headscale;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
/** headscale v0.29.2 on loopback: start-up, API key, pre-auth keys, policy, restart, clean shutdown. */
class HeadscaleServerTest {

  private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  @Test
  void startsAnswersHealthAndTheApiKeyWorks() throws Exception {
    try (HeadscaleServer hs = HeadscaleServer.builder().start()) {
      assertThat(hs.port()).isNotEqualTo(8080);
      assertThat(hs.baseUrl()).startsWith("http://127.0.0.1:");
      HttpResponse<String> health = get(hs.baseUrl() + "/health", null);
      assertThat(health.statusCode()).isEqualTo(200);
      assertThat(health.body()).contains("\"status\":\"pass\"");

      // the API key from the CLI authenticates REST calls; a wrong one gets the plain-text 401
      assertThat(hs.apiKey()).startsWith("hskey-api-");
      assertThat(get(hs.baseUrl() + "/api/v1/node", hs.apiKey()).body()).isEqualTo("{\"nodes\":[]}");
      HttpResponse<String> denied = get(hs.baseUrl() + "/api/v1/node", "hskey-api-wrong-key");
      assertThat(denied.statusCode()).isEqualTo(401);
      assertThat(denied.body()).isEqualTo("Unauthorized");

      // kept in a file only the owner reads, without a newline; never in headscale's log
      assertThat(Files.readString(hs.apiKeyFile())).isEqualTo(hs.apiKey());
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(hs.apiKeyFile()))).isEqualTo("rw-------");
      assertThat(Files.readString(hs.logFile())).contains("listening and serving HTTP").doesNotContain(hs.apiKey());

      // the generated configuration: loopback only, no DERP map download, embedded DERP and STUN
      String config = Files.readString(hs.configFile());
      assertThat(config).contains("urls: []", "disable_check_updates: true", "ipv4: 127.0.0.1",
          "stun_listen_addr: \"127.0.0.1:" + hs.stunPort() + "\"", "base_domain: \"tailnet.test\"");
      assertThat(hs.socket().toString().length()).isLessThan(100);
      assertThat(hs.cli("users", "list", "-o", "json").strip()).isIn("[]", "null", "");
    }
  }

  @Test
  void preAuthKeysCarryTagsAndAnExplicitExpiration() {
    try (HeadscaleServer hs = HeadscaleServer.builder().start()) {
      PreAuthKey key = hs.createPreAuthKey(List.of("tag:k8s", "tag:e2e-client"), true, false, Duration.ofHours(2));
      assertThat(key.key()).startsWith("hskey-auth-");
      assertThat(key.toString()).doesNotContain(key.key());
      assertThat(key.tags()).containsExactly("tag:e2e-client", "tag:k8s"); // headscale sorts them
      assertThat(key.reusable()).isTrue();
      assertThat(key.expiration()).isBetween(Instant.now().plus(Duration.ofMinutes(115)),
          Instant.now().plus(Duration.ofMinutes(125)));

      List<PreAuthKey> listed = hs.preAuthKeys();
      assertThat(listed).extracting(PreAuthKey::id).containsExactly(key.id());
      assertThat(listed.get(0).key()).endsWith("***"); // listed keys are masked

      // tag format is checked at creation: InvalidArgument, HTTP 400, grpc-gateway error body
      assertThatThrownBy(() -> hs.createPreAuthKey("Tag:Bad"))
          .hasMessageContaining("HTTP 400")
          .hasMessageContaining("\"code\":3");
      // neither tags nor user: gRPC Unknown, which v0.29.2 maps to HTTP 500
      assertThatThrownBy(() -> hs.createPreAuthKey(List.of(), false, false, Duration.ofHours(1)))
          .hasMessageContaining("HTTP 500")
          .hasMessageContaining("auth-key must be either tagged or owned by user");
    }
  }

  @Test
  void restartKeepsPortDatabaseAndApiKeyAndCloseLeavesNoProcess() throws Exception {
    HeadscaleServer hs = HeadscaleServer.builder().start();
    Path workDir = hs.workDir();
    ProcessHandle first;
    try (hs) {
      int port = hs.port();
      String apiKey = hs.apiKey();
      PreAuthKey key = hs.createPreAuthKey("tag:k8s");
      first = headscaleProcess(hs);

      hs.restart();
      ProcessHandle second = headscaleProcess(hs);
      assertThat(second.pid()).isNotEqualTo(first.pid());
      assertThat(first.isAlive()).isFalse();
      assertThat(hs.port()).isEqualTo(port);
      assertThat(hs.apiKey()).isEqualTo(apiKey);
      assertThat(hs.preAuthKeys()).extracting(PreAuthKey::id).containsExactly(key.id());

      hs.stop();
      assertThat(second.isAlive()).isFalse();
      assertThat(hs.healthy()).isFalse();
      hs.start();
      assertThat(hs.healthy()).isTrue();
      first = headscaleProcess(hs);
    }
    assertThat(first.isAlive()).isFalse();
    assertThat(Files.exists(workDir)).isFalse();
    assertThat(ProcessHandle.current().descendants()
        .filter(p -> p.info().arguments().map(a -> String.join(" ", a).contains(workDir.toString())).orElse(false))
        .toList()).isEmpty();
  }

  @Test
  void servesAndReloadsAPolicyFile() {
    try (HeadscaleServer hs = HeadscaleServer.builder().policy(HeadscaleServer.OPERATOR_POLICY).start()) {
      assertThat(hs.policy()).contains("\"tag:k8s\": [\"tag:k8s-operator\"]");
      String changed = HeadscaleServer.OPERATOR_POLICY.replace("\"tag:e2e-client\": [],",
          "\"tag:e2e-client\": [], \"tag:extra\": [\"tag:k8s-operator\"],");
      hs.updatePolicy(changed);
      assertThat(hs.policy()).contains("tag:extra");
      assertThat(hs.process().findLogLine(l -> l.contains("Received SIGHUP"))).isPresent();
      assertThat(hs.process().findLogLine(l -> l.contains("reloading policy") && l.contains("ERR"))).isEmpty();
    }
  }

  @Test
  void withoutAPolicyThePolicyEndpointFails() {
    try (HeadscaleServer hs = HeadscaleServer.builder().start()) {
      HeadscaleServer.ApiResponse r = hs.apiCall("GET", "/api/v1/policy", null);
      assertThat(r.status()).isEqualTo(500);
      assertThat(r.body()).contains("reading policy from path");
    }
  }

  @Test
  void databasePolicyModeTakesThePolicyThroughTheApi() {
    try (HeadscaleServer hs = HeadscaleServer.builder().policyMode(HeadscaleServer.PolicyMode.DATABASE)
        .policy(HeadscaleServer.OPERATOR_POLICY).start()) {
      assertThat(hs.policy()).contains("tag:k8s-operator");
      hs.updatePolicy("{\"tagOwners\": {\"tag:only\": []}}");
      assertThat(hs.policy()).contains("tag:only").doesNotContain("tag:k8s-operator");
    }
  }

  @Test
  void aMissingBinaryNamesTheBuildCommand() {
    TailnetBinaries none = new TailnetBinaries(Path.of("/nonexistent/ts"), "1.94.2", Path.of("/nonexistent/hs"),
        "0.29.2");
    assertThatThrownBy(() -> HeadscaleServer.builder().binaries(none).start())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(TailnetBinaries.BUILD_COMMAND);
  }

  private static ProcessHandle headscaleProcess(HeadscaleServer hs) {
    return hs.process().program().orElseThrow();
  }

  private static HttpResponse<String> get(String url, String bearer) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
