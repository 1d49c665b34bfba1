package io.tailops.it;

import io.tailops.local.OperatorEnvironment;

import static io.tailops.it.ServiceExposeIT.clusterIp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.networking.v1.IngressClassBuilder;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.tailscale.CredentialSource;
import io.tailops.controlplane.tailscale.RetryPolicy;
import io.tailops.controlplane.tailscale.TailscaleApiClient;
import io.tailops.operator.doctor.Doctor;
import io.tailops.testkit.tailscale.FakeDevice;
import io.tailops.testkit.tailscale.FakeTailscaleApi;
import io.tailops.testkit.tailscale.OAuthClient;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** {@code doctor}: every check, passing and failing, against the real API server and the fake control plane. */
@TestMethodOrder(MethodOrderer.MethodName.class)
class DoctorIT {
  static OperatorEnvironment env;
  /** What `doctor` in the operator's Pod runs with: the operator's ServiceAccount. */
  static io.fabric8.kubernetes.client.KubernetesClient doctorClient;

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    OAuthClient withPolicy = env.tailnet().addOAuthClient(Set.of(FakeTailscaleApi.SCOPE_AUTH_KEYS,
        FakeTailscaleApi.SCOPE_DEVICES_CORE, FakeTailscaleApi.SCOPE_POLICY_READ), List.of("tag:k8s-operator"));
    env.writeCredentials(withPolicy.id(), withPolicy.secret());
    env.startOperator();
    doctorClient = env.newOperatorClient("tailscale-operator-doctor",
        new io.tailops.operator.runtime.OperatorMetrics());
  }

  @AfterAll
  static void stop() {
    if (doctorClient != null) {
      doctorClient.close();
    }
    env.close();
  }

  static List<Doctor.Check> doctor() {
    ControlPlane cp = TailscaleApiClient.builder(CredentialSource.fromFiles(env.dir().resolve("client_id"),
            env.dir().resolve("client_secret")))
        .loginServer(env.tailnet().baseUrl()).retryPolicy(RetryPolicy.noRetries()).build();
    return io.tailops.operator.runtime.DoctorChecks.doctor(env.config(), doctorClient, cp, true).run();
  }

  static Doctor.Check check(List<Doctor.Check> checks, String name) {
    return checks.stream().filter(c -> c.name().equals(name)).findFirst()
        .orElseThrow(() -> new AssertionError("no check " + name + " in " + Doctor.text(checks)));
  }

  @Test
  void a1AHealthyInstallationPassesEveryCheck() {
    env.createNamespace("doc-ok");
    env.client().resource(clusterIp("doc-ok", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "doc-ok"))).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> ServiceExposeIT.ready(env.client().services()
        .inNamespace("doc-ok").withName("web").get()).map(c -> "True".equals(c.getStatus())).orElse(false));
    // The operator publishes what each parent's reconcile found within a second of it (doctor reads that).
    await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> doctor().stream()
        .allMatch(c -> c.status() == Doctor.Status.OK));
    List<Doctor.Check> checks = doctor();
    assertThat(checks).as(Doctor.text(checks)).allMatch(c -> c.status() == Doctor.Status.OK);
    assertThat(checks).extracting(Doctor.Check::name).contains("parents", "credentials", "token", "scope devices",
        "proxy tags", "policy tagOwners", "funnel", "ingressclass", "proxy svc doc-ok/web");
    assertThat(Doctor.failed(checks)).isFalse();
  }

  @Test
  void a2ThePlaceholderCredentialFails() throws Exception {
    Path id = env.dir().resolve("client_id");
    String saved = Files.readString(id);
    Files.writeString(id, "REPLACE_ME");
    try {
      Doctor.Check c = check(doctor(), "credentials");
      assertThat(c.status()).isEqualTo(Doctor.Status.FAIL);
      assertThat(c.detail()).contains("REPLACE_ME");
      assertThat(c.fix()).contains("kubectl patch secret operator-oauth");
    } finally {
      Files.writeString(id, saved);
    }
  }

  @Test
  void a3AWrongSecretFailsTheTokenCheck() throws Exception {
    Path secret = env.dir().resolve("client_secret");
    String saved = Files.readString(secret);
    Files.writeString(secret, "tskey-client-nope");
    try {
      List<Doctor.Check> checks = doctor();
      Doctor.Check c = check(checks, "token");
      assertThat(c.status()).isEqualTo(Doctor.Status.FAIL);
      assertThat(c.fix()).contains("admin/settings/oauth");
      assertThat(Doctor.text(checks)).doesNotContain("tskey-client-nope");
    } finally {
      Files.writeString(secret, saved);
    }
  }

  @Test
  void a4MissingScopesFail() throws Exception {
    String id = Files.readString(env.dir().resolve("client_id"));
    String secret = Files.readString(env.dir().resolve("client_secret"));
    OAuthClient keysOnly = env.tailnet().addOAuthClient(Set.of(FakeTailscaleApi.SCOPE_AUTH_KEYS),
        List.of("tag:k8s-operator"));
    env.writeCredentials(keysOnly.id(), keysOnly.secret());
    try {
      List<Doctor.Check> checks = doctor();
      assertThat(check(checks, "scope devices").status()).isEqualTo(Doctor.Status.FAIL);
      assertThat(check(checks, "scope devices").fix()).contains("devices:core");
      assertThat(check(checks, "policy tagOwners").status()).isEqualTo(Doctor.Status.WARN);
      assertThat(check(checks, "policy tagOwners").fix()).contains("policy_file:read");
    } finally {
      env.writeCredentials(id, secret);
    }
  }

  @Test
  void a5APolicyWithoutTagOwnershipFailsTwice() {
    Map<String, List<String>> saved = env.tailnet().tagOwners();
    env.tailnet().setTagOwners(Map.of("tag:k8s-operator", List.of(), "tag:k8s", List.of("autogroup:admin")));
    try {
      List<Doctor.Check> checks = doctor();
      assertThat(check(checks, "proxy tags").status()).isEqualTo(Doctor.Status.FAIL);
      assertThat(check(checks, "proxy tags").detail()).contains("requested tags [tag:k8s] are invalid or not "
          + "permitted");
      assertThat(check(checks, "policy tagOwners").status()).isEqualTo(Doctor.Status.FAIL);
      assertThat(check(checks, "policy tagOwners").detail()).isEqualTo("tag:k8s is not owned by [tag:k8s-operator]");
      assertThat(check(checks, "policy tagOwners").fix()).contains("\"tag:k8s\": [\"tag:k8s-operator\"]");
    } finally {
      env.tailnet().setTagOwners(saved);
    }
  }

  @Test
  void a6FunnelWithoutTheNodeAttributeFails() {
    env.createNamespace("doc-funnel");
    env.backendService("doc-funnel", "web", 80);
    env.client().resource(io.fabric8.kubernetes.client.utils.Serialization.unmarshal("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: public, namespace: doc-funnel, annotations: {tailscale.com/funnel: "true"}}
        spec:
          ingressClassName: tailscale
          defaultBackend: {service: {name: web, port: {number: 80}}}
        """, io.fabric8.kubernetes.api.model.networking.v1.Ingress.class)).create();
    env.tailnet().clearNodeAttrs();
    Doctor.Check c = check(doctor(), "funnel");
    assertThat(c.status()).isEqualTo(Doctor.Status.FAIL);
    assertThat(c.detail()).contains("Ingress doc-funnel/public");
    assertThat(c.fix()).contains("\"attr\": [\"funnel\"]");
    env.tailnet().addNodeAttr(List.of("tag:k8s"), List.of("funnel"));
    assertThat(check(doctor(), "funnel").status()).isEqualTo(Doctor.Status.OK);
  }

  @Test
  void a7AMissingIngressClassFails() {
    env.client().network().v1().ingressClasses().withName("tailscale").delete();
    await().atMost(Duration.ofSeconds(10)).until(() -> env.client().network().v1().ingressClasses()
        .withName("tailscale").get() == null);
    try {
      assertThat(check(doctor(), "ingressclass").status()).isEqualTo(Doctor.Status.FAIL);
    } finally {
      env.client().network().v1().ingressClasses().resource(new IngressClassBuilder().withNewMetadata()
          .withName("tailscale").endMetadata().withNewSpec().withController("tailscale.com/ts-ingress").endSpec()
          .build()).create();
    }
  }

  @Test
  void b1ProxyStatesAreReported() {
    env.createNamespace("doc-proxies");
    FakeDevice laptop = env.tailnet().addForeignDevice("doc-suffixed", List.of());
    env.client().resource(clusterIp("doc-proxies", "suffixed", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "doc-suffixed"))).create();
    env.client().resource(clusterIp("doc-proxies", "gone", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "doc-gone"))).create();
    for (String n : List.of("suffixed", "gone")) {
      await().atMost(Duration.ofSeconds(60)).until(() -> ServiceExposeIT.ready(env.client().services()
          .inNamespace("doc-proxies").withName(n).get()).map(c -> "True".equals(c.getStatus())).orElse(false));
    }
    // Freeze the world: no operator to heal, no proxies to react.
    env.stopOperator();
    String goneSts = env.statefulSets("svc", "doc-proxies", "gone").get(0).getMetadata().getName();
    env.proxies().pause(goneSts);
    env.tailnet().deleteDeviceDirectly(env.tailnet().devices().stream().filter(d -> d.dnsLabel().equals("doc-gone"))
        .findFirst().orElseThrow().nodeId());
    try {
      List<Doctor.Check> checks = doctor();
      Doctor.Check gone = check(checks, "proxy svc doc-proxies/gone");
      assertThat(gone.status()).isEqualTo(Doctor.Status.FAIL);
      assertThat(gone.detail()).contains("no longer exists in the tailnet");
      Doctor.Check suffixed = check(checks, "proxy svc doc-proxies/suffixed");
      assertThat(suffixed.status()).isEqualTo(Doctor.Status.WARN);
      assertThat(suffixed.detail()).contains("doc-suffixed-1 instead of doc-suffixed").contains(laptop.nodeId());
      assertThat(Doctor.failed(checks)).isTrue();
    } finally {
      env.proxies().resume(goneSts);
      env.startOperator();
    }
  }

  @Test
  void b2TheCommandPrintsJsonAndExitsNonZeroOnFailure() throws Exception {
    Path id = env.dir().resolve("client_id");
    String saved = Files.readString(id);
    Files.writeString(id, "REPLACE_ME");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    PrintStream old = System.out;
    int code;
    try {
      var cl = new picocli.CommandLine(new io.tailops.operator.Main());
      cl.setOut(new java.io.PrintWriter(out, true, StandardCharsets.UTF_8));
      code = cl.execute("doctor", "--kubeconfig", env.writeOperatorKubeconfig().toString(),
          "--namespace", "tailscale", "--login-server", env.tailnet().baseUrl(), "--client-id-file", id.toString(),
          "--client-secret-file",
          env.dir().resolve("client_secret").toString(), "--output", "json");
    } finally {
      System.setOut(old);
      Files.writeString(id, saved);
    }
    String json = out.toString(StandardCharsets.UTF_8);
    assertThat(code).isEqualTo(1);
    assertThat(json).contains("\"name\" : \"credentials\"").contains("\"status\" : \"fail\"")
        .contains("\"summary\"");
  }

  @Test
  void b4AFunnelProxyWhoseTagsLackTheFunnelAttributeIsWarnedAbout() {
    env.tailnet().clearNodeAttrs();
    env.createNamespace("doc-preflight");
    env.backendService("doc-preflight", "web", 80);
    var ing = env.client().resource(io.fabric8.kubernetes.client.utils.Serialization.unmarshal("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: public, namespace: doc-preflight, annotations: {tailscale.com/funnel: "true"}}
        spec:
          ingressClassName: tailscale
          defaultBackend: {service: {name: web, port: {number: 80}}}
        """, io.fabric8.kubernetes.api.model.networking.v1.Ingress.class)).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> env.event(ing, "FunnelNotPermitted").isPresent());
    assertThat(env.event(ing, "FunnelNotPermitted").get().getMessage())
        .contains("does not grant the \"funnel\" node attribute to [tag:k8s]").contains("nodeAttrs");
    env.tailnet().addNodeAttr(List.of("tag:k8s"), List.of("funnel"));
  }

  @Test
  void b3TheRunningOperatorServesDoctorOverHttp() throws Exception {
    var http = java.net.http.HttpClient.newHttpClient();
    var resp = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
        + env.operator().adminPort() + "/doctor")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(resp.body()).contains("ok   token:").contains("checks:");
  }
}
