package io.tailops.it;

import static io.tailops.it.ServiceExposeIT.clusterIp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.controlplane.tailscale.CredentialSource;
import io.tailops.controlplane.tailscale.TailscaleApiClient;
import io.tailops.local.OperatorEnvironment;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.ingress.RedirectProbe;
import io.tailops.operator.runtime.OperatorMetrics;
import io.tailops.operator.runtime.OperatorRuntime;
import io.tailops.testkit.kube.AuditLog;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Two replicas with a Lease: one reconciles, the other takes over when the first goes away. */
class LeaderElectionIT {
  static OperatorEnvironment env;
  static OperatorRuntime second;
  static KubernetesClient secondClient;
  static final String SECOND_AGENT = "tailscale-operator-it-second";

  @BeforeAll
  static void start() throws Exception {
    System.setProperty("tsop.exitOnLostLeadership", "false");
    env = OperatorEnvironment.create();
    env.env("OPERATOR_LEADER_ELECTION", "true").env("POD_NAME", "operator-first");
    env.startOperator();
    Map<String, String> vars = new HashMap<>();
    vars.put("OPERATOR_NAMESPACE", OperatorEnvironment.NAMESPACE);
    vars.put("CLIENT_ID_FILE", env.dir().resolve("client_id").toString());
    vars.put("CLIENT_SECRET_FILE", env.dir().resolve("client_secret").toString());
    vars.put("OPERATOR_LOGIN_SERVER", env.tailnet().baseUrl());
    vars.put("OPERATOR_LEADER_ELECTION", "true");
    vars.put("POD_NAME", "operator-second");
    OperatorConfig config = OperatorConfig.fromEnv(vars);
    OperatorMetrics metrics = new OperatorMetrics();
    secondClient = env.newOperatorClient(SECOND_AGENT, metrics); // the same ServiceAccount, a second Pod
    second = OperatorRuntime.start(config, secondClient, TailscaleApiClient.builder(CredentialSource.fromFiles(
        env.dir().resolve("client_id"), env.dir().resolve("client_secret"))).loginServer(env.tailnet().baseUrl())
        .build(), Clock.systemUTC(), 0, RedirectProbe.standard(), metrics);
  }

  @AfterAll
  static void stop() {
    if (second != null) {
      second.close();
      secondClient.close();
    }
    env.close();
    System.clearProperty("tsop.exitOnLostLeadership");
  }

  @Test
  void onlyTheLeaderReconcilesAndTheStandbyTakesOver() {
    await().atMost(Duration.ofSeconds(30)).until(() -> env.operator().context().health().isLeader());
    assertThat(second.context().health().isLeader()).isFalse();
    AuditLog.Mark mark = env.mark();
    env.createNamespace("leader");
    env.client().resource(clusterIp("leader", "first", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "leader-first"))).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> ServiceExposeIT.ready(env.client().services()
        .inNamespace("leader").withName("first").get()).map(c -> "True".equals(c.getStatus())).orElse(false));
    var standbyWrites = env.kube().audit().since(mark).byUserAgent(SECOND_AGENT).writes()
        .filter(e -> !"leases".equals(e.resource()));
    assertThat(standbyWrites.list()).as(standbyWrites.summary()).isEmpty();

    env.stopOperator(); // the leader goes away (a rollout, a node drain)
    await().atMost(Duration.ofSeconds(60)).until(() -> second.context().health().isLeader());
    env.client().resource(clusterIp("leader", "second", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "leader-second"))).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> ServiceExposeIT.ready(env.client().services()
        .inNamespace("leader").withName("second").get()).map(c -> "True".equals(c.getStatus())).orElse(false));
    assertThat(env.statefulSets("svc", "leader", "second")).hasSize(1);
    assertThat(env.statefulSets("svc", "leader", "first")).hasSize(1);
  }
}
