package io.tailops.operator.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.tailops.api.v1alpha1.AppConnector;
import io.tailops.api.v1alpha1.Connector;
import io.tailops.api.v1alpha1.ConnectorSpec;
import io.tailops.api.v1alpha1.ConnectorStatus;
import io.tailops.api.v1alpha1.SubnetRouter;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.Device;
import io.tailops.controlplane.DeviceRoutes;
import io.tailops.controlplane.TailnetPolicy;
import io.tailops.operator.config.ConnectorSettings;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.connector.ConnectorKind;
import io.tailops.operator.connector.ConnectorPlan;
import io.tailops.operator.connector.ConnectorTailnetChecks;
import io.tailops.operator.proxy.ProxyConfigSecret;
import io.tailops.operator.proxy.TailscaledConfig;
import io.tailops.operator.reconcile.OperatorContext;
import io.tailops.operator.status.EventSink;
import io.tailops.operator.status.Problem;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Connectors through the proxy pipeline, in memory: the proxy objects of each mode, replicas, the ConnectorReady
 * condition as devices log in and routes wait for approval, the operator approving routes on headscale when set to,
 * no control-plane call once settled, bad input, and cleanup of the devices.
 */
class ConnectorPipelineTest {
  static final String NS = "tailscale";

  InMemoryCluster cluster;
  FakeControlPlane tailnet;
  List<Problem> events;
  MutableClock clock;
  ProxyPipeline<Connector, ConnectorStatus, ConnectorPlan> pipeline;
  ParentStore parent;

  static final class MutableClock extends Clock {
    Instant now = Instant.parse("2026-12-07T10:00:00Z");

    @Override
    public ZoneId getZone() {
      return ZoneId.of("UTC");
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  /** The Connector as the API server keeps it. */
  static final class ParentStore implements ParentWrites<Connector> {
    Connector current;
    int statusWrites;

    @Override
    public Connector addFinalizer(Connector p, String finalizer) {
      current = copy(p);
      current.getMetadata().getFinalizers().add(finalizer);
      return current;
    }

    @Override
    public Connector removeFinalizer(Connector p, String finalizer) {
      current = copy(p);
      current.getMetadata().getFinalizers().remove(finalizer);
      return current;
    }

    @Override
    public Connector update(Connector p, UnaryOperator<Connector> change) {
      throw new AssertionError("a Connector's spec is never written (only egress Services are changed by the pipeline)");
    }

    @Override
    public void writeStatus(Connector p, UnaryOperator<Connector> withStatus) {
      statusWrites++;
      current = withStatus.apply(p);
    }

    static Connector copy(Connector c) {
      return InMemoryCluster.copy(c);
    }
  }

  @BeforeEach
  void setUp() {
    setUp(false, ControlPlane.Capabilities.tailscale());
  }

  void setUp(boolean approveOnHeadscale, ControlPlane.Capabilities caps) {
    cluster = new InMemoryCluster(NS);
    tailnet = new FakeControlPlane();
    tailnet.capabilities = caps;
    events = new ArrayList<>();
    clock = new MutableClock();
    OperatorConfig config = OperatorConfig.fromEnv(Map.of("OPERATOR_NAMESPACE", NS, "CLIENT_ID_FILE", "/id",
        "CLIENT_SECRET_FILE", "/secret", "PROXY_IMAGE", "tailscale/tailscale:v1.94.2", "PROXY_FIREWALL_MODE",
        "auto"));
    EventSink sink = (obj, type, reason, message) -> events.add(new Problem(type, reason, message));
    OperatorContext ctx = PipelineTestContext.of(config, tailnet, sink, clock);
    ConnectorKind kind = new ConnectorKind(List.of("tag:k8s"), new ConnectorTailnetChecks(() -> tailnet,
        new ConnectorSettings(approveOnHeadscale, Duration.ofSeconds(30)), clock), caps.name(), clock);
    pipeline = new ProxyPipeline<>(kind, ctx, cluster, cluster, name -> Optional.empty());
    parent = new ParentStore();
  }

  Connector create(String name, Consumer<ConnectorSpec> spec) {
    Connector c = new Connector();
    c.setMetadata(new ObjectMetaBuilder().withName(name).withUid("uid-" + name).withGeneration(1L)
        .withResourceVersion("1").withFinalizers(new ArrayList<>()).build());
    ConnectorSpec s = new ConnectorSpec();
    spec.accept(s);
    c.setSpec(s);
    parent.current = c;
    return c;
  }

  Optional<Duration> reconcile() throws Exception {
    Connector c = parent.current;
    c.getMetadata().setResourceVersion(Long.toString(Long.parseLong(c.getMetadata().getResourceVersion()) + 1));
    return pipeline.reconcile(c, false, parent);
  }

  Condition ready() {
    return parent.current.getStatus().getConditions().stream().filter(c -> c.getType().equals("ConnectorReady"))
        .findFirst().orElseThrow();
  }

  StatefulSet sts() {
    return cluster.all(StatefulSet.class).get(0);
  }

  /** What containerboot writes once the replica's device is up; the device joins the fake tailnet. */
  void logIn(String secretName, String nodeId, String fqdn, String ip, List<String> advertised,
      List<String> approved) {
    Secret s = cluster.get(Secret.class, secretName);
    Map<String, String> data = new LinkedHashMap<>(s.getData());
    data.putAll(ProxyConfigSecret.encode(Map.of("device_id", nodeId, "device_fqdn", fqdn + ".", "device_ips",
        "[\"" + ip + "\"]")));
    s.setData(data);
    cluster.edit(s);
    tailnet.devices.put(nodeId, new Device(nodeId, nodeId, fqdn, fqdn, List.of(ip), List.of("tag:k8s"), null, true,
        null));
    tailnet.routes.put(nodeId, new DeviceRoutes(advertised, approved));
  }

  static String env(StatefulSet sts, String name) {
    return sts.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .filter(e -> e.getName().equals(name)).map(EnvVar::getValue).findFirst().orElse(null);
  }

  @Test
  void aSubnetRouterGetsTheConnectorProxyAndIsReadyOnceItsRouteIsApproved() throws Exception {
    create("cn-subnet", s -> s.setSubnetRouter(new SubnetRouter(List.of("192.168.10.0/24", "10.40.0.0/14"))));
    assertThat(reconcile()).isEmpty();

    StatefulSet sts = sts();
    String name = sts.getMetadata().getName();
    assertThat(name).startsWith("ts-cn-subnet-");
    assertThat(sts.getMetadata().getLabels()).containsEntry("tailscale.com/parent-resource-type", "connector")
        .containsEntry("tailscale.com/parent-resource", "cn-subnet").containsEntry("tailscale.com/parent-resource-ns",
            "");
    assertThat(env(sts, "TS_INTERNAL_APP")).isEqualTo("k8s-operator-connector-resource");
    assertThat(env(sts, "TS_USERSPACE")).isEqualTo("false");
    assertThat(env(sts, "TS_DEST_IP")).isNull();
    assertThat(env(sts, "TS_SERVE_CONFIG")).isNull();
    assertThat(sts.getSpec().getTemplate().getSpec().getInitContainers()).extracting(c -> c.getName())
        .containsExactly("sysctler");
    String cap107 = ProxyConfigSecret.value(cluster.get(Secret.class, name + "-0"), TailscaledConfig.CAP_107);
    assertThat(cap107).contains("\"Hostname\":\"cn-subnet-connector\"")
        .contains("\"AdvertiseRoutes\":[\"10.40.0.0/14\",\"192.168.10.0/24\"]")
        .contains("\"AppConnector\":{\"Advertise\":false}");
    assertThat(cluster.all(Service.class)).hasSize(1);
    assertThat(parent.current.getMetadata().getFinalizers()).containsExactly("tailscale.com/finalizer");

    ConnectorStatus st = parent.current.getStatus();
    assertThat(st.getSubnetRoutes()).isEqualTo("192.168.10.0/24,10.40.0.0/14");
    assertThat(st.getIsExitNode()).isFalse();
    assertThat(st.getIsAppConnector()).isFalse();
    assertThat(st.getDevices()).isEmpty();
    assertThat(ready().getStatus()).isEqualTo("False");
    assertThat(ready().getReason()).isEqualTo("ConnectorCreating");
    assertThat(ready().getObservedGeneration()).isEqualTo(1L);

    // The device logs in; the tailnet has not approved its routes yet.
    logIn(name + "-0", "nSub1", "cn-subnet-connector.tailnet-abc.ts.net", "100.64.0.5",
        List.of("10.40.0.0/14", "192.168.10.0/24"), List.of());
    assertThat(reconcile()).contains(Duration.ofSeconds(30));
    assertThat(ready().getReason()).isEqualTo("RoutesNotApproved");
    assertThat(ready().getMessage()).contains("advertises routes 10.40.0.0/14, 192.168.10.0/24 but the tailnet has "
        + "not approved them").contains("\"autoApprovers\": {\"routes\": {\"10.40.0.0/14\": [\"tag:k8s\"], "
            + "\"192.168.10.0/24\": [\"tag:k8s\"]}}");
    assertThat(events).extracting(Problem::reason).contains("RoutesNotApproved");
    assertThat(parent.current.getStatus().getHostname()).isEqualTo("cn-subnet-connector.tailnet-abc.ts.net");
    assertThat(parent.current.getStatus().getTailnetIPs()).containsExactly("100.64.0.5");

    // Before the recheck interval nothing is asked again; after it, the approval is seen.
    tailnet.routes.put("nSub1", new DeviceRoutes(List.of("10.40.0.0/14", "192.168.10.0/24"),
        List.of("10.40.0.0/14", "192.168.10.0/24")));
    tailnet.calls.clear();
    reconcile();
    assertThat(tailnet.calls).isEmpty();
    clock.now = clock.now.plusSeconds(31);
    assertThat(reconcile()).isEmpty();
    assertThat(ready().getStatus()).isEqualTo("True");
    assertThat(ready().getReason()).isEqualTo("ConnectorCreated");
    assertThat(ready().getMessage()).isEqualTo("Connector is ready: subnet router for 10.40.0.0/14, 192.168.10.0/24; "
        + "device cn-subnet-connector.tailnet-abc.ts.net (100.64.0.5); routes approved in the tailnet");
    assertThat(events).extracting(Problem::reason).contains("ConnectorReady");

    // Settled: later reconciles ask the control plane nothing and write nothing.
    tailnet.calls.clear();
    int writes = cluster.writeCount();
    int statusWrites = parent.statusWrites;
    clock.now = clock.now.plusSeconds(3600);
    assertThat(reconcile()).isEmpty();
    assertThat(tailnet.calls).isEmpty();
    assertThat(cluster.writeCount()).isEqualTo(writes);
    assertThat(parent.statusWrites).isEqualTo(statusWrites);
  }

  @Test
  void changingTheRoutesRewritesTheConfigAndWaitsUntilTheDeviceAdvertisesThem() throws Exception {
    create("cn", s -> s.setSubnetRouter(new SubnetRouter(List.of("10.1.0.0/16"))));
    reconcile();
    String name = sts().getMetadata().getName();
    logIn(name + "-0", "n1", "cn-connector.ts.net", "100.64.0.1", List.of("10.1.0.0/16"), List.of("10.1.0.0/16"));
    reconcile();
    assertThat(ready().getStatus()).isEqualTo("True");

    parent.current.getSpec().setSubnetRouter(new SubnetRouter(List.of("10.1.0.0/16", "10.2.0.0/16")));
    parent.current.getSpec().setExitNode(true);
    parent.current.getMetadata().setGeneration(2L);
    assertThat(reconcile()).contains(Duration.ofSeconds(30));
    assertThat(ProxyConfigSecret.value(cluster.get(Secret.class, name + "-0"), TailscaledConfig.CAP_107))
        .contains("\"AdvertiseRoutes\":[\"0.0.0.0/0\",\"::/0\",\"10.1.0.0/16\",\"10.2.0.0/16\"]");
    assertThat(ready().getReason()).isEqualTo("ConnectorCreating");
    assertThat(ready().getMessage()).isEqualTo("waiting for device cn-connector to advertise 0.0.0.0/0, ::/0, "
        + "10.2.0.0/16 (the proxy applies its new config)");
    assertThat(ready().getObservedGeneration()).isEqualTo(2L);
    assertThat(parent.current.getStatus().getIsExitNode()).isTrue();
    assertThat(parent.current.getStatus().getSubnetRoutes()).isEqualTo("10.1.0.0/16,10.2.0.0/16");

    tailnet.routes.put("n1", new DeviceRoutes(List.of("0.0.0.0/0", "::/0", "10.1.0.0/16", "10.2.0.0/16"),
        List.of("10.1.0.0/16", "10.2.0.0/16")));
    clock.now = clock.now.plusSeconds(31);
    reconcile();
    assertThat(ready().getReason()).isEqualTo("ExitNodeNotApproved");
  }

  @Test
  void onHeadscaleTheOperatorApprovesTheConnectorsRoutesWhenSetTo() throws Exception {
    setUp(true, new ControlPlane.Capabilities("headscale", false, false, true));
    create("cn", s -> {
      s.setExitNode(true);
      s.setSubnetRouter(new SubnetRouter(List.of("10.1.0.0/16")));
    });
    reconcile();
    String name = sts().getMetadata().getName();
    // the device also advertises a route the Connector does not ask for: never approved by the operator
    logIn(name + "-0", "7", "cn-connector.tailnet.test", "100.64.0.7", List.of("0.0.0.0/0", "::/0", "10.1.0.0/16",
        "172.16.0.0/12"), List.of());
    reconcile();
    assertThat(tailnet.calls).contains("setApprovedRoutes 7 [0.0.0.0/0, ::/0, 10.1.0.0/16]");
    assertThat(tailnet.routes.get("7").approved()).containsExactly("0.0.0.0/0", "::/0", "10.1.0.0/16");
    assertThat(ready().getReason()).isEqualTo("RoutesNotApproved");
    assertThat(ready().getMessage()).contains("route 172.16.0.0/12").contains("the operator approves it "
        + "(HEADSCALE_APPROVE_ROUTES=true)");
  }

  @Test
  void withoutTheSettingTheHeadscaleMessageSaysHowToApprove() throws Exception {
    setUp(false, new ControlPlane.Capabilities("headscale", false, false, true));
    create("cn", s -> s.setExitNode(true));
    reconcile();
    logIn(sts().getMetadata().getName() + "-0", "7", "cn-connector.tailnet.test", "100.64.0.7",
        List.of("0.0.0.0/0", "::/0"), List.of());
    reconcile();
    assertThat(tailnet.calls).noneMatch(c -> c.startsWith("setApprovedRoutes"));
    assertThat(ready().getReason()).isEqualTo("ExitNodeNotApproved");
    assertThat(ready().getMessage()).contains("headscale nodes approve-routes --identifier 7 --routes 0.0.0.0/0,::/0")
        .contains("HEADSCALE_APPROVE_ROUTES=true, chart value headscale.approveRoutes");
  }

  @Test
  void replicasGetNumberedHostnamesAndAllMustBeUp() throws Exception {
    create("cn-ha", s -> {
      s.setReplicas(2);
      s.setHostnamePrefix("ha-router");
      s.setSubnetRouter(new SubnetRouter(List.of("10.60.0.0/16")));
    });
    reconcile();
    String name = sts().getMetadata().getName();
    assertThat(sts().getSpec().getReplicas()).isEqualTo(2);
    assertThat(cluster.all(Secret.class)).extracting(s -> TailscaledConfig.hostnameOf(ProxyConfigSecret.value(s,
        TailscaledConfig.CAP_107))).containsExactly("ha-router-0", "ha-router-1");
    logIn(name + "-0", "n0", "ha-router-0.ts.net", "100.64.0.10", List.of("10.60.0.0/16"), List.of("10.60.0.0/16"));
    reconcile();
    assertThat(ready().getMessage()).isEqualTo("waiting for device ha-router-1 to log in to the tailnet (1 of 2 up)");
    assertThat(parent.current.getStatus().getDevices()).hasSize(1);
    logIn(name + "-1", "n1", "ha-router-1.ts.net", "100.64.0.11", List.of("10.60.0.0/16"), List.of("10.60.0.0/16"));
    reconcile();
    assertThat(ready().getStatus()).isEqualTo("True");
    assertThat(parent.current.getStatus().getDevices()).extracting(d -> d.getHostname())
        .containsExactly("ha-router-0.ts.net", "ha-router-1.ts.net");
    assertThat(parent.current.getStatus().getHostname()).isEqualTo("ha-router-0.ts.net");
  }

  @Test
  void zeroReplicasRunNoPodAndSaySo() throws Exception {
    create("cn-zero", s -> {
      s.setReplicas(0);
      s.setExitNode(true);
    });
    assertThat(reconcile()).isEmpty();
    assertThat(sts().getSpec().getReplicas()).isZero();
    assertThat(sts().getSpec().getTemplate().getSpec().getVolumes()).isNullOrEmpty();
    assertThat(cluster.all(Secret.class)).isEmpty();
    assertThat(tailnet.keys).isEmpty();
    assertThat(ready().getReason()).isEqualTo("ConnectorScaledToZero");
    assertThat(parent.current.getStatus().getDevices()).isEmpty();
  }

  @Test
  void anAppConnectorWithoutItsPolicyEntryIsNotReady() throws Exception {
    create("cn-app", s -> s.setAppConnector(new AppConnector()));
    reconcile();
    assertThat(ProxyConfigSecret.value(cluster.all(Secret.class).get(0), TailscaledConfig.CAP_107))
        .contains("\"AppConnector\":{\"Advertise\":true}").doesNotContain("AdvertiseRoutes");
    logIn(sts().getMetadata().getName() + "-0", "nA", "cn-app-connector.ts.net", "100.64.0.3", List.of(),
        List.of());
    reconcile();
    assertThat(ready().getReason()).isEqualTo("AppConnectorNotConfigured");
    assertThat(parent.current.getStatus().getIsAppConnector()).isTrue();
    tailnet.policy = new TailnetPolicy(Map.of(), List.of(), List.of(new TailnetPolicy.AppConnector("github",
        List.of("tag:k8s"), List.of("github.com"))));
    clock.now = clock.now.plusSeconds(31);
    reconcile();
    assertThat(ready().getStatus()).isEqualTo("True");
  }

  @Test
  void anInvalidConnectorGetsTheOfficialConditionAndNothingElse() throws Exception {
    create("bad", s -> s.setSubnetRouter(new SubnetRouter(List.of("1.2.3.4/5"))));
    reconcile();
    assertThat(ready().getStatus()).isEqualTo("False");
    assertThat(ready().getReason()).isEqualTo("ConnectorInvalid");
    assertThat(ready().getMessage()).isEqualTo("Connector is invalid: route 1.2.3.4/5 has non-address bits set; "
        + "expected 0.0.0.0/5");
    assertThat(events).containsExactly(Problem.warning("ConnectorInvalid", ready().getMessage()));
    assertThat(cluster.writeCount()).isZero();
    assertThat(tailnet.calls).isEmpty();
    assertThat(parent.current.getMetadata().getFinalizers()).isEmpty();
  }

  @Test
  void deletingTheConnectorDeletesItsProxyAndDevices() throws Exception {
    create("cn-ha", s -> {
      s.setReplicas(2);
      s.setExitNode(true);
    });
    reconcile();
    String name = sts().getMetadata().getName();
    logIn(name + "-0", "n0", "cn-ha-connector-0.ts.net", "100.64.0.20", List.of("0.0.0.0/0", "::/0"), List.of());
    logIn(name + "-1", "n1", "cn-ha-connector-1.ts.net", "100.64.0.21", List.of("0.0.0.0/0", "::/0"), List.of());
    reconcile();
    parent.current.getMetadata().setDeletionTimestamp("2026-12-07T11:00:00Z");
    pipeline.reconcile(parent.current, false, parent); // deletes the StatefulSet first
    pipeline.reconcile(parent.current, false, parent);
    assertThat(cluster.all(StatefulSet.class)).isEmpty();
    assertThat(cluster.all(Secret.class)).isEmpty();
    assertThat(cluster.all(Service.class)).isEmpty();
    assertThat(tailnet.calls).contains("deleteDevice n0", "deleteDevice n1");
    assertThat(parent.current.getMetadata().getFinalizers()).isEmpty();
  }
}
