package io.tailops.it.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Secret;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.tailscale.Endpoint;
import io.tailops.testkit.tailscale.FakeAuthKey;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A key lost between its mint and its Secret is revoked after the restart (issue 20): the operator (its own JVM, leader
 * election, the test-only {@link io.tailops.controlplane.CrashPoints} hook) halts right after {@code POST /api/v2/tailnet/-/keys} answered for
 * a new proxy, so the key it minted is stored nowhere; the restarted operator mints another for the proxy and its key
 * sweep (at leadership, then with every device sweep; grace period 3 s here) revokes the lost one. Kept: the key a
 * Secret holds for a proxy that has not logged in yet (its pod hangs), and keys this installation did not mint (an
 * admin's, another installation's with the same description but another mark).
 */
class UnusedKeySweepIT {
  static final String NS = "unused-keys";
  static OperatorEnvironment env;
  static OperatorProcess op;
  static CrashHook hook;

  @BeforeAll
  static void start() throws Exception {
    env = OperatorEnvironment.create();
    hook = CrashHook.create("tsop-unused-keys-");
    op = hook.startOperator(env, "operator-unused-keys", Map.of("OPERATOR_UNUSED_KEY_GRACE_PERIOD", "3s",
        "OPERATOR_DEVICE_SWEEP_INTERVAL", "2s"));
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (op != null) {
        op.kill();
      }
    } finally {
      env.close();
    }
  }

  @Test
  void aKeyMintedAndNeverStoredIsRevokedAfterTheRestartWhileAPendingKeyInASecretIsKept() throws Exception {
    env.createNamespace(NS);
    // Keys this installation did not mint: an admin's, and another installation's (same owner, another mark).
    FakeAuthKey admin = env.tailnet().mintKey(List.of("tag:k8s"), false, false, true, Duration.ofMinutes(30));
    FakeAuthKey otherCluster = env.tailnet().mintKey(List.of("tag:k8s"), false, false, true,
        "tailscale-operator proxy ts-lost-zzzzz op0123456789", Duration.ofMinutes(30));

    // A proxy whose pod never logs in: its Secret holds a pending key.
    env.proxies().pausePrefix("ts-pending-");
    env.client().resource(clusterIp(NS, "pending", Map.of("tailscale.com/expose", "true"))).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> keyIdOf("pending") != null);
    String pendingKey = keyIdOf("pending");

    // The operator halts right after the mint for the next proxy answered: that key is stored nowhere.
    hook.arm("lost\tcrash\tafter\t1\t" + CrashPointsIT.MINT);
    env.client().resource(clusterIp(NS, "lost", Map.of("tailscale.com/expose", "true"))).create();
    assertThat(op.awaitExit(Duration.ofSeconds(60))).as("the operator halted after the mint").isTrue();
    hook.disarm();
    assertThat(hook.crashed()).startsWith("lost\tafter\t1\t" + CrashPointsIT.MINT);
    List<FakeAuthKey> lost = env.tailnet().keys().stream()
        .filter(k -> String.valueOf(k.description()).contains(" proxy ts-lost-") && k.createdBy() != null).toList();
    assertThat(lost).as("keys minted for the proxy of Service lost before the restart").hasSize(1);
    String lostKey = lost.get(0).id();
    assertThat(lost.get(0).description()).matches("tailscale-operator proxy ts-lost-[a-z0-9]+ op[0-9a-f]{10}");
    assertThat(lost.get(0).revoked()).isFalse();
    assertThat(env.secrets("svc", NS, "lost")).as("no Secret holds the key").isEmpty();
    int deletesBefore = env.tailnet().calls(Endpoint.DELETE_KEY);

    // Restarted, the operator stores a second key for the proxy and revokes the lost one.
    op.start();
    op.awaitReady(Duration.ofSeconds(120));
    await().atMost(Duration.ofSeconds(90)).until(() -> env.tailnet().key(lostKey).orElseThrow().revoked());
    assertThat(env.tailnet().calls(Endpoint.DELETE_KEY)).isGreaterThan(deletesBefore);
    await().atMost(Duration.ofSeconds(60)).until(() -> keyIdOf("lost") != null
        && env.tailnet().devices().stream().anyMatch(d -> d.hostname().startsWith("unused-keys-lost")));
    String storedKey = keyIdOf("lost");
    assertThat(storedKey).isNotEqualTo(lostKey);
    assertThat(env.tailnet().key(storedKey).orElseThrow().revoked()).isFalse();

    // The sweep that revoked the lost key judged the pending one too (minted earlier, as old): kept, still in its
    // Secret, and the proxy logs in with it once its pod runs.
    assertThat(env.tailnet().key(pendingKey).orElseThrow().revoked()).isFalse();
    assertThat(keyIdOf("pending")).isEqualTo(pendingKey);
    assertThat(env.tailnet().key(admin.id()).orElseThrow().revoked()).isFalse();
    assertThat(env.tailnet().key(otherCluster.id()).orElseThrow().revoked()).isFalse();
    String pendingSts = env.statefulSets("svc", NS, "pending").get(0).getMetadata().getName();
    env.proxies().resume(pendingSts);
    await().atMost(Duration.ofSeconds(60)).until(() -> env.tailnet().key(pendingKey).orElseThrow().uses() == 1);
    // Only the lost key was revoked.
    assertThat(env.tailnet().keys()).filteredOn(FakeAuthKey::revoked).extracting(FakeAuthKey::id)
        .containsExactly(lostKey);
  }

  static io.fabric8.kubernetes.api.model.Service clusterIp(String ns, String name, Map<String, String> annotations) {
    return new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewMetadata().withNamespace(ns).withName(name)
        .withAnnotations(annotations).endMetadata().withNewSpec().withType("ClusterIP").addToSelector("app", name)
        .addNewPort().withPort(8080).endPort().endSpec().build();
  }

  /** The auth key ID the proxy Secret of Service {@code name} holds, or null. */
  static String keyIdOf(String name) {
    List<Secret> s = env.secrets("svc", NS, name);
    return s.isEmpty() || s.get(0).getMetadata().getAnnotations() == null ? null
        : s.get(0).getMetadata().getAnnotations().get(KeyLedger.AUTH_KEY_ID);
  }
}
