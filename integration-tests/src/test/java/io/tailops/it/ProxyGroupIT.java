package io.tailops.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.api.v1alpha1.TailnetDevice;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.tailscale.Endpoint;
import io.tailops.testkit.tailscale.FakeDevice;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ProxyGroups of type egress and ingress against the real API server (with the controller manager, so the group's
 * pods exist) and the fake Tailscale API, with the proxy simulator playing each replica's containerboot: the official
 * objects, the status (devices, ProxyGroupReady, ProxyGroupAvailable), scaling 1 → 3 → 1 with exactly the replicas'
 * devices registered and removed, a logged-out replica re-registered, a hand edit put back, deletion, and bad input.
 * Groups of type kube-apiserver: {@link KubeApiServerProxyGroupIT}.
 */
class ProxyGroupIT {
  static final String NS = OperatorEnvironment.NAMESPACE;
  static final Duration WAIT = Duration.ofSeconds(90);
  static OperatorEnvironment env;

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    env.startOperator();
  }

  @AfterAll
  static void stop() {
    env.close();
  }

  static ProxyGroup create(String yaml) {
    return env.client().resource(Serialization.unmarshal(yaml, ProxyGroup.class)).create();
  }

  static ProxyGroup pg(String name) {
    return env.client().resources(ProxyGroup.class).withName(name).get();
  }

  static Optional<Condition> condition(ProxyGroup pg, String type) {
    if (pg == null || pg.getStatus() == null) {
      return Optional.empty();
    }
    return pg.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  /** Waits until the group says it is ready with {@code replicas} devices, and returns it. */
  static ProxyGroup awaitReady(String name, int replicas) {
    return await().atMost(WAIT).until(() -> pg(name), p -> p != null
        && condition(p, "ProxyGroupReady").map(c -> "True".equals(c.getStatus())
            && p.getMetadata().getGeneration().equals(c.getObservedGeneration())).orElse(false)
        && p.getStatus().getDevices() != null && p.getStatus().getDevices().size() == replicas);
  }

  static List<FakeDevice> devicesNamed(String prefix) {
    return env.tailnet().devices().stream().filter(d -> d.hostname().startsWith(prefix + "-")).toList();
  }

  static <T extends HasMetadata> T get(Class<T> type, String name) {
    return env.client().resources(type).inNamespace(NS).withName(name).get();
  }

  static String decoded(Secret s, String key) {
    return new String(Base64.getDecoder().decode(s.getData().get(key)), StandardCharsets.UTF_8);
  }

  @Test
  void anEgressGroupGetsTheOfficialObjectsScalesOneToThreeToOneAndIsDeletedWithItsDevices() {
    create("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: eg
        spec:
          type: egress
          replicas: 1
        """);
    ProxyGroup ready = awaitReady("eg", 1);
    assertThat(ready.getStatus().getDevices()).extracting(TailnetDevice::getHostname).containsExactly("eg-0");
    assertThat(condition(ready, "ProxyGroupAvailable").orElseThrow()).satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getReason()).isEqualTo("ProxyGroupAvailable");
      assertThat(c.getMessage()).isEqualTo("1/1 ProxyGroup pods running");
    });
    assertThat(ready.getMetadata().getFinalizers()).containsExactly("tailscale.com/finalizer");

    // The official objects, each owned by the group and labelled with it.
    StatefulSet sts = get(StatefulSet.class, "eg");
    assertThat(sts.getSpec().getReplicas()).isEqualTo(1);
    assertThat(sts.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo("eg");
    assertThat(sts.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()).extracting(EnvVar::getName)
        .contains("TS_EGRESS_PROXIES_CONFIG_PATH", "TS_ENABLE_HEALTH_CHECK");
    assertThat(sts.getSpec().getTemplate().getSpec().getContainers().get(0).getLifecycle().getPreStop().getHttpGet()
        .getPath()).isEqualTo("/internal-egress-services-preshutdown");
    for (HasMetadata o : List.of(sts, get(io.fabric8.kubernetes.api.model.ServiceAccount.class, "eg"),
        get(Role.class, "eg"), get(io.fabric8.kubernetes.api.model.rbac.RoleBinding.class, "eg"),
        get(ConfigMap.class, "eg-egress-config"), get(Secret.class, "eg-0"), get(Secret.class, "eg-0-config"))) {
      assertThat(o.getMetadata().getLabels()).as(o.getKind()).containsEntry("tailscale.com/managed", "true")
          .containsEntry("tailscale.com/parent-resource-type", "proxygroup")
          .containsEntry("tailscale.com/parent-resource", "eg");
      assertThat(o.getMetadata().getOwnerReferences()).as(o.getKind()).singleElement()
          .satisfies(r -> assertThat(r.getUid()).isEqualTo(ready.getMetadata().getUid()));
    }
    assertThat(resourceNames(get(Role.class, "eg"))).containsExactly("eg-0-config", "eg-0");
    assertThat(hepPings("eg")).isEqualTo("3");
    Secret config = get(Secret.class, "eg-0-config");
    assertThat(config.getData()).containsOnlyKeys("cap-106.hujson");
    assertThat(decoded(config, "cap-106.hujson")).isEqualTo("{\"Version\":\"alpha0\",\"Locked\":false,\"ServerURL\":\""
        + env.tailnet().baseUrl() + "\",\"Hostname\":\"eg-0\",\"acceptDNS\":false,\"acceptRoutes\":false}");
    assertThat(get(Secret.class, "eg-0").getMetadata().getLabels()).containsEntry("tailscale.com/secret-type",
        "state");
    assertThat(devicesNamed("eg")).extracting(FakeDevice::hostname).containsExactly("eg-0");
    String first = devicesNamed("eg").get(0).nodeId();

    // 1 → 3: two more devices, Secrets, Role entries, mounts.
    edit("eg", 3);
    awaitReady("eg", 3);
    assertThat(devicesNamed("eg")).extracting(FakeDevice::hostname).containsExactlyInAnyOrder("eg-0", "eg-1",
        "eg-2");
    assertThat(resourceNames(get(Role.class, "eg"))).containsExactly("eg-0-config", "eg-0", "eg-1-config", "eg-1",
        "eg-2-config", "eg-2");
    assertThat(hepPings("eg")).isEqualTo("9");
    assertThat(get(StatefulSet.class, "eg").getSpec().getTemplate().getSpec().getVolumes()).hasSize(4);

    // 3 → 1: exactly the two surplus devices are deleted, once each; the first replica keeps its device.
    int deletesBefore = env.tailnet().calls(Endpoint.DELETE_DEVICE);
    edit("eg", 1);
    awaitReady("eg", 1);
    await().atMost(WAIT).untilAsserted(() -> assertThat(devicesNamed("eg")).extracting(FakeDevice::nodeId)
        .containsExactly(first));
    await().atMost(WAIT).untilAsserted(() -> assertThat(env.client().secrets().inNamespace(NS)
        .withLabel("tailscale.com/parent-resource", "eg").list().getItems()).extracting(s -> s.getMetadata().getName())
        .containsExactlyInAnyOrder("eg-0", "eg-0-config"));
    assertThat(resourceNames(get(Role.class, "eg"))).containsExactly("eg-0-config", "eg-0");
    // A later reconcile (forced by a label on the group) deletes nothing more: no not-found loop.
    // (a merge patch: the operator writes the group's status meanwhile, so an edit could meet a conflict)
    env.client().resources(ProxyGroup.class).withName("eg").patch(
        io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
        "{\"metadata\":{\"labels\":{\"touched\":\"1\"}}}");
    awaitReady("eg", 1);
    assertThat(env.tailnet().calls(Endpoint.DELETE_DEVICE) - deletesBefore).isEqualTo(2);

    // Deleting the group removes its device, its objects and then the group itself.
    env.client().resources(ProxyGroup.class).withName("eg").delete();
    await().atMost(WAIT).until(() -> pg("eg") == null);
    assertThat(devicesNamed("eg")).isEmpty();
    assertThat(env.client().secrets().inNamespace(NS).withLabel("tailscale.com/parent-resource", "eg").list()
        .getItems()).isEmpty();
    assertThat(get(StatefulSet.class, "eg")).isNull();
    assertThat(get(Role.class, "eg")).isNull();
    assertThat(get(ConfigMap.class, "eg-egress-config")).isNull();
    assertThat(get(io.fabric8.kubernetes.api.model.ServiceAccount.class, "eg")).isNull();
  }

  @Test
  void anIngressGroupScalesOneToThreeToOneAndIsDeletedWithItsDevices() {
    create("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: ig
        spec:
          type: ingress
          replicas: 1
        """);
    awaitReady("ig", 1);
    assertThat(devicesNamed("ig")).extracting(FakeDevice::hostname).containsExactly("ig-0");
    assertThat(get(ConfigMap.class, "ig-ingress-config")).isNotNull();
    String first = devicesNamed("ig").get(0).nodeId();

    edit("ig", 3);
    awaitReady("ig", 3);
    assertThat(devicesNamed("ig")).extracting(FakeDevice::hostname).containsExactlyInAnyOrder("ig-0", "ig-1",
        "ig-2");
    assertThat(resourceNames(get(Role.class, "ig"))).contains("ig-0-config", "ig-0", "ig-1-config", "ig-1",
        "ig-2-config", "ig-2");

    int deletesBefore = env.tailnet().calls(Endpoint.DELETE_DEVICE);
    edit("ig", 1);
    awaitReady("ig", 1);
    await().atMost(WAIT).untilAsserted(() -> assertThat(devicesNamed("ig")).extracting(FakeDevice::nodeId)
        .containsExactly(first));
    await().atMost(WAIT).untilAsserted(() -> assertThat(env.client().secrets().inNamespace(NS)
        .withLabel("tailscale.com/parent-resource", "ig").list().getItems()).extracting(s -> s.getMetadata().getName())
        .containsExactlyInAnyOrder("ig-0", "ig-0-config"));
    assertThat(env.tailnet().calls(Endpoint.DELETE_DEVICE) - deletesBefore).isEqualTo(2);

    env.client().resources(ProxyGroup.class).withName("ig").delete();
    await().atMost(WAIT).until(() -> pg("ig") == null);
    assertThat(devicesNamed("ig")).isEmpty();
    assertThat(env.client().secrets().inNamespace(NS).withLabel("tailscale.com/parent-resource", "ig").list()
        .getItems()).isEmpty();
    assertThat(get(StatefulSet.class, "ig")).isNull();
    assertThat(get(ConfigMap.class, "ig-ingress-config")).isNull();
  }

  @Test
  void anIngressGroupOfTwoReplicasByDefaultUsesTheHostnamePrefix() {
    create("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: ing
        spec:
          type: ingress
          hostnamePrefix: web-ha
          tags: ["tag:k8s"]
        """);
    ProxyGroup ready = awaitReady("ing", 2);
    assertThat(ready.getStatus().getDevices()).extracting(TailnetDevice::getHostname)
        .containsExactly("web-ha-0", "web-ha-1");
    assertThat(ready.getStatus().getDevices()).allSatisfy(d -> assertThat(d.getTailnetIPs()).isNotEmpty());
    assertThat(get(ConfigMap.class, "ing-ingress-config")).isNotNull();
    assertThat(get(ConfigMap.class, "ing-egress-config")).isNull();
    StatefulSet sts = get(StatefulSet.class, "ing");
    assertThat(sts.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv())
        .filteredOn(e -> e.getName().startsWith("TS_SERVE_CONFIG") || e.getName().equals("TS_INTERNAL_APP"))
        .extracting(EnvVar::getValue)
        .containsExactly("k8s-operator-proxygroup-ingress", "/etc/proxies/serve-config.json");
    assertThat(sts.getSpec().getTemplate().getSpec().getContainers().get(0).getLifecycle()).isNull();

    // A hand edit of the group's Role is put back and said on the group.
    Conflicts.retry(() -> env.client().rbac().roles().inNamespace(NS).withName("ing").edit(r -> {
      r.getRules().get(1).setVerbs(List.of("get", "patch", "update", "delete"));
      return r;
    }));
    await().atMost(WAIT).untilAsserted(() -> assertThat(get(Role.class, "ing").getRules().get(1).getVerbs())
        .containsExactly("get", "patch", "update"));
    Event reverted = await().atMost(WAIT).until(() -> env.event(ready, "ManualChangeReverted"), Optional::isPresent)
        .orElseThrow();
    assertThat(reverted.getMessage()).isEqualTo("reverted a manual change to rules[1].verbs of Role tailscale/ing");

    env.client().resources(ProxyGroup.class).withName("ing").delete();
    await().atMost(WAIT).until(() -> pg("ing") == null);
    assertThat(devicesNamed("web-ha")).isEmpty();
  }

  @Test
  void aReplicaWhoseDeviceWasDeletedIsReRegisteredUnderTheSameName() {
    create("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: relog
        spec:
          type: egress
          replicas: 1
        """);
    awaitReady("relog", 1);
    FakeDevice before = devicesNamed("relog").get(0);
    env.tailnet().deleteDeviceDirectly(before.nodeId());
    FakeDevice after = await().atMost(WAIT).until(() -> devicesNamed("relog"), l -> l.size() == 1
        && !l.get(0).nodeId().equals(before.nodeId())).get(0);
    assertThat(after.hostname()).isEqualTo("relog-0");
    ProxyGroup ready = awaitReady("relog", 1);
    Event e = await().atMost(WAIT).until(() -> env.event(ready, "ProxyReauthenticated"), Optional::isPresent)
        .orElseThrow();
    assertThat(e.getMessage()).contains("the proxy's device " + before.nodeId() + " no longer exists");
    env.client().resources(ProxyGroup.class).withName("relog").delete();
    await().atMost(WAIT).until(() -> pg("relog") == null);
  }

  @Test
  void aGroupWhoseNameIsTooLongForItsPodsIsRefusedWithWhatToDo() {
    String name = "a".repeat(53);
    create("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: %s
        spec:
          type: egress
        """.formatted(name));
    Condition c = await().atMost(WAIT).until(() -> condition(pg(name), "ProxyGroupReady"), Optional::isPresent)
        .orElseThrow();
    assertThat(c.getReason()).isEqualTo("ProxyGroupInvalid");
    assertThat(c.getMessage()).contains("is 53 characters long; at most 52 fit").contains("shorter name");
    assertThat(get(StatefulSet.class, name)).isNull();
    assertThat(env.tailnet().keys()).noneMatch(k -> k.description() != null && k.description().contains(name));
    env.client().resources(ProxyGroup.class).withName(name).delete();
  }

  @Test
  void aGroupWaitsForItsProxyClassAndSaysSo() {
    create("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: waits
        spec:
          type: egress
          replicas: 1
          proxyClass: not-there-yet
        """);
    Condition c = await().atMost(WAIT).until(() -> condition(pg("waits"), "ProxyGroupReady"), Optional::isPresent)
        .orElseThrow();
    assertThat(c.getReason()).isEqualTo("ProxyGroupCreating");
    assertThat(c.getMessage()).isEqualTo("the ProxyGroup's ProxyClass \"not-there-yet\" does not (yet) exist");
    assertThat(get(StatefulSet.class, "waits")).isNull();
    env.client().resource(Serialization.unmarshal("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyClass
        metadata:
          name: not-there-yet
        spec:
          statefulSet:
            pod:
              labels:
                team: edge
        """, io.tailops.api.v1alpha1.ProxyClass.class)).create();
    awaitReady("waits", 1);
    assertThat(get(StatefulSet.class, "waits").getSpec().getTemplate().getMetadata().getLabels())
        .containsEntry("team", "edge");
    env.client().resources(ProxyGroup.class).withName("waits").delete();
    await().atMost(WAIT).until(() -> pg("waits") == null);
  }

  @Test
  void doctorSaysHowEachGroupIsAndFailsOnARefusedOne() {
    create("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: doc
        spec:
          type: egress
          replicas: 1
        """);
    create("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: doc-api
        spec:
          type: kube-apiserver
        """);
    awaitReady("doc", 1);
    await().atMost(WAIT).until(() -> condition(pg("doc-api"), "ProxyGroupReady"), Optional::isPresent);
    io.tailops.controlplane.ControlPlane cp = io.tailops.controlplane.tailscale.TailscaleApiClient.builder(
            io.tailops.controlplane.tailscale.CredentialSource.fromFiles(env.dir().resolve("client_id"),
                env.dir().resolve("client_secret")))
        .loginServer(env.tailnet().baseUrl()).retryPolicy(io.tailops.controlplane.tailscale.RetryPolicy.noRetries())
        .build();
    List<io.tailops.operator.doctor.Doctor.Check> checks = io.tailops.operator.runtime.DoctorChecks.doctor(
        env.config(), env.client(), cp, false).run();
    String text = io.tailops.operator.doctor.Doctor.text(checks);
    assertThat(text).contains("ok   proxygroup doc: egress, 1 replica(s) running: doc-0")
        .contains("FAIL proxygroup doc-api: kube-apiserver, 0 replica(s) running; ProxyGroupInvalid: invalid "
            + "ProxyGroup spec: the ServiceAccount \"kube-apiserver-auth-proxy\" used for the API server proxy in auth "
            + "mode does not exist")
        .contains("ok   proxy proxygroup doc: device ").doesNotContain("doc-0-config");
    env.client().resources(ProxyGroup.class).withName("doc").delete();
    env.client().resources(ProxyGroup.class).withName("doc-api").delete();
    await().atMost(WAIT).until(() -> pg("doc") == null);
  }

  /** Sets the group's replicas with a merge patch (no resourceVersion: the operator writes its status meanwhile). */
  static void edit(String name, int replicas) {
    env.client().resources(ProxyGroup.class).withName(name).patch(
        io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
        "{\"spec\":{\"replicas\":" + replicas + "}}");
  }

  static List<String> resourceNames(Role role) {
    return role.getRules().stream().map(PolicyRule::getResourceNames).filter(n -> n != null && !n.isEmpty())
        .findFirst().orElse(List.of());
  }

  static String hepPings(String pg) {
    Map<String, String> binary = get(ConfigMap.class, pg + "-egress-config").getBinaryData();
    return new String(Base64.getDecoder().decode(binary.get("hep-pings")), StandardCharsets.UTF_8);
  }
}
