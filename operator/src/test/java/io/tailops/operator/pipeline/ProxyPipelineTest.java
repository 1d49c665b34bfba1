package io.tailops.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServiceStatus;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.controlplane.Device;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.k8s.HostnameClaims;
import io.tailops.operator.proxy.ProxyConfigSecret;
import io.tailops.operator.proxy.ProxySecrets;
import io.tailops.operator.proxy.TailscaledConfig;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.service.ServiceKind;
import io.tailops.operator.status.EventSink;
import io.tailops.operator.status.Problem;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The reconcile behaviours of the proxy pipeline (gates, provisioning, drift, status, cleanup) for a Service, against
 * an in-memory operator namespace and tailnet: each test runs in milliseconds without an API server.
 */
class ProxyPipelineTest {
  static final String NS = "tailscale";

  InMemoryCluster cluster;
  FakeControlPlane tailnet;
  List<Problem> events;
  List<String> eventTargets;
  Map<String, ProxyClass> proxyClasses;
  List<Service> parents;
  ProxyPipeline<Service, ServiceStatus, io.tailops.operator.service.ServicePlan.Expose> pipeline;
  Parent parent;

  /** The parent as the API server keeps it: finalizer and status writes are counted. */
  static final class Parent implements ParentWrites<Service> {
    Service current;
    int statusWrites;
    int finalizerWrites;

    @Override
    public Service addFinalizer(Service p, String finalizer) {
      finalizerWrites++;
      current = new ServiceBuilder(p).editMetadata().addToFinalizers(finalizer).endMetadata().build();
      return current;
    }

    @Override
    public Service removeFinalizer(Service p, String finalizer) {
      finalizerWrites++;
      current = new ServiceBuilder(p).editMetadata().removeFromFinalizers(finalizer).endMetadata().build();
      return current;
    }

    int updates;

    @Override
    public Service update(Service p, UnaryOperator<Service> change) {
      updates++;
      current = change.apply(p);
      return current;
    }

    @Override
    public void writeStatus(Service p, UnaryOperator<Service> withStatus) {
      statusWrites++;
      current = withStatus.apply(p);
    }

    int writes() {
      return statusWrites + finalizerWrites + updates;
    }
  }

  @BeforeEach
  void setUp() {
    cluster = new InMemoryCluster(NS);
    tailnet = new FakeControlPlane();
    events = new ArrayList<>();
    eventTargets = new ArrayList<>();
    proxyClasses = new LinkedHashMap<>();
    parents = new ArrayList<>();
    OperatorConfig config = OperatorConfig.fromEnv(Map.of("OPERATOR_NAMESPACE", NS, "CLIENT_ID_FILE", "/id",
        "CLIENT_SECRET_FILE", "/secret", "PROXY_IMAGE", "tailscale/tailscale:v1.94.2"));
    Clock clock = Clock.fixed(Instant.parse("2026-12-01T10:00:00Z"), ZoneOffset.UTC);
    EventSink sink = (obj, type, reason, message) -> {
      events.add(new Problem(type, reason, message));
      eventTargets.add(obj.getMetadata().getName());
    };
    OperatorContext ctx = PipelineTestContext.of(config, tailnet, sink, clock);
    ServiceKind kind = new ServiceKind(config, true, clock);
    ctx.hostnames().register("Service", h -> parents.stream()
        .filter(p -> kind.claim(p).hostnames().stream().anyMatch(x -> x.equalsIgnoreCase(h)))
        .map(p -> new HostnameClaims.Claim("Service", p.getMetadata().getNamespace(), p.getMetadata().getName(),
            p.getMetadata().getUid(), HostnameClaims.created(p.getMetadata().getCreationTimestamp())))
        .toList());
    ctx.hostnames().registerHolders("Service", h -> cluster.all(Secret.class).stream()
        .filter(s -> h.equalsIgnoreCase(io.tailops.operator.proxy.ReplicaState.of(s).configuredHostname()))
        .map(s -> io.tailops.operator.proxy.ChildLabels.parentOf(s.getMetadata().getLabels(), "svc").orElseThrow())
        .map(p -> new HostnameClaims.Holder(p.type(), p.namespace(), p.name(), "Service")).toList());
    pipeline = new ProxyPipeline<>(kind, ctx, cluster, cluster, name -> Optional.ofNullable(proxyClasses.get(name)));
    parent = new Parent();
  }

  static Service service(String name, String uid, String created, Map<String, String> annotations) {
    return new ServiceBuilder().withNewMetadata().withNamespace("default").withName(name).withUid(uid)
        .withResourceVersion("1").withCreationTimestamp(created).withAnnotations(annotations).endMetadata()
        .withNewSpec().withType("ClusterIP").withClusterIP("10.0.0.10").addNewPort().withPort(80).endPort().endSpec()
        .build();
  }

  /** Exposes Service default/web with hostname {@code web}. */
  void exposeWeb(Map<String, String> extra) {
    Map<String, String> a = new LinkedHashMap<>(Map.of("tailscale.com/expose", "true", "tailscale.com/hostname",
        "web"));
    a.putAll(extra);
    parent.current = service("web", "uid-web", "2026-12-01T09:00:00Z", a);
    parents.add(parent.current);
  }

  Optional<Duration> reconcile() throws Exception {
    Service p = parent.current;
    // a new resourceVersion per change, as the API server gives
    p.getMetadata().setResourceVersion(Integer.toString(Integer.parseInt(p.getMetadata().getResourceVersion()) + 1));
    return pipeline.reconcile(p, false, parent);
  }

  StatefulSet sts() {
    return cluster.all(StatefulSet.class).get(0);
  }

  Secret secret() {
    return cluster.all(Secret.class).get(0);
  }

  Service headless() {
    return cluster.all(Service.class).stream().filter(s -> "None".equals(s.getSpec().getClusterIP())).findFirst()
        .orElseThrow();
  }

  Optional<Condition> condition() {
    ServiceStatus st = parent.current.getStatus();
    return st == null || st.getConditions() == null ? Optional.empty() : st.getConditions().stream()
        .filter(c -> "TailscaleProxyReady".equals(c.getType())).findFirst();
  }

  /** Plays the proxy: logs in and writes its state into the Secret; the device appears in the tailnet. */
  void proxyLogsIn() {
    Secret s = secret();
    Map<String, String> data = new LinkedHashMap<>(s.getData());
    data.putAll(ProxyConfigSecret.encode(Map.of("device_id", "node-1", "device_fqdn", "web.tailnet.ts.net.",
        "device_ips", "[\"100.64.0.1\",\"fd7a::1\"]", "pod_uid", "pod-1", "tailscale_capver", "120")));
    s.setData(data);
    cluster.edit(s);
    tailnet.devices.put("node-1", new Device("node-1", "1", "web.tailnet.ts.net", "web", List.of("100.64.0.1"),
        List.of("tag:k8s"), null, true, null));
  }

  /** Creates the proxy and lets it log in, then checks the world is settled. */
  void runningProxy() throws Exception {
    exposeWeb(Map.of());
    reconcile();
    proxyLogsIn();
    reconcile();
    assertThat(condition()).hasValueSatisfying(c -> assertThat(c.getStatus()).isEqualTo("True"));
    events.clear();
    cluster.writes.clear();
    parent.statusWrites = 0;
    parent.finalizerWrites = 0;
  }

  @Test
  void aNewServiceGetsItsProxyWithOneStatusWriteAndAResyncWritesNothing() throws Exception {
    exposeWeb(Map.of());
    reconcile();
    assertThat(cluster.writes).containsExactly("create Service/" + headless().getMetadata().getName(),
        "create Secret/" + secret().getMetadata().getName(), "create ServiceAccount/" + sts().getMetadata().getName(),
        "create Role/" + sts().getMetadata().getName(), "create RoleBinding/" + sts().getMetadata().getName(),
        "create StatefulSet/" + sts().getMetadata().getName());
    assertThat(parent.finalizerWrites).isEqualTo(1);
    assertThat(parent.statusWrites).isEqualTo(1);
    assertThat(condition()).hasValueSatisfying(c -> assertThat(c.getReason()).isEqualTo("ProxyPending"));
    assertThat(tailnet.keys).hasSize(1);
    assertThat(events).extracting(Problem::reason).containsExactly("ProxyProvisioning");

    proxyLogsIn();
    int before = cluster.writeCount();
    reconcile();
    // The auth key leaves the config and the device ID is remembered: one patch; the status says ready: one write.
    assertThat(cluster.writes.subList(before, cluster.writeCount())).containsExactly("patch Secret/"
        + secret().getMetadata().getName());
    assertThat(TailscaledConfig.authKeyOf(ProxyConfigSecret.value(secret(), TailscaledConfig.CAP_107))).isNull();
    assertThat(secret().getMetadata().getAnnotations()).containsEntry(ProxySecrets.DEVICE_ID, "node-1");
    assertThat(parent.statusWrites).isEqualTo(2);
    assertThat(condition().orElseThrow().getMessage()).contains("web.tailnet.ts.net");

    int writes = cluster.writeCount();
    reconcile();
    reconcile();
    assertThat(cluster.writeCount()).isEqualTo(writes);
    assertThat(parent.statusWrites).isEqualTo(2);
    assertThat(tailnet.keys).hasSize(1);
  }

  @Test
  void handEditsOfTheStatefulSetAreRevertedWithAnEventNamingTheField() throws Exception {
    runningProxy();
    StatefulSet original = sts();
    String name = original.getMetadata().getName();
    record Edit(String field, UnaryOperator<StatefulSet> change) {
    }
    List<Edit> edits = List.of(
        new Edit("spec.replicas", s -> new StatefulSetBuilder(s).editSpec().withReplicas(0).endSpec().build()),
        new Edit("spec.template.spec.containers[tailscale].image", s -> new StatefulSetBuilder(s).editSpec()
            .editTemplate().editSpec().editFirstContainer().withImage("evil/proxy:1").endContainer().endSpec()
            .endTemplate().endSpec().build()),
        new Edit("spec.template.spec.containers[tailscale].env[TS_DEST_IP]", s -> {
          StatefulSet c = InMemoryCluster.copy(s);
          for (EnvVar e : c.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()) {
            if (e.getName().equals("TS_DEST_IP")) {
              e.setValue("10.9.9.9");
            }
          }
          return c;
        }),
        new Edit("spec.template.spec.volumes", s -> new StatefulSetBuilder(s).editSpec().editTemplate().editSpec()
            .addToVolumes(new VolumeBuilder().withName("extra").withNewEmptyDir().endEmptyDir().build()).endSpec()
            .endTemplate().endSpec().build()));
    for (Edit edit : edits) {
      cluster.edit(edit.change().apply(sts()));
      events.clear();
      int before = cluster.writeCount();
      reconcile();
      assertThat(cluster.writes.subList(before, cluster.writeCount())).as(edit.field())
          .containsExactly("patch StatefulSet/" + name);
      assertThat(sts().getSpec()).as(edit.field()).usingRecursiveComparison().isEqualTo(original.getSpec());
      assertThat(events).as(edit.field()).containsExactly(Problem.normal(ProxyPipeline.REASON_REVERTED,
          "reverted a manual change to " + edit.field() + " of StatefulSet tailscale/" + name));
      assertThat(eventTargets.get(eventTargets.size() - 1)).isEqualTo("web");
    }
    int writes = cluster.writeCount();
    reconcile();
    assertThat(cluster.writeCount()).isEqualTo(writes);
    assertThat(parent.statusWrites).isZero();
  }

  @Test
  void handEditsOfTheHeadlessServiceAndTheConfigKeysAreReverted() throws Exception {
    runningProxy();
    Service svc = headless();
    cluster.edit(new ServiceBuilder(svc).editSpec().withSelector(Map.of("app", "someone-else")).endSpec().build());
    Secret s = secret();
    String config = ProxyConfigSecret.value(s, TailscaledConfig.CAP_107);
    Map<String, String> data = new LinkedHashMap<>(s.getData());
    data.putAll(ProxyConfigSecret.encode(Map.of(TailscaledConfig.CAP_107, config.replace("\"web\"", "\"other\""))));
    s.setData(data);
    cluster.edit(s);
    reconcile();
    assertThat(headless().getSpec().getSelector()).containsExactly(Map.entry("app", "uid-web"));
    assertThat(ProxyConfigSecret.value(secret(), TailscaledConfig.CAP_107)).isEqualTo(config);
    assertThat(secret().getData()).containsKey("device_id"); // the proxy's keys stay
    assertThat(events).extracting(Problem::message).containsExactlyInAnyOrder(
        "reverted a manual change to spec.selector of Service tailscale/" + svc.getMetadata().getName(),
        "reverted a manual change to data[cap-107.hujson] of Secret tailscale/" + s.getMetadata().getName());
    assertThat(events).allMatch(e -> e.type().equals("Normal") && e.reason().equals(ProxyPipeline.REASON_REVERTED));
  }

  @Test
  void fieldsTheApiServerAddsAndTheProxysOwnKeysCauseNoWrite() throws Exception {
    runningProxy();
    StatefulSet s = sts();
    var pod = s.getSpec().getTemplate().getSpec();
    pod.setDnsPolicy("ClusterFirst");
    pod.setRestartPolicy("Always");
    pod.setSchedulerName("default-scheduler");
    pod.setTerminationGracePeriodSeconds(30L);
    pod.getContainers().get(0).setTerminationMessagePath("/dev/termination-log");
    pod.getVolumes().get(0).getSecret().setDefaultMode(420);
    s.getSpec().setPodManagementPolicy("OrderedReady");
    s.getSpec().setRevisionHistoryLimit(10);
    s.setStatus(new io.fabric8.kubernetes.api.model.apps.StatefulSetStatusBuilder().withReplicas(1)
        .withReadyReplicas(1).build());
    s.getMetadata().getLabels().put("added-by-someone", "x");
    cluster.edit(s);
    Secret secret = secret();
    Map<String, String> data = new LinkedHashMap<>(secret.getData());
    data.putAll(ProxyConfigSecret.encode(Map.of("_machinekey", "m", "https_endpoint", "web.tailnet.ts.net")));
    secret.setData(data);
    cluster.edit(secret);
    reconcile();
    assertThat(cluster.writes).isEmpty();
    assertThat(parent.writes()).isZero();
    assertThat(events).isEmpty();
  }

  @Test
  void aChangedHostnameUpdatesTheProxyWithoutCallingItAHandEdit() throws Exception {
    runningProxy();
    parent.current.getMetadata().getAnnotations().put("tailscale.com/hostname", "web2");
    parents.set(0, parent.current);
    reconcile();
    assertThat(TailscaledConfig.hostnameOf(ProxyConfigSecret.value(secret(), TailscaledConfig.CAP_107)))
        .isEqualTo("web2");
    assertThat(cluster.writes).containsExactly("patch Secret/" + secret().getMetadata().getName(),
        "patch StatefulSet/" + sts().getMetadata().getName());
    assertThat(events).noneMatch(e -> e.reason().equals(ProxyPipeline.REASON_REVERTED));
    assertThat(tailnet.keys).hasSize(1);
  }

  @Test
  void aMissingProxyClassBlocksWithoutTouchingAnything() throws Exception {
    exposeWeb(Map.of("tailscale.com/proxy-class", "prod"));
    reconcile();
    assertThat(cluster.writes).isEmpty();
    assertThat(tailnet.calls).isEmpty();
    assertThat(parent.finalizerWrites).isZero();
    String message = "error verifying ProxyClass for Service: ProxyClass prod not found; create it or remove the "
        + "tailscale.com/proxy-class label/annotation";
    assertThat(condition()).hasValueSatisfying(c -> {
      assertThat(c.getReason()).isEqualTo("ProxyFailed");
      assertThat(c.getMessage()).isEqualTo(message);
    });
    assertThat(events).containsExactly(Problem.warning("ProxyClassNotFound", message));
    reconcile();
    assertThat(parent.statusWrites).isEqualTo(1);
    assertThat(events).hasSize(1);
  }

  @Test
  void aHostnameHeldByAnOlderServiceBlocksAndLooksAgainLater() throws Exception {
    parents.add(service("first", "uid-first", "2026-11-01T00:00:00Z", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "web")));
    exposeWeb(Map.of());
    Optional<Duration> again = reconcile();
    assertThat(again).contains(ProxyPipeline.CONFLICT_RECHECK);
    assertThat(cluster.writes).isEmpty();
    assertThat(tailnet.keys).isEmpty();
    assertThat(condition().orElseThrow().getMessage()).isEqualTo("hostname web is already used by Service "
        + "default/first; set a different tailscale.com/hostname annotation");
  }

  @Test
  void aParentThatLostItsHostnameLosesItsProxyAndItsDevice() throws Exception {
    runningProxy();
    String name = sts().getMetadata().getName();
    // An older claim appears (the caches showed it only now): web loses the name, its proxy and its device.
    parents.add(service("first", "uid-first", "2026-11-01T00:00:00Z", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "web")));
    reconcile();
    assertThat(cluster.writes).containsExactly("delete StatefulSet/" + name);
    assertThat(condition().orElseThrow().getReason()).isEqualTo("HostnameConflict");
    reconcile();
    assertThat(tailnet.calls).contains("deleteDevice node-1");
    assertThat(cluster.all(Secret.class)).isEmpty();
    assertThat(cluster.all(Service.class)).isEmpty();
    assertThat(parent.current.getMetadata().getFinalizers()).doesNotContain("tailscale.com/finalizer");
    assertThat(condition().orElseThrow().getMessage()).isEqualTo("hostname web is already used by Service "
        + "default/first; set a different tailscale.com/hostname annotation");
    assertThat(events).extracting(Problem::reason).contains("ProxyRemoved", "HostnameConflict");
    int writes = cluster.writeCount();
    reconcile();
    assertThat(cluster.writeCount()).isEqualTo(writes);
    assertThat(tailnet.keys).hasSize(1);
  }

  @Test
  void theOwnerWaitsUntilNoOtherProxyAsksForItsHostname() throws Exception {
    // The proxy of a Service that lost the name is still being removed: its Secret still asks for "web".
    Secret other = ProxyConfigSecret.build(new io.tailops.operator.proxy.ProxySpec(new io.tailops.operator.proxy
        .ParentRef("svc", "default", "loser", "uid-loser"), "web", List.of("tag:k8s"), new io.tailops.operator.proxy
        .ProxyTarget.ClusterIp("10.0.0.9"), null, false, false, false), "ts-loser-abcde-0",
        Map.of(TailscaledConfig.CAP_107, "{\"Version\":\"alpha0\",\"Hostname\":\"web\"}"),
        io.tailops.operator.proxy.ProxyDefaults.from(OperatorConfig.fromEnv(Map.of("OPERATOR_NAMESPACE", NS,
            "CLIENT_ID_FILE", "/id", "CLIENT_SECRET_FILE", "/secret"))));
    cluster.edit(other);
    exposeWeb(Map.of());
    Optional<Duration> again = reconcile();
    assertThat(again).contains(ProxyPipeline.CONFLICT_RECHECK);
    assertThat(cluster.writes).isEmpty();
    assertThat(tailnet.keys).isEmpty();
    assertThat(condition().orElseThrow().getReason()).isEqualTo("ProxyPending");
    assertThat(condition().orElseThrow().getMessage()).isEqualTo("waiting for the proxy of Service default/loser to "
        + "let go of hostname web (it is being removed or renamed), so that this proxy's device gets the name web and "
        + "not web-1");
    cluster.delete(other, false);
    reconcile();
    assertThat(tailnet.keys).hasSize(1);
    assertThat(cluster.all(StatefulSet.class)).hasSize(1);
  }

  @Test
  void aProxySecretDeletedByHandIsMadeAgainAndTheOldDeviceGoesFirst() throws Exception {
    runningProxy();
    Secret old = secret();
    String name = old.getMetadata().getName();
    cluster.delete(old, false);
    cluster.writes.clear();
    reconcile();
    // The old device (remembered in the registry, not only on the Secret) is deleted, the pod restarted, then the new
    // Secret with a fresh key: the new registration gets the name web, not web-1.
    assertThat(tailnet.calls).containsSubsequence("deleteDevice node-1", "createAuthKey");
    assertThat(cluster.writes).containsSubsequence("delete Pod/" + name, "create Secret/" + name);
    assertThat(tailnet.keys).hasSize(2);
    assertThat(events).filteredOn(e -> e.reason().equals(ProxyPipeline.REASON_SECRET_RECREATED)).singleElement()
        .satisfies(e -> assertThat(e.message()).isEqualTo("the proxy Secret tailscale/" + name + " was deleted: the "
            + "operator created it again with a new auth key, deleted the proxy's previous device [node-1 (web)] so "
            + "that the new one gets the name web, and restarted the proxy"));
    // Removing the proxy later deletes every device it registered.
    Secret fresh = secret();
    Map<String, String> data = new LinkedHashMap<>(fresh.getData());
    data.putAll(ProxyConfigSecret.encode(Map.of("device_id", "node-2")));
    fresh.setData(data);
    cluster.edit(fresh);
    reconcile();
    parent.current.getMetadata().getAnnotations().remove("tailscale.com/expose");
    reconcile();
    reconcile();
    assertThat(tailnet.calls).contains("deleteDevice node-2");
  }

  @Test
  void removingTheAnnotationRemovesTheStatefulSetFirstThenDevicesSecretsAndServices() throws Exception {
    runningProxy();
    String name = sts().getMetadata().getName();
    parent.current.getMetadata().getAnnotations().remove("tailscale.com/expose");
    reconcile();
    assertThat(cluster.writes).containsExactly("delete StatefulSet/" + name);
    assertThat(tailnet.calls).noneMatch(c -> c.startsWith("deleteDevice"));
    reconcile();
    assertThat(tailnet.calls).contains("deleteDevice node-1");
    assertThat(cluster.all(Secret.class)).isEmpty();
    assertThat(cluster.all(Service.class)).isEmpty();
    assertThat(parent.current.getMetadata().getFinalizers()).doesNotContain("tailscale.com/finalizer");
    assertThat(condition()).isEmpty();
    assertThat(events).extracting(Problem::reason).containsExactly("ProxyRemoved");
  }

  @Test
  void aFinalizerWithoutAProxyIsRemovedWithoutSayingAProxyWasRemoved() throws Exception {
    // e.g. a Service that egressed through a ProxyGroup (whose controller sets the same finalizer) and no longer does
    parent.current = new ServiceBuilder(service("db", "uid-db", "2026-12-01T09:00:00Z", Map.of())).editMetadata()
        .addToFinalizers("tailscale.com/finalizer").endMetadata().build();
    parents.add(parent.current);
    reconcile();
    assertThat(parent.current.getMetadata().getFinalizers()).doesNotContain("tailscale.com/finalizer");
    assertThat(cluster.writes).isEmpty();
    assertThat(events).extracting(Problem::reason).doesNotContain("ProxyRemoved");
  }

  @Test
  void anInvalidServiceGetsAConditionAndAnEventAndNothingElse() throws Exception {
    exposeWeb(Map.of("tailscale.com/tags", "k8s"));
    reconcile();
    String message = "unable to provision proxy resources: invalid Service: invalid tag \"k8s\": tags must start "
        + "with 'tag:'";
    assertThat(condition()).hasValueSatisfying(c -> assertThat(c.getMessage()).isEqualTo(message));
    assertThat(events).containsExactly(Problem.warning("INVALIDSERVICE", message));
    assertThat(cluster.writes).isEmpty();
    assertThat(parent.finalizerWrites).isZero();
  }

  static <T extends HasMetadata> T copy(T obj) {
    return InMemoryCluster.copy(obj);
  }
}
