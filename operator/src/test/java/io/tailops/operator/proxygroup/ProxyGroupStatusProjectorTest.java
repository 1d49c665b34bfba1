package io.tailops.operator.proxygroup;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.api.v1alpha1.ProxyGroupStatus;
import io.tailops.api.v1alpha1.TailnetDevice;
import io.tailops.operator.proxy.ProxyConfigSecret;
import io.tailops.operator.proxy.ReplicaState;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** ProxyGroup status: devices, the two official conditions, and why a replica is not running. */
class ProxyGroupStatusProjectorTest {
  static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-01T10:00:00Z"), ZoneOffset.UTC);

  static ProxyGroup pg() {
    ProxyGroup pg = Serialization.unmarshal("apiVersion: tailscale.com/v1alpha1\nkind: ProxyGroup\n"
        + "metadata: {name: pg, generation: 4}\nspec: {type: egress, replicas: 2}", ProxyGroup.class);
    return pg;
  }

  static Pod pod(String name, String uid) {
    return new PodBuilder().withNewMetadata().withName(name).withNamespace("tailscale").withUid(uid).endMetadata()
        .build();
  }

  static ReplicaState running(int i, String podUid) {
    return replica(i, Map.of("device_id", "n" + i, "device_fqdn", "pg-" + i + ".ts.net.", "device_ips",
        "[\"100.64.0." + i + "\",\"fd7a::" + i + "\"]", "pod_uid", podUid), "");
  }

  static ReplicaState replica(int i, Map<String, String> state, String config) {
    Secret s = new SecretBuilder().withNewMetadata().withName("pg-" + i).endMetadata()
        .withData(ProxyConfigSecret.encode(state)).build();
    Secret c = new SecretBuilder().withNewMetadata().withName("pg-" + i + "-config").endMetadata()
        .withData(ProxyConfigSecret.encode(config.isEmpty() ? Map.of() : Map.of("cap-106.hujson", config))).build();
    return ReplicaState.of(s, c);
  }

  static Condition condition(ProxyGroupStatus s, String type) {
    return s.getConditions().stream().filter(c -> type.equals(c.getType())).findFirst().orElseThrow();
  }

  @Test
  void allReplicasRunning() {
    ProxyGroupStatus s = ProxyGroupStatusProjector.project(pg(), 2, List.of(running(0, "u0"), running(1, "u1")),
        Map.of("pg-0", pod("pg-0", "u0"), "pg-1", pod("pg-1", "u1")), null, CLOCK);
    assertThat(s.getDevices()).extracting(TailnetDevice::getHostname).containsExactly("pg-0", "pg-1");
    assertThat(s.getDevices().get(1).getTailnetIPs()).containsExactly("100.64.0.1", "fd7a::1");
    assertThat(s.getConditions()).extracting(Condition::getType).containsExactly("ProxyGroupAvailable",
        "ProxyGroupReady");
    Condition available = condition(s, "ProxyGroupAvailable");
    assertThat(available.getStatus()).isEqualTo("True");
    assertThat(available.getReason()).isEqualTo("ProxyGroupAvailable");
    assertThat(available.getMessage()).isEqualTo("2/2 ProxyGroup pods running");
    assertThat(available.getObservedGeneration()).isNull();
    Condition ready = condition(s, "ProxyGroupReady");
    assertThat(ready.getStatus()).isEqualTo("True");
    assertThat(ready.getReason()).isEqualTo("ProxyGroupReady");
    assertThat(ready.getMessage()).isEqualTo("ProxyGroupReady");
    assertThat(ready.getObservedGeneration()).isEqualTo(4L);
    assertThat(ready.getLastTransitionTime()).isEqualTo("2026-12-01T10:00:00Z");
  }

  @Test
  void aReplicaNotRunningSaysWhy() {
    Pod unschedulable = new PodBuilder(pod("pg-1", "u1")).withNewStatus().withPhase("Pending").addNewCondition()
        .withType("PodScheduled").withStatus("False").withReason("Unschedulable")
        .withMessage("0/3 nodes are available: 3 Insufficient memory.").endCondition().endStatus().build();
    ProxyGroupStatus s = ProxyGroupStatusProjector.project(pg(), 2, List.of(running(0, "u0"),
        replica(1, Map.of(), "{\"AuthKey\":\"k\"}")), Map.of("pg-0", pod("pg-0", "u0"), "pg-1", unschedulable), null,
        CLOCK);
    Condition available = condition(s, "ProxyGroupAvailable");
    assertThat(available.getStatus()).isEqualTo("True");
    assertThat(available.getReason()).isEqualTo("ProxyGroupCreating");
    Condition ready = condition(s, "ProxyGroupReady");
    assertThat(ready.getStatus()).isEqualTo("False");
    assertThat(ready.getReason()).isEqualTo("ProxyGroupCreating");
    assertThat(ready.getMessage()).isEqualTo("1/2 ProxyGroup pods running; pg-1: its pod cannot be scheduled: "
        + "0/3 nodes are available: 3 Insufficient memory.");
  }

  @Test
  void crashLoopsImageErrorsLoginsAndLogoutsAreNamed() {
    Pod crashing = new PodBuilder(pod("pg-0", "u0")).withNewStatus().addNewContainerStatus().withName("tailscale")
        .withRestartCount(4).withNewState().withNewWaiting().withReason("CrashLoopBackOff")
        .withMessage("back-off 40s restarting failed container").endWaiting().endState().withNewLastState()
        .withNewTerminated().withExitCode(1).withReason("Error").endTerminated().endLastState()
        .endContainerStatus().endStatus().build();
    assertThat(ProxyGroupStatusProjector.whyNotRunning(replica(0, Map.of("pod_uid", "u0"), ""), crashing))
        .isEqualTo("container tailscale of its pod is waiting: CrashLoopBackOff: back-off 40s restarting failed "
            + "container (restarted 4 times; last exit 1 Error; see kubectl logs -n tailscale pg-0 -c tailscale "
            + "--previous)");
    assertThat(ProxyGroupStatusProjector.whyNotRunning(replica(0, Map.of("pod_uid", "u0"), "{\"AuthKey\":\"k\"}"),
        pod("pg-0", "u0"))).isEqualTo("the proxy is logging in to the tailnet");
    Map<String, String> annotations = new LinkedHashMap<>();
    annotations.put("tailscale.com/device-id", "n0");
    ReplicaState loggedOut = replica(0, Map.of("pod_uid", "u0"), "{}");
    loggedOut.config().getMetadata().setAnnotations(annotations);
    assertThat(ProxyGroupStatusProjector.whyNotRunning(ReplicaState.of(loggedOut.secret(), loggedOut.config()),
        pod("pg-0", "u0"))).isEqualTo("the proxy is logged out (its device n0 is gone); the operator re-registers it");
    assertThat(ProxyGroupStatusProjector.whyNotRunning(running(0, "old"), pod("pg-0", "u0")))
        .isEqualTo("its pod has not started the proxy yet");
    assertThat(ProxyGroupStatusProjector.whyNotRunning(running(0, "u0"), null))
        .isEqualTo("its pod does not exist (the StatefulSet controller recreates it)");
  }

  @Test
  void surplusReplicasStillRunningAreWaitedFor() {
    ProxyGroupStatus s = ProxyGroupStatusProjector.project(pg(), 1, List.of(running(0, "u0"), running(1, "u1")),
        Map.of("pg-0", pod("pg-0", "u0"), "pg-1", pod("pg-1", "u1")), null, CLOCK);
    assertThat(condition(s, "ProxyGroupReady").getMessage()).isEqualTo("waiting for 1 ProxyGroup pods to shut down");
  }

  @Test
  void aBlockerWinsAndTheTransitionTimeOnlyMovesWithTheStatus() {
    ProxyGroup pg = pg();
    ProxyGroupStatus first = ProxyGroupStatusProjector.project(pg, 2, List.of(), Map.of(),
        new ProxyGroupStatusProjector.Blocker("ProxyGroupCreationFailed", "boom"), CLOCK);
    assertThat(condition(first, "ProxyGroupReady").getReason()).isEqualTo("ProxyGroupCreationFailed");
    assertThat(condition(first, "ProxyGroupReady").getMessage()).isEqualTo("boom");
    assertThat(first.getDevices()).isNull();
    pg.setStatus(first);
    ProxyGroupStatus second = ProxyGroupStatusProjector.project(pg, 2, List.of(), Map.of(),
        new ProxyGroupStatusProjector.Blocker("ProxyGroupCreating", "waiting"),
        Clock.offset(CLOCK, java.time.Duration.ofMinutes(5)));
    assertThat(condition(second, "ProxyGroupReady").getLastTransitionTime()).isEqualTo("2026-12-01T10:00:00Z");
  }
}
