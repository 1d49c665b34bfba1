package io.tailops.it;

import static io.tailops.it.ServiceExposeIT.clusterIp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Service;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.tailscale.FakeTailscaleApi;
import io.tailops.testkit.tailscale.OAuthClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Each OAuth scope missing in turn, against the fake API's scope checks: the feature that needs it says so (condition,
 * Event, the status ConfigMap's {@code missingScopes}, doctor), keeps doing what it can, and recovers once an OAuth
 * client with the scope is patched in. README, "OAuth scopes".
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class ScopesIT {
  static OperatorEnvironment env;
  static OAuthClient full;

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    full = env.tailnet().addOAuthClient(Set.of(FakeTailscaleApi.SCOPE_AUTH_KEYS, FakeTailscaleApi.SCOPE_DEVICES_CORE,
        FakeTailscaleApi.SCOPE_POLICY_READ), List.of("tag:k8s-operator"));
    env.writeCredentials(full.id(), full.secret());
    env.env("OPERATOR_DOCTOR_MIN_INTERVAL", "1ms");
    env.startOperator();
    env.createNamespace("scopes");
  }

  @AfterAll
  static void stop() {
    env.close();
  }

  static void useClient(String... scopes) {
    OAuthClient c = env.tailnet().addOAuthClient(Set.of(scopes), List.of("tag:k8s-operator"));
    env.writeCredentials(c.id(), c.secret());
  }

  static String missingScopes() {
    var cm = env.client().configMaps().inNamespace("tailscale").withName("tailscale-operator-status").get();
    return cm == null || cm.getData() == null ? "" : cm.getData().getOrDefault("missingScopes", "");
  }

  static Condition awaitCondition(String status, String reason) {
    await().atMost(Duration.ofSeconds(90)).until(() -> ServiceExposeIT.ready(web()).filter(c -> status.equals(
        c.getStatus()) && reason.equals(c.getReason())).isPresent());
    return ServiceExposeIT.ready(web()).orElseThrow();
  }

  static Service web() {
    return env.client().services().inNamespace("scopes").withName("web").get();
  }

  static String doctor() throws Exception {
    return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
        + env.operator().adminPort() + "/doctor")).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  /**
   * What one doctor run costs on the running operator (printed; docs/security.md quotes it): the reason it runs at
   * most once per OPERATOR_DOCTOR_MIN_INTERVAL instead of once per request.
   */
  @Test
  void a0OneDoctorRunCosts() throws Exception {
    int runs = env.operator().doctorResults().runs();
    var mark = env.mark();
    int policy = env.tailnet().calls(io.tailops.testkit.tailscale.Endpoint.GET_POLICY);
    int devices = env.tailnet().calls(io.tailops.testkit.tailscale.Endpoint.LIST_DEVICES);
    int keys = env.tailnet().calls(io.tailops.testkit.tailscale.Endpoint.LIST_KEYS);
    assertThat(doctor()).contains("ok   token:");
    assertThat(env.operator().doctorResults().runs()).isEqualTo(runs + 1);
    int api = env.tailnet().calls(io.tailops.testkit.tailscale.Endpoint.GET_POLICY) - policy
        + env.tailnet().calls(io.tailops.testkit.tailscale.Endpoint.LIST_DEVICES) - devices
        + env.tailnet().calls(io.tailops.testkit.tailscale.Endpoint.LIST_KEYS) - keys;
    var kube = env.operatorRequestsSince(mark).filter(e -> e.verb().equals("list") || e.verb().equals("get"));
    System.out.printf("one doctor run: %d Tailscale API calls (list keys, list devices, read policy), %d Kubernetes "
        + "reads (%s)%n", api, kube.count(), kube.stream().map(e -> e.verb() + " " + e.resource())
        .collect(java.util.stream.Collectors.groupingBy(x -> x, java.util.TreeMap::new,
            java.util.stream.Collectors.counting())));
    assertThat(api).isGreaterThanOrEqualTo(3);
  }

  @Test
  void a1WithoutAuthKeysNoProxyIsCreatedAndTheConditionNamesTheScope() throws Exception {
    useClient(FakeTailscaleApi.SCOPE_DEVICES_CORE, FakeTailscaleApi.SCOPE_POLICY_READ);
    env.client().resource(clusterIp("scopes", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "scopes-web"))).create();
    Condition failed = awaitCondition("False", "ProxyFailed");
    assertThat(failed.getMessage()).contains("the OAuth client lacks the auth_keys scope: give it the scope auth_keys");
    await().atMost(Duration.ofSeconds(30)).until(() -> missingScopes().startsWith("auth_keys (since "));
    assertThat(missingScopes()).contains("minting an auth key was refused").contains("no new proxies");
    assertThat(doctor()).contains("FAIL scopes: auth_keys missing");
    assertThat(env.tailnet().devices()).noneMatch(d -> d.hostname().equals("scopes-web"));

    env.writeCredentials(full.id(), full.secret());
    awaitCondition("True", "ProxyCreated");
    await().atMost(Duration.ofSeconds(30)).until(() -> missingScopes().equals("none"));
  }

  @Test
  void a2WithoutDevicesTheSweepAndDeviceDeletionSaySoAndTheProxyIsKept() throws Exception {
    useClient(FakeTailscaleApi.SCOPE_AUTH_KEYS, FakeTailscaleApi.SCOPE_POLICY_READ);
    env.operator().sweeper().sweep();
    await().atMost(Duration.ofSeconds(30)).until(() -> missingScopes().contains("devices:core:read (since "));
    assertThat(missingScopes()).contains("listing devices was refused").contains("the device sweep");
    // New proxies still get created: minting needs auth_keys only.
    env.client().resource(clusterIp("scopes", "web2", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "scopes-web2"))).create();
    await().atMost(Duration.ofSeconds(90)).until(() -> ServiceExposeIT.ready(env.client().services()
        .inNamespace("scopes").withName("web2").get()).filter(c -> "True".equals(c.getStatus())).isPresent());
    // Stop exposing: the proxy's device cannot be deleted, so the finalizer and the proxy's Secret stay.
    Conflicts.retry(() -> env.client().services().inNamespace("scopes").withName("web").edit(s -> {
      s.getMetadata().getAnnotations().put("tailscale.com/expose", "false");
      return s;
    }));
    await().atMost(Duration.ofSeconds(60)).until(() -> env.event(web(), "DeviceDeleteFailed").isPresent());
    assertThat(env.event(web(), "DeviceDeleteFailed").orElseThrow().getMessage())
        .contains("the OAuth client lacks the devices:core scope: give it the scope devices:core");
    assertThat(missingScopes()).contains("devices:core (since ").contains("deleting a device was refused");
    assertThat(web().getMetadata().getFinalizers()).isNotEmpty();
    assertThat(env.tailnet().devices()).anyMatch(d -> d.hostname().equals("scopes-web"));
    assertThat(doctor()).contains("FAIL scopes:").contains("devices:core missing");
  }

  @Test
  void a3WithReadOnlyDevicesTheSweepWorksButDeletionStillWaits() {
    useClient(FakeTailscaleApi.SCOPE_AUTH_KEYS, FakeTailscaleApi.SCOPE_DEVICES_CORE + ":read",
        FakeTailscaleApi.SCOPE_POLICY_READ);
    env.operator().sweeper().sweep();
    await().atMost(Duration.ofSeconds(30)).until(() -> !missingScopes().contains("devices:core:read"));
    assertThat(missingScopes()).contains("devices:core (since ");
    assertThat(web().getMetadata().getFinalizers()).isNotEmpty();

    env.writeCredentials(full.id(), full.secret());
    await().atMost(Duration.ofSeconds(90)).until(() -> web().getMetadata().getFinalizers() == null
        || web().getMetadata().getFinalizers().isEmpty());
    assertThat(env.tailnet().devices()).noneMatch(d -> d.hostname().equals("scopes-web"));
    await().atMost(Duration.ofSeconds(30)).until(() -> missingScopes().equals("none"));
  }

  @Test
  void a4WithoutThePolicyScopeOnlyDoctorsPolicyChecksAreMissing() throws Exception {
    useClient(FakeTailscaleApi.SCOPE_AUTH_KEYS, FakeTailscaleApi.SCOPE_DEVICES_CORE);
    String doctor = doctor();
    assertThat(doctor).contains("warn policy tagOwners: the tailnet policy cannot be read (HTTP 403")
        .contains("warn scopes: policy_file:read missing: optional");
    assertThat(doctor).doesNotContain("FAIL");
    await().atMost(Duration.ofSeconds(30)).until(() -> missingScopes().startsWith("policy_file:read (since "));
    assertThat(missingScopes()).contains("optional");
    env.writeCredentials(full.id(), full.secret());
  }
}
