package io.tailops.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.tailops.local.OperatorEnvironment;
import io.tailops.operator.apiproxy.ApiServerProxy;
import io.tailops.operator.apiproxy.ApiServerProxyStatus;
import io.tailops.operator.apiproxy.LocalApiWhoIs;
import io.tailops.operator.apiproxy.Upstream;
import io.tailops.operator.config.ApiServerProxySettings.Mode;
import io.tailops.testkit.tailscale.FakeLocalApi;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The Kubernetes API server proxy of the operator's device against the real API server, with a stand-in for the
 * device's LocalAPI whois ({@link FakeLocalApi}: identities and grants as tailscaled reports them) and requests as the
 * device's serve config forwards them (with {@code X-Forwarded-For}). What the API server makes of each request is
 * read back from the API server itself ({@code SelfSubjectReview}, RBAC answers, the audit log).
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class ApiServerProxyIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String ALICE = "100.64.0.10";
  static final String BOB = "100.64.0.11";
  static final String CI = "100.64.0.12";
  static final String CAROL = "100.64.0.13";
  static final String DAVE = "100.64.0.14";
  static final String CAP = "tailscale.com/cap/kubernetes";

  static OperatorEnvironment env;
  static FakeLocalApi localApi;
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    localApi = FakeLocalApi.start(Path.of("/tmp", "tsop-lapi-" + ProcessHandle.current().pid() + ".sock"))
        .user(ALICE, "alice-laptop.tailnet.test", "alice@example.com", "{}")
        .user(BOB, "bob-laptop.tailnet.test", "bob@example.com",
            "{\"" + CAP + "\":[{\"impersonate\":{\"groups\":[\"team-b-readers\"]}}]}")
        .tagged(CI, "ci-runner.tailnet.test", List.of("tag:ci"), "{}")
        .user(CAROL, "carol-laptop.tailnet.test", "carol@example.com",
            "{\"" + CAP + "\":[{\"recorder\":[\"tag:k8s-recorder\"],\"enforceRecorder\":true}]}")
        .user(DAVE, "dave-laptop.tailnet.test", "dave@example.com",
            "{\"" + CAP + "\":[{\"recorder\":[\"tag:k8s-recorder\"],\"enableEvents\":true}]}");
    env.env("APISERVER_PROXY", "true").env("OPERATOR_SELF_DEVICE", "true").env("OPERATOR_APISERVER_PROXY_PORT", "0")
        .env("OPERATOR_DEVICE_SOCKET", localApi.socket().toString()).env("POD_NAME", "operator-7d9f-abcde")
        .env("OPERATOR_HOSTNAME", "k3s-tailscale-operator");
    env.startOperator();
    var c = env.client();
    for (String ns : List.of("team-a", "team-b")) {
      env.createNamespace(ns);
    }
    c.rbac().roles().inNamespace("team-a").resource(new RoleBuilder().withNewMetadata().withName("reader")
        .endMetadata().withRules(new PolicyRuleBuilder().withApiGroups("").withResources("pods", "configmaps")
            .withVerbs("get", "list", "watch").build()).build()).create();
    c.rbac().roleBindings().inNamespace("team-a").resource(new RoleBindingBuilder().withNewMetadata()
        .withName("alice").endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "Role", "reader")
        .addNewSubject().withKind("User").withName("alice@example.com").withApiGroup("rbac.authorization.k8s.io")
        .endSubject().build()).create();
    c.rbac().roles().inNamespace("team-b").resource(new RoleBuilder().withNewMetadata().withName("reader")
        .endMetadata().withRules(new PolicyRuleBuilder().withApiGroups("").withResources("pods")
            .withVerbs("get", "list", "watch").build()).build()).create();
    c.rbac().roleBindings().inNamespace("team-b").resource(new RoleBindingBuilder().withNewMetadata()
        .withName("team-b-readers").endMetadata().withNewRoleRef("rbac.authorization.k8s.io", "Role", "reader")
        .addNewSubject().withKind("Group").withName("team-b-readers").withApiGroup("rbac.authorization.k8s.io")
        .endSubject().build()).create();
  }

  @AfterAll
  static void stop() {
    if (env != null) {
      env.close();
    }
    if (localApi != null) {
      localApi.close();
    }
  }

  static String proxyUrl() {
    return "http://127.0.0.1:" + env.operator().apiServerProxy().port();
  }

  /** A request as the device's serve config forwards it for the tailnet caller at {@code callerIp}. */
  static HttpResponse<String> send(String callerIp, String method, String path, String body, String... headers)
      throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(proxyUrl() + path)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (callerIp != null) {
      b.header("X-Forwarded-For", callerIp);
    }
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** {@code kubectl auth whoami} through the proxy: the user the API server sees. */
  static JsonNode whoami(String callerIp, String... headers) throws Exception {
    HttpResponse<String> r = send(callerIp, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}", headers);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return JSON.readTree(r.body()).path("status").path("userInfo");
  }

  static List<String> groups(JsonNode userInfo) {
    List<String> out = new ArrayList<>();
    userInfo.path("groups").forEach(g -> out.add(g.asText()));
    return out;
  }

  @Test
  void a1AUserIsImpersonatedByLoginNameAndCannotClaimMore() throws Exception {
    JsonNode who = whoami(ALICE);
    assertThat(who.path("username").asText()).isEqualTo("alice@example.com");
    assertThat(groups(who)).containsExactly("system:authenticated");
    assertThat(send(ALICE, "GET", "/api/v1/namespaces/team-a/pods", null).statusCode()).isEqualTo(200);
    HttpResponse<String> denied = send(ALICE, "GET", "/api/v1/namespaces/team-b/pods", null);
    assertThat(denied.statusCode()).isEqualTo(403);
    assertThat(JSON.readTree(denied.body()).path("message").asText()).isEqualTo("pods is forbidden: User "
        + "\"alice@example.com\" cannot list resource \"pods\" in API group \"\" in the namespace \"team-b\"");
    // Whatever the caller sends to claim more is replaced by its tailnet identity.
    String[] claims = {"Authorization", "Bearer not-a-token", "Impersonate-User", "system:admin",
        "Impersonate-Group", "system:masters", "Impersonate-Extra-Scopes", "all"};
    JsonNode claimed = whoami(ALICE, claims);
    assertThat(claimed.path("username").asText()).isEqualTo("alice@example.com");
    assertThat(groups(claimed)).containsExactly("system:authenticated");
    assertThat(claimed.has("extra")).isFalse();
    assertThat(send(ALICE, "GET", "/api/v1/namespaces/team-b/pods", null, claims).statusCode()).isEqualTo(403);
  }

  @Test
  void a2GroupsComeFromTheGrantCapability() throws Exception {
    JsonNode who = whoami(BOB);
    assertThat(who.path("username").asText()).isEqualTo("bob@example.com");
    assertThat(groups(who)).containsExactly("team-b-readers", "system:authenticated");
    assertThat(send(BOB, "GET", "/api/v1/namespaces/team-b/pods", null).statusCode()).isEqualTo(200);
    assertThat(send(BOB, "GET", "/api/v1/namespaces/team-a/pods", null).statusCode()).isEqualTo(403);
  }

  @Test
  void a3ATaggedDeviceIsItsNameWithItsTagsAsGroups() throws Exception {
    JsonNode who = whoami(CI);
    assertThat(who.path("username").asText()).isEqualTo("ci-runner.tailnet.test");
    assertThat(groups(who)).containsExactly("tag:ci", "system:authenticated");
  }

  @Test
  void a4NoIdentityNoRequest() throws Exception {
    var mark = env.mark();
    for (String caller : new String[] {"100.64.9.9", null}) {
      HttpResponse<String> r = send(caller, "GET", "/api/v1/namespaces/no-identity/pods", null);
      assertThat(r.statusCode()).isEqualTo(500);
      assertThat(r.body()).isEqualTo("failed to authenticate caller\n");
    }
    // A refused request with a body still gets its answer (the body is read before the connection closes).
    HttpResponse<String> withBody = send("100.64.9.9", "POST", "/api/v1/namespaces/no-identity/configmaps",
        "{\"data\":{\"k\":\"" + "x".repeat(300_000) + "\"}}");
    assertThat(withBody.statusCode()).isEqualTo(500);
    // Not from serve: two addresses (a caller cannot prepend its own to serve's)
    assertThat(send("100.64.0.10, 100.64.9.9", "GET", "/api/v1/namespaces/no-identity/pods", null).statusCode())
        .isEqualTo(500);
    // The signal that everything before it reached the API server or never will: an identified request after it.
    assertThat(send(ALICE, "GET", "/api/v1/namespaces/team-a/configmaps?marker=a4", null).statusCode())
        .isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> env.kube().audit().since(mark).stream()
        .anyMatch(e -> e.requestUri().contains("marker=a4")));
    assertThat(env.kube().audit().since(mark).stream().filter(e -> e.requestUri().contains("/no-identity/")))
        .isEmpty();
    assertThat(env.operator().apiServerProxy().status().lastRefusal()).isNotNull();
  }

  @Test
  void a5WatchesStream() throws Exception {
    HttpRequest req = HttpRequest.newBuilder(URI.create(proxyUrl()
        + "/api/v1/namespaces/team-a/configmaps?watch=1&timeoutSeconds=60")).header("X-Forwarded-For", ALICE).build();
    HttpResponse<java.io.InputStream> r = HTTP.send(req, HttpResponse.BodyHandlers.ofInputStream());
    assertThat(r.statusCode()).isEqualTo(200);
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
      CompletableFuture<String> added = CompletableFuture.supplyAsync(() -> {
        try {
          String l;
          while ((l = lines.readLine()) != null) {
            if (l.contains("\"ADDED\"") && l.contains("watched-later")) {
              return l;
            }
          }
          return null;
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      env.client().configMaps().inNamespace("team-a").resource(new ConfigMapBuilder().withNewMetadata()
          .withName("watched-later").endMetadata().addToData("k", "v").build()).create();
      assertThat(added.get(60, TimeUnit.SECONDS)).contains("\"type\":\"ADDED\"");
    }
  }

  @Test
  void a6RecordingAsksAreEnforcedOrSaid() throws Exception {
    var mark = env.mark();
    HttpResponse<String> carol = send(CAROL, "GET", "/api/v1/namespaces/team-a/pods?recorded=no", null);
    assertThat(carol.statusCode()).isEqualTo(403);
    assertThat(carol.body()).isEqualTo("forbidden: api request \"/api/v1/namespaces/team-a/pods?recorded=no\" must "
        + "be recorded, but no recorders are available.\n");
    HttpResponse<String> dave = send(DAVE, "GET", "/api/v1/namespaces/team-a/pods?recorded=dave", null);
    assertThat(dave.statusCode()).isEqualTo(403); // forwarded: dave has no RBAC in team-a
    assertThat(dave.body()).contains("User \\\"dave@example.com\\\" cannot list");
    String notice = "a grant asks for the api request \"/api/v1/namespaces/team-a/pods?recorded=dave\" of "
        + "dave@example.com on dave-laptop.tailnet.test to be recorded by tag:k8s-recorder, but no Recorder exists in "
        + "this operator: forwarded without recording";
    await().atMost(Duration.ofSeconds(30)).until(() -> statusData().getOrDefault("apiServerProxy", "")
        .contains(notice));
    ConfigMap status = env.client().configMaps().inNamespace("tailscale").withName("tailscale-operator-status").get();
    await().atMost(Duration.ofSeconds(30)).until(() -> env.event(status, "SessionRecordingUnavailable").isPresent());
    assertThat(env.event(status, "SessionRecordingUnavailable").orElseThrow().getMessage()).isEqualTo(notice);
    assertThat(env.event(status, "SessionRecordingUnavailable").orElseThrow().getType()).isEqualTo("Warning");
    assertThat(doctor()).contains("warn api server proxy: APISERVER_PROXY=true: " + notice);
    await().atMost(Duration.ofSeconds(30)).until(() -> env.kube().audit().since(mark).stream()
        .anyMatch(e -> e.requestUri().contains("recorded=dave")));
    assertThat(env.kube().audit().since(mark).stream().filter(e -> e.requestUri().contains("recorded=no"))).isEmpty();
  }

  static Map<String, String> statusData() {
    ConfigMap cm = env.client().configMaps().inNamespace("tailscale").withName("tailscale-operator-status").get();
    return cm == null || cm.getData() == null ? Map.of() : cm.getData();
  }

  static String doctor() throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + env.operator().adminPort() + "/doctor"))
        .build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  @Test
  void a7TheDevicePublishesTheProxyOn443AndTheStatusPageOn8443() throws Exception {
    await().atMost(Duration.ofSeconds(30)).until(() -> env.client().secrets().inNamespace("tailscale")
        .withName("operator").get() != null);
    String serve = value("serve-config");
    assertThat(serve).isEqualTo("{\"TCP\":{\"443\":{\"HTTPS\":true},\"8443\":{\"HTTPS\":true}},\"Web\":{"
        + "\"${TS_CERT_DOMAIN}:443\":{\"Handlers\":{\"/\":{\"Proxy\":\"http://127.0.0.1:"
        + env.operator().apiServerProxy().port() + "\"}}},\"${TS_CERT_DOMAIN}:8443\":{\"Handlers\":{\"/\":{\"Proxy\":"
        + "\"http://127.0.0.1:" + env.operator().adminPort() + "/tailnet\"}}}}}");
    // What containerboot writes once the device is up; then the status says where kubectl goes.
    env.client().secrets().inNamespace("tailscale").withName("operator").patch(PatchContext.of(PatchType.JSON_MERGE),
        JSON.writeValueAsString(Map.of("data", Map.of("device_id", b64("12345"),
            "device_fqdn", b64("k3s-tailscale-operator.tail1234.ts.net."), "device_ips", b64("[\"100.64.0.1\"]")))));
    await().atMost(Duration.ofSeconds(60)).until(() -> statusData().getOrDefault("apiServerProxy", "")
        .contains("kubectl server: https://k3s-tailscale-operator.tail1234.ts.net"));
    assertThat(statusData().get("apiServerProxy")).startsWith("auth mode (requests impersonate the caller's tailnet "
        + "identity)");
  }

  static String value(String key) {
    String v = env.client().secrets().inNamespace("tailscale").withName("operator").get().getData().get(key);
    return v == null ? null : new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8);
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  /** A token of a new ServiceAccount. */
  static String serviceAccountToken(String ns, String name) {
    var c = env.client();
    if (c.serviceAccounts().inNamespace(ns).withName(name).get() == null) {
      c.serviceAccounts().inNamespace(ns).resource(new ServiceAccountBuilder().withNewMetadata().withName(name)
          .endMetadata().build()).create();
    }
    return c.serviceAccounts().inNamespace(ns).withName(name).tokenRequest(new TokenRequestBuilder().withNewSpec()
        .withExpirationSeconds(3600L).endSpec().build()).getStatus().getToken();
  }

  @Test
  void b1TheChartsRbacIsWhatLetsTheOperatorsServiceAccountImpersonate() throws Exception {
    // The operator runs with the chart's ServiceAccount token and the chart's RBAC rendered for mode "true"
    // (templates/apiserverproxy-rbac.yaml; ChartApiServerProxyTest: the same as the official chart's). Without the
    // ClusterRoleBinding it renders, the API server refuses to let that account impersonate; with it, it serves.
    Config saConfig = new io.fabric8.kubernetes.client.ConfigBuilder(env.kube().config()).withClientCertData(null)
        .withClientKeyData(null).withClientCertFile(null).withClientKeyFile(null)
        .withOauthToken(serviceAccountToken("tailscale", "operator")).build();
    HasMetadata binding = env.rbac().objects().stream()
        .filter(o -> o.getKind().equals("ClusterRoleBinding") && o.getMetadata().getName().equals("tailscale-auth-proxy"))
        .findFirst().orElseThrow(() -> new AssertionError("the chart renders no impersonation binding for mode true"));
    env.client().resource(binding).delete();
    try (ApiServerProxy proxy = new ApiServerProxy(Mode.AUTH, Upstream.withOperatorCredentials(saConfig,
        Clock.systemUTC()), new LocalApiWhoIs(localApi.socket()), new ApiServerProxyStatus(Mode.AUTH,
        Clock.systemUTC(), null)).start(0)) {
      HttpRequest whoami = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + proxy.port()
              + "/apis/authentication.k8s.io/v1/selfsubjectreviews")).header("X-Forwarded-For", ALICE)
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
              "{\"apiVersion\":\"authentication.k8s.io/v1\",\"kind\":\"SelfSubjectReview\"}")).build();
      await().atMost(Duration.ofSeconds(30)).until(() -> HTTP.send(whoami, HttpResponse.BodyHandlers.ofString())
          .statusCode() == 403);
      HttpResponse<String> refused = HTTP.send(whoami, HttpResponse.BodyHandlers.ofString());
      assertThat(refused.statusCode()).isEqualTo(403);
      assertThat(JSON.readTree(refused.body()).path("message").asText()).isEqualTo("users \"alice@example.com\" is "
          + "forbidden: User \"system:serviceaccount:tailscale:operator\" cannot impersonate resource \"users\" in API "
          + "group \"\" at the cluster scope");
      // These refusals are this test's own: the audit log has them as the operator's (and nothing else was denied).
      List<String> denied = new java.util.ArrayList<>();
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        denied.addAll(env.deniedRequests());
        return !denied.isEmpty();
      });
      assertThat(denied).allSatisfy(d -> assertThat(d).contains("API server denied operator: create "
          + "selfsubjectreviews"));
      env.rbac().apply(env.client()); // the chart's rendering again, binding included
      await().atMost(Duration.ofSeconds(30)).until(() -> HTTP.send(whoami, HttpResponse.BodyHandlers.ofString())
          .statusCode() == 201);
      HttpResponse<String> ok = HTTP.send(whoami, HttpResponse.BodyHandlers.ofString());
      assertThat(JSON.readTree(ok.body()).path("status").path("userInfo").path("username").asText())
          .isEqualTo("alice@example.com");
    } finally {
      env.rbac().apply(env.client());
    }
    env.deniedRequests(); // the refusals above, counted and checked
  }

  @Test
  void c1NoauthForwardsTheCallersOwnCredentialsUnchanged() throws Exception {
    env.stopOperator();
    env.env("APISERVER_PROXY", "noauth");
    env.startOperator();
    try {
      String token = serviceAccountToken("team-a", "reader");
      JsonNode who = whoami(ALICE, "Authorization", "Bearer " + token);
      assertThat(who.path("username").asText()).isEqualTo("system:serviceaccount:team-a:reader");
      // Without credentials the API server sees an anonymous caller: the operator's are never added.
      HttpResponse<String> anonymous = send(ALICE, "GET", "/api/v1/namespaces/team-a/pods", null);
      assertThat(anonymous.statusCode()).isEqualTo(403);
      assertThat(JSON.readTree(anonymous.body()).path("message").asText()).contains("User \"system:anonymous\"");
      // The caller's impersonation headers reach the API server as sent (and its RBAC decides).
      HttpResponse<String> impersonating = send(ALICE, "GET", "/api/v1/namespaces/team-a/pods", null,
          "Authorization", "Bearer " + token, "Impersonate-User", "alice@example.com");
      assertThat(impersonating.statusCode()).isEqualTo(403);
      assertThat(JSON.readTree(impersonating.body()).path("message").asText()).isEqualTo("users \"alice@example.com\" "
          + "is forbidden: User \"system:serviceaccount:team-a:reader\" cannot impersonate resource \"users\" in API "
          + "group \"\" at the cluster scope");
      // A tailnet identity is still required.
      assertThat(send("100.64.9.9", "GET", "/api/v1/namespaces/team-a/pods", null, "Authorization",
          "Bearer " + token).statusCode()).isEqualTo(500);
      await().atMost(Duration.ofSeconds(30)).until(() -> statusData().getOrDefault("apiServerProxy", "")
          .startsWith("noauth mode"));
    } finally {
      env.stopOperator();
      env.env("APISERVER_PROXY", "true");
      env.startOperator();
    }
  }
}
