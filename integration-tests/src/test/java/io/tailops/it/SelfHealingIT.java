package io.tailops.it;

import io.tailops.local.OperatorEnvironment;
import io.tailops.operator.proxy.DeviceRegistry;

import static io.tailops.it.ServiceExposeIT.clusterIp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.tailops.testkit.tailscale.Endpoint;
import io.tailops.testkit.tailscale.FakeDevice;
import io.tailops.testkit.tailscale.Fault;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The seed guide's troubleshooting section, automated: each scenario is reproduced with the fake control plane and
 * the proxy simulator, and the outcome and the events are checked.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class SelfHealingIT {
  static OperatorEnvironment env;

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    env.env("OPERATOR_REAUTH_MIN_INTERVAL", "1s")
        .env("OPERATOR_DEVICE_SWEEP_INTERVAL", "1s")
        .env("OPERATOR_ORPHAN_GRACE_PERIOD", "1s");
    env.startOperator();
  }

  @AfterAll
  static void stop() {
    env.close();
  }

  static Service get(String ns, String name) {
    return env.client().services().inNamespace(ns).withName(name).get();
  }

  static void awaitReady(String ns, String name) {
    await().atMost(Duration.ofSeconds(90)).until(() -> ServiceExposeIT.ready(get(ns, name))
        .map(c -> "True".equals(c.getStatus())).orElse(false));
  }

  static List<FakeDevice> devicesNamed(String label) {
    return env.tailnet().devices().stream().filter(d -> d.dnsLabel().equals(label)).toList();
  }

  static FakeDevice device(String label) {
    List<FakeDevice> d = devicesNamed(label);
    assertThat(d).as("devices named " + label + " in " + env.tailnet().devices()).hasSize(1);
    return d.get(0);
  }

  /** A merge patch without resourceVersion: no conflict with the operator's own writes. Returns the patched Service. */
  static Service mergePatch(String ns, String name, String patch) {
    return env.client().services().inNamespace(ns).withName(name).patch(
        io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
        patch);
  }

  /**
   * Records {@code d} in the operator's device registry, as the device sweep does for every device one of its proxies
   * reported: the device is provably this operator's from then on (here: a proxy whose Secret was lost since).
   */
  static void registerAsOurs(FakeDevice d) {
    // DeviceRegistry's format: <replica Secret> <parent type>/<namespace>/<name> <hostname>. The parent exists (a lost
    // replica of a live Service's proxy): a registered device whose parent is gone is removed by the parent-less sweep.
    String entry = "ts-lost-0 svc/heal-deleted/web " + d.hostname();
    String patch = "{\"data\":{\"" + d.nodeId() + "\":\"" + entry + "\"}}";
    var cms = env.client().configMaps().inNamespace(OperatorEnvironment.NAMESPACE);
    for (int attempt = 0; ; attempt++) {
      try {
        if (cms.withName(DeviceRegistry.CONFIG_MAP).get() == null) {
          cms.resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata()
              .withName(DeviceRegistry.CONFIG_MAP).endMetadata().addToData(d.nodeId(), entry).build()).create();
        } else {
          cms.withName(DeviceRegistry.CONFIG_MAP).patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(
              io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE), patch);
        }
        // As written by an earlier operator: the registry reads it at start and on each sweep; read it now, so that
        // the next reconcile does not race the sweep.
        var registry = env.operator().context().reconcile().devices();
        await().atMost(Duration.ofSeconds(30)).until(() -> {
          registry.load();
          return registry.owns(d.nodeId());
        });
        return;
      } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
        if (e.getCode() != 409 || attempt > 3) {
          throw e; // 409: the sweep created it at the same moment
        }
      }
    }
  }

  static void awaitEvent(Service svc, String reason) {
    await().atMost(Duration.ofSeconds(60)).until(() -> env.event(svc, reason).isPresent());
  }

  @Test
  void a1DeviceDeletedInTheAdminConsoleIsReRegisteredUnderTheSameName() {
    env.createNamespace("heal-deleted");
    env.client().resource(clusterIp("heal-deleted", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "heal-deleted"))).create();
    awaitReady("heal-deleted", "web");
    FakeDevice before = device("heal-deleted");
    int keys = env.tailnet().keys().size();

    env.tailnet().deleteDeviceDirectly(before.nodeId());

    await().atMost(Duration.ofSeconds(60)).until(() -> devicesNamed("heal-deleted").size() == 1
        && !devicesNamed("heal-deleted").get(0).nodeId().equals(before.nodeId()));
    awaitReady("heal-deleted", "web");
    assertThat(devicesNamed("heal-deleted-1")).isEmpty();
    awaitEvent(get("heal-deleted", "web"), "ProxyReauthenticated");
    assertThat(env.event(get("heal-deleted", "web"), "ProxyReauthenticated").get().getMessage())
        .contains("no longer exists in the tailnet").contains("minted a fresh auth key");
    // Exactly one documented re-key; the Secret remembers it.
    assertThat(env.tailnet().keys()).hasSize(keys + 1);
    var secret = env.secrets("svc", "heal-deleted", "web").get(0);
    assertThat(secret.getMetadata().getAnnotations()).containsEntry("tailscale.com/reauth-count", "1");
  }

  @Test
  void a1bDeviceDeletedWhileTheProxyStillReportsItIsNoticedByTheSweep() {
    // headscale's case: the node is deleted but the proxy keeps running with it and never says it is logged out.
    env.createNamespace("heal-ghost");
    env.client().resource(clusterIp("heal-ghost", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "heal-ghost"))).create();
    awaitReady("heal-ghost", "web");
    FakeDevice before = device("heal-ghost");
    String secretName = env.secrets("svc", "heal-ghost", "web").get(0).getMetadata().getName();
    String sts = secretName.substring(0, secretName.length() - 2);
    env.proxies().pause(sts); // the proxy reacts to nothing: its Secret keeps reporting the deleted device
    try {
      env.tailnet().deleteDeviceDirectly(before.nodeId());
      // the sweep (every second here) notices, confirms with a lookup and marks the Secret
      await().atMost(Duration.ofSeconds(30)).until(() -> before.nodeId().equals(env.client().secrets()
          .inNamespace(OperatorEnvironment.NAMESPACE).withName(secretName).get().getMetadata().getAnnotations()
          .get("tailscale.com/device-missing")) || env.event(get("heal-ghost", "web"), "ProxyReauthenticated")
          .isPresent());
    } finally {
      env.proxies().resume(sts);
    }
    awaitEvent(get("heal-ghost", "web"), "ProxyReauthenticated");
    assertThat(env.event(get("heal-ghost", "web"), "ProxyReauthenticated").get().getMessage())
        .contains(before.nodeId()).contains("no longer exists in the tailnet");
    await().atMost(Duration.ofSeconds(60)).until(() -> devicesNamed("heal-ghost").size() == 1
        && !devicesNamed("heal-ghost").get(0).nodeId().equals(before.nodeId()));
    awaitReady("heal-ghost", "web");
    var secret = env.client().secrets().inNamespace(OperatorEnvironment.NAMESPACE).withName(secretName).get();
    assertThat(secret.getMetadata().getAnnotations()).containsEntry("tailscale.com/reauth-count", "1")
        .doesNotContainKey("tailscale.com/device-missing");
  }

  @Test
  void a2AStaleDeviceOfThisOperatorHoldingTheNameIsReplaced() {
    FakeDevice stale = env.tailnet().addForeignDevice("heal-stale", List.of("tag:k8s"));
    env.tailnet().setOnline(stale.nodeId(), false);
    registerAsOurs(stale);
    env.createNamespace("heal-stale");
    env.client().resource(clusterIp("heal-stale", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "heal-stale"))).create();
    await().atMost(Duration.ofSeconds(90)).until(() -> env.tailnet().device(stale.nodeId()).isEmpty()
        && devicesNamed("heal-stale").size() == 1 && devicesNamed("heal-stale-1").isEmpty());
    awaitReady("heal-stale", "web");
    await().atMost(Duration.ofSeconds(30)).until(() -> ServiceExposeIT.ready(get("heal-stale", "web")).get()
        .getMessage().contains("heal-stale." + env.tailnet().tailnetDomain()));
    awaitEvent(get("heal-stale", "web"), "ProxyReauthenticated");
    assertThat(env.event(get("heal-stale", "web"), "ProxyReauthenticated").get().getMessage())
        .contains(stale.nodeId());
  }

  @Test
  void a2bADeviceWithTheProxyTagsThatThisOperatorNeverRegisteredIsNeverDeleted() {
    FakeDevice other = env.tailnet().addForeignDevice("heal-other", List.of("tag:k8s"));
    env.tailnet().setOnline(other.nodeId(), false);
    env.createNamespace("heal-other");
    env.client().resource(clusterIp("heal-other", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "heal-other"))).create();
    awaitReady("heal-other", "web");
    awaitEvent(get("heal-other", "web"), "HostnameTaken");
    assertThat(env.event(get("heal-other", "web"), "HostnameTaken").get().getMessage())
        .contains("heal-other-1 instead of heal-other").contains(other.nodeId())
        .contains("this operator never registered it");
    assertThat(env.tailnet().device(other.nodeId())).isPresent();
  }

  @Test
  void a3AForeignDeviceHoldingTheNameIsNeverDeletedAndIsNamed() {
    FakeDevice laptop = env.tailnet().addForeignDevice("heal-foreign", List.of());
    env.createNamespace("heal-foreign");
    env.client().resource(clusterIp("heal-foreign", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "heal-foreign"))).create();
    awaitReady("heal-foreign", "web");
    awaitEvent(get("heal-foreign", "web"), "HostnameTaken");
    assertThat(env.event(get("heal-foreign", "web"), "HostnameTaken").get().getMessage())
        .contains("heal-foreign-1 instead of heal-foreign").contains(laptop.nodeId())
        .contains("does not carry only this operator's proxy tags");
    assertThat(env.tailnet().device(laptop.nodeId())).isPresent();
  }

  @Test
  void a4ForceReauthAnnotationReRegistersOnce() {
    env.createNamespace("heal-force");
    env.client().resource(clusterIp("heal-force", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "heal-force"))).create();
    awaitReady("heal-force", "web");
    String before = device("heal-force").nodeId();
    mergePatch("heal-force", "web", "{\"metadata\":{\"annotations\":{\"tailscale.com/force-reauth\":\"2026-11-27\"}}}");
    await().atMost(Duration.ofSeconds(60)).until(() -> devicesNamed("heal-force").size() == 1
        && !devicesNamed("heal-force").get(0).nodeId().equals(before));
    awaitReady("heal-force", "web");
    assertThat(env.tailnet().device(before)).isEmpty();
    String after = device("heal-force").nodeId();
    int keys = env.tailnet().keys().size();
    // The same value does not re-register again.
    env.awaitReconciled(mergePatch("heal-force", "web", "{\"metadata\":{\"labels\":{\"touched\":\"yes\"}}}"));
    assertThat(device("heal-force").nodeId()).isEqualTo(after);
    assertThat(env.tailnet().keys()).hasSize(keys);
  }

  @Test
  void a5UnauthorizedTokensDegradeAndRecover() {
    env.createNamespace("heal-401");
    var fault = env.tailnet().inject(Fault.status(401, "API token invalid")).on(Endpoint.TOKEN).times(20);
    env.tailnet().revokeAllTokens();
    env.client().resource(clusterIp("heal-401", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "heal-401"))).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> ServiceExposeIT.ready(get("heal-401", "web"))
        .map(c -> "ProxyFailed".equals(c.getReason())).orElse(false));
    assertThat(ServiceExposeIT.ready(get("heal-401", "web")).get().getMessage()).contains("OAuth credentials");
    await().atMost(Duration.ofSeconds(30)).until(() -> statusConfigMap() != null
        && statusConfigMap().getData().get("credentials").startsWith("invalid since"));
    fault.clear();
    awaitReady("heal-401", "web");
    await().atMost(Duration.ofSeconds(30)).until(() -> "valid".equals(statusConfigMap().getData()
        .get("credentials")));
  }

  static ConfigMap statusConfigMap() {
    return env.client().configMaps().inNamespace("tailscale").withName("tailscale-operator-status").get();
  }

  @Test
  void a6EphemeralProxiesAskForEphemeralKeys() {
    env.createNamespace("heal-ephemeral");
    env.client().resource(clusterIp("heal-ephemeral", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "heal-ephemeral", "tailscale.com/ephemeral", "true"))).create();
    awaitReady("heal-ephemeral", "web");
    assertThat(device("heal-ephemeral").ephemeral()).isTrue();
  }

  @Test
  void b1OrphanedDevicesAreReportedAndUntaggedOnesNeverTouched() throws Exception {
    FakeDevice orphan = env.tailnet().addForeignDevice("old-proxy", List.of("tag:k8s"));
    env.tailnet().setOnline(orphan.nodeId(), false);
    registerAsOurs(orphan);
    // Same tags, offline, but registered by another operator (another cluster in the same tailnet): never deleted.
    FakeDevice foreign = env.tailnet().addForeignDevice("other-clusters-proxy", List.of("tag:k8s"));
    env.tailnet().setOnline(foreign.nodeId(), false);
    FakeDevice laptop = env.tailnet().addForeignDevice("someones-laptop", List.of());
    env.tailnet().setOnline(laptop.nodeId(), false);
    await().atMost(Duration.ofSeconds(30)).until(() -> statusConfigMap() != null
        && statusConfigMap().getData().getOrDefault("orphanedDevices", "").contains(orphan.nodeId()));
    await().atMost(Duration.ofSeconds(30)).until(() -> statusConfigMap().getData().getOrDefault("orphanedDevices", "")
        .contains(foreign.nodeId()));
    assertThat(statusConfigMap().getData().get("orphanedDevices")).doesNotContain(laptop.nodeId())
        .contains(orphan.nodeId() + " old-proxy").contains("reported; OPERATOR_ORPHAN_DEVICES=delete removes such")
        .contains(foreign.nodeId() + " other-clusters-proxy").contains("not registered by this operator: reported, "
            + "never deleted");
    // Report only (the default): nothing is deleted.
    assertThat(env.tailnet().device(orphan.nodeId())).isPresent();

    env.stopOperator();
    env.env("OPERATOR_ORPHAN_DEVICES", "delete");
    env.startOperator();
    try {
      await().atMost(Duration.ofSeconds(30)).until(() -> env.tailnet().device(orphan.nodeId()).isEmpty());
      assertThat(env.tailnet().device(laptop.nodeId())).isPresent();
      // The foreign device with the same tags survives delete mode: the sweep that deleted the registered orphan saw
      // it too (both are offline longer than the grace period).
      assertThat(env.tailnet().device(foreign.nodeId())).isPresent();
      // The registry forgets the deleted device (its writes are batched) and never held the foreign one.
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(env.client().configMaps()
          .inNamespace(OperatorEnvironment.NAMESPACE).withName(DeviceRegistry.CONFIG_MAP).get().getData())
          .doesNotContainKey(orphan.nodeId()).doesNotContainKey(foreign.nodeId()));
      // Devices of live proxies are never orphans.
      assertThat(devicesNamed("heal-deleted")).hasSize(1);
    } finally {
      env.stopOperator();
      env.env("OPERATOR_ORPHAN_DEVICES", null);
      env.startOperator();
    }
  }

  @Test
  void b2ReauthIsRateLimitedPerProxy() {
    env.stopOperator();
    env.env("OPERATOR_REAUTH_MIN_INTERVAL", "1h");
    env.startOperator();
    try {
      env.createNamespace("heal-limit");
      env.client().resource(clusterIp("heal-limit", "web", Map.of("tailscale.com/expose", "true",
          "tailscale.com/hostname", "heal-limit"))).create();
      awaitReady("heal-limit", "web");
      env.tailnet().deleteDeviceDirectly(device("heal-limit").nodeId());
      await().atMost(Duration.ofSeconds(60)).until(() -> devicesNamed("heal-limit").size() == 1);
      awaitReady("heal-limit", "web");
      int keys = env.tailnet().keys().size();
      env.tailnet().deleteDeviceDirectly(device("heal-limit").nodeId());
      awaitEvent(get("heal-limit", "web"), "ReauthRateLimited");
      assertThat(env.tailnet().keys()).hasSize(keys);
      assertThat(devicesNamed("heal-limit")).isEmpty();
    } finally {
      env.stopOperator();
      env.env("OPERATOR_REAUTH_MIN_INTERVAL", "1s");
      env.startOperator();
    }
  }
}
