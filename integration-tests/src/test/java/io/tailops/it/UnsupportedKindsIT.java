package io.tailops.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.core.instrument.Counter;
import io.tailops.api.v1alpha1.ConditionedStatus;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.api.v1alpha1.TailnetDevice;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.tailscale.CredentialSource;
import io.tailops.controlplane.tailscale.RetryPolicy;
import io.tailops.controlplane.tailscale.TailscaleApiClient;
import io.tailops.local.OperatorEnvironment;
import io.tailops.operator.doctor.Doctor;
import io.tailops.operator.unsupported.ProxyGroupNotSupported;
import io.tailops.operator.unsupported.UnsupportedKind;
import io.tailops.testkit.kube.AuditLog;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * ProxyGroup, which this operator does not implement yet, is reported and never
 * silently ignored: each object gets its kind's official condition (False, NotSupported, with what to do) and one
 * Warning Event; the rest of its status and its spec are left alone; nothing else is created; a spec change only
 * moves observedGeneration; a restart writes nothing; doctor lists the objects.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class UnsupportedKindsIT {
  static OperatorEnvironment env;

  static final String PROXY_GROUP = """
      apiVersion: tailscale.com/v1alpha1
      kind: ProxyGroup
      metadata:
        name: egress-proxies
      spec:
        type: egress
        replicas: 3
      """;

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    env.startOperator();
  }

  @AfterAll
  static void stop() {
    env.close();
  }

  @Order(1)
  @Test
  void everyObjectGetsItsKindsConditionFalseNotSupportedAndOneWarningEvent() {
    AuditLog.Mark mark = env.mark();
    List<CustomResource<?, ? extends ConditionedStatus>> created = List.of(
        create(PROXY_GROUP, ProxyGroup.class));
    List<UnsupportedKind> kinds = List.of(ProxyGroupNotSupported.KIND);
    for (int i = 0; i < created.size(); i++) {
      CustomResource<?, ? extends ConditionedStatus> obj = created.get(i);
      UnsupportedKind kind = kinds.get(i);
      Condition c = awaitNotSupported(obj, kind, 1L);
      assertThat(c.getMessage()).isEqualTo(kind.message()).contains("is not supported by this operator yet")
          .contains("run the official Tailscale operator");
      Event e = await().atMost(Duration.ofSeconds(30)).until(() -> env.event(obj, "NotSupported"),
          Optional::isPresent).orElseThrow();
      assertThat(e.getType()).isEqualTo("Warning");
      assertThat(e.getMessage()).isEqualTo(kind.message());
      CustomResource<?, ?> now = get(obj);
      assertThat(now.getSpec()).as("spec untouched").usingRecursiveComparison().isEqualTo(obj.getSpec());
      assertThat(now.getMetadata().getFinalizers()).as("no finalizer").isNullOrEmpty();
    }
    // The operator's writes about these objects: one status update each (and the Events), nothing else anywhere
    // (but its own status ConfigMap, published once at start-up).
    var writes = env.operatorRequestsSince(mark).writes()
        .filter(w -> !"leases".equals(w.resource()) && !"events".equals(w.resource())
            && !"tailscale-operator-status".equals(w.name()));
    assertThat(writes.list()).as(writes.summary()).allSatisfy(w -> {
      assertThat(w.resource()).isIn("proxygroups");
      assertThat(w.subresource()).isEqualTo("status");
      assertThat(w.verb()).isEqualTo("update");
    });
    assertThat(writes.list()).hasSize(1);
    assertThat(env.client().apps().statefulSets().inNamespace(OperatorEnvironment.NAMESPACE).list().getItems())
        .as("nothing deployed").isEmpty();
  }

  @Order(2)
  @Test
  void statusWrittenByTheOfficialOperatorIsKeptExceptTheReadyCondition() {
    ProxyGroup c = create("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: adopted
        spec:
          type: egress
        """, ProxyGroup.class);
    // What the official operator had written before the switch (the status subresource is the operator's alone, so
    // write it with the operator stopped: no race with our first reconcile).
    env.stopOperator();
    ProxyGroup withStatus = get(c);
    TailnetDevice device = new TailnetDevice();
    device.setHostname("adopted-0.tailnet.ts.net");
    device.setTailnetIPs(List.of("100.64.0.9"));
    withStatus.getStatus().setDevices(List.of(device));
    withStatus.getStatus().setConditions(List.of(new io.fabric8.kubernetes.api.model.ConditionBuilder()
        .withType("ProxyGroupReady").withStatus("True").withReason("ProxyGroupReady").withMessage("ProxyGroupReady")
        .withObservedGeneration(1L).withLastTransitionTime("2026-01-01T00:00:00Z").build()));
    env.client().resource(withStatus).updateStatus();
    env.startOperator();

    awaitNotSupported(c, ProxyGroupNotSupported.KIND, 1L);
    ProxyGroup now = get(c);
    assertThat(now.getStatus().getDevices()).hasSize(1);
    assertThat(now.getStatus().getDevices().get(0).getHostname()).isEqualTo("adopted-0.tailnet.ts.net");
    assertThat(now.getStatus().getDevices().get(0).getTailnetIPs()).containsExactly("100.64.0.9");
    assertThat(now.getStatus().getConditions()).hasSize(1);
  }

  @Order(3)
  @Test
  void aSpecChangeMovesObservedGenerationOnlyWithoutASecondEvent() {
    ProxyGroup c = env.client().resources(ProxyGroup.class).withName("egress-proxies").get();
    Condition before = condition(c, ProxyGroupNotSupported.KIND).orElseThrow();
    env.client().resources(ProxyGroup.class).withName("egress-proxies").edit(x -> {
      x.getSpec().setReplicas(4);
      return x;
    });
    Condition after = awaitNotSupported(c, ProxyGroupNotSupported.KIND, 2L);
    assertThat(after.getLastTransitionTime()).isEqualTo(before.getLastTransitionTime());
    List<Event> events = env.events(c).stream().filter(e -> "NotSupported".equals(e.getReason())).toList();
    assertThat(events).hasSize(1);
    assertThat(events.get(0).getCount()).isEqualTo(1);
  }

  @Order(4)
  @Test
  void aRestartReconcilesEveryObjectAndWritesNothing() {
    env.stopOperator();
    AuditLog.Mark mark = env.mark();
    env.startOperator();
    // The signal that the restarted operator has reconciled them all: its reconcile counters per controller.
    Map<String, Integer> objects = Map.of("ProxyGroup", 2);
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> objects.forEach((kind, count) ->
        assertThat(reconciled(kind)).as("%s reconciled; meters: %s", kind, meters()).isGreaterThanOrEqualTo(count)));
    var writes = env.operatorRequestsSince(mark).writes().filter(w -> !"leases".equals(w.resource()));
    assertThat(writes.list()).as(writes.summary()).isEmpty();
  }

  @Order(5)
  @Test
  void doctorListsTheObjectsOfEveryUnsupportedKind() {
    ControlPlane cp = TailscaleApiClient.builder(CredentialSource.fromFiles(env.dir().resolve("client_id"),
            env.dir().resolve("client_secret")))
        .loginServer(env.tailnet().baseUrl()).retryPolicy(RetryPolicy.noRetries()).build();
    List<Doctor.Check> checks = io.tailops.operator.runtime.DoctorChecks.doctor(env.config(), env.client(), cp, false).run();
    Doctor.Check groups = checks.stream().filter(x -> x.name().equals("not supported: ProxyGroup")).findFirst()
        .orElseThrow(() -> new AssertionError(Doctor.text(checks)));
    assertThat(groups.status()).isEqualTo(Doctor.Status.FAIL);
    assertThat(groups.detail()).startsWith("2 ProxyGroup object(s) (adopted, egress-proxies) are not acted on: no "
        + "proxies are deployed for it");
    assertThat(groups.fix()).contains("official Tailscale operator");
    assertThat(checks).extracting(Doctor.Check::name).doesNotContain("not supported: Connector",
        "not supported: Recorder", "not supported: DNSConfig");
  }

  @Order(6)
  @Test
  void deletingAnObjectIsNotHeldUp() {
    env.client().resources(ProxyGroup.class).withName("egress-proxies").delete();
    await().atMost(Duration.ofSeconds(30))
        .until(() -> env.client().resources(ProxyGroup.class).withName("egress-proxies").get() == null);
  }

  // --- helpers -------------------------------------------------------------------------------------------------

  static <R extends CustomResource<?, ? extends ConditionedStatus>> R create(String yaml, Class<R> type) {
    return env.client().resource(Serialization.unmarshal(yaml, type)).create();
  }

  @SuppressWarnings("unchecked")
  static <R extends CustomResource<?, ?>> R get(R obj) {
    return (R) env.client().resources(obj.getClass()).withName(obj.getMetadata().getName()).get();
  }

  static Optional<Condition> condition(CustomResource<?, ? extends ConditionedStatus> obj, UnsupportedKind kind) {
    return obj == null || obj.getStatus() == null ? Optional.empty() : obj.getStatus().getConditions().stream()
        .filter(c -> kind.conditionType().equals(c.getType())).findFirst();
  }

  static Condition awaitNotSupported(CustomResource<?, ? extends ConditionedStatus> obj, UnsupportedKind kind,
      long generation) {
    return await().atMost(Duration.ofSeconds(60)).until(() -> condition(get(obj), kind)
        .filter(c -> "False".equals(c.getStatus()) && "NotSupported".equals(c.getReason())
            && c.getObservedGeneration() == generation), Optional::isPresent).orElseThrow();
  }

  /** Successful reconciles of a kind since the operator started (JOSDK's Micrometer counters). */
  static double reconciled(String kind) {
    return env.operator().context().metrics().registry().find("operator.sdk.reconciliations.success")
        .tag("kind", kind).counters().stream().mapToDouble(Counter::count).sum();
  }

  static List<String> meters() {
    return env.operator().context().metrics().registry().getMeters().stream()
        .filter(m -> m.getId().getName().contains("reconciliations.success")).map(m -> m.getId().toString()).toList();
  }
}
