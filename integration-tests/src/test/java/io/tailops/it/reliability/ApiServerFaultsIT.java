package io.tailops.it.reliability;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.kube.AuditLog;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * API-server faults: while a seeded churn runs, another client keeps updating the same Services and proxy Secrets
 * (optimistic-concurrency updates, so the operator's own resourceVersion-guarded writes meet 409 Conflict), and the
 * API server is restarted at random points (every watch is cut; requests fail while it is down). Asserted: the world
 * converges to the churn's end state, with no duplicate, orphan or leaked device, and no key lost.
 */
class ApiServerFaultsIT {
  static OperatorEnvironment env;
  static KeyLedger ledger;

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    env.env("OPERATOR_LOGGING", "info");
    env.startOperator();
    ledger = new KeyLedger(env, env.client());
  }

  @AfterAll
  static void stop() {
    if (ledger != null) {
      ledger.close();
    }
    env.close();
  }

  @Test
  void conflictingWritersAndApiServerRestartsConverge() throws Exception {
    int iterations = Reliability.iterations(1, 5);
    long base = Reliability.seed(3000);
    int ops = Reliability.longRun() ? 24 : 14;
    int restarts = 0;
    for (int i = 0; i < iterations; i++) {
      long seed = base + i;
      Random r = new Random(seed * 31 + 13);
      World w = new World(env, env.client(), "apif-" + seed, seed, 6);
      AuditLog.Mark mark = env.mark();
      Set<Integer> restartAt = new TreeSet<>();
      while (restartAt.size() < (Reliability.longRun() ? 3 : 2)) {
        restartAt.add(r.nextInt(ops));
      }
      AtomicBoolean meddling = new AtomicBoolean(true);
      AtomicInteger meddled = new AtomicInteger();
      Thread meddler = new Thread(() -> meddle(w.namespace, seed, meddling, meddled), "meddler");
      meddler.setDaemon(true);
      meddler.start();
      int restartsBefore = restarts;
      try {
        for (int op = 0; op < ops; op++) {
          w.step();
          Thread.sleep(200 + r.nextInt(400));
          if (restartAt.contains(op)) {
            w.log.add("API SERVER RESTART");
            env.kube().restartApiServer();
            restarts++;
          }
        }
        Thread.sleep(3000); // conflicts go on for a while after the churn
      } finally {
        meddling.set(false);
        meddler.join(10_000);
      }
      String ctx = "seed " + seed + ", ops " + w.log + ", model " + w.describe();
      long converge = World.awaitConverged(env, List.of(w), 150, () -> ctx + "; " + ledger.summary());
      int conflicts = env.operatorRequestsSince(mark).filter(e -> e.code() == 409).count();
      // A Secret write cut by a restart makes the operator revoke the key it had just minted: not lost.
      int unstoredAllowed = restarts * 8;
      ledger.assertAccounted(0, unstoredAllowed, ctx);

      w.deleteAll();
      if (r.nextBoolean()) {
        Thread.sleep(r.nextInt(500));
        w.log.add("API SERVER RESTART");
        env.kube().restartApiServer();
        restarts++;
      }
      int unstoredAllowed2 = restarts * 8;
      World.awaitConverged(env, List.of(w), 150, () -> ctx + " cleanup; " + ledger.summary());
      ledger.assertAccounted(0, unstoredAllowed2, ctx);
      Reliability.report(String.format("api-server seed=%d ops=%d restarts=%d meddling_writes=%d "
              + "operator_409s=%d converged_ms=%d %s", seed, w.ops, restarts - restartsBefore, meddled.get(),
          conflicts, converge, ledger.summary()));
    }
  }

  /**
   * Another writer: read-modify-update (with resourceVersion) of the churn's Services and of the proxy Secrets, every
   * 10-40 ms, errors ignored (conflicts and the API server being down are expected).
   */
  static void meddle(String namespace, long seed, AtomicBoolean on, AtomicInteger count) {
    Random r = new Random(seed);
    KubernetesClient c = env.kube().newClient();
    try {
      while (on.get()) {
        try {
          if (r.nextBoolean()) {
            List<Service> svcs = c.services().inNamespace(namespace).list().getItems();
            if (!svcs.isEmpty()) {
              Service s = svcs.get(r.nextInt(svcs.size()));
              c.resource(new ServiceBuilder(s).editMetadata().addToAnnotations("meddler/touch",
                  Integer.toString(r.nextInt(1_000_000))).endMetadata().build()).update();
              count.incrementAndGet();
            }
          } else {
            List<Secret> secrets = c.secrets().inNamespace(OperatorEnvironment.NAMESPACE)
                .withLabel("tailscale.com/parent-resource-ns", namespace).list().getItems();
            if (!secrets.isEmpty()) {
              Secret s = secrets.get(r.nextInt(secrets.size()));
              c.resource(new SecretBuilder(s).editMetadata().addToAnnotations("meddler/touch",
                  Integer.toString(r.nextInt(1_000_000))).endMetadata().build()).update();
              count.incrementAndGet();
            }
          }
        } catch (RuntimeException e) {
          // 409, 404, connection refused while the API server restarts: carry on
        }
        try {
          Thread.sleep(10 + r.nextInt(30));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    } finally {
      c.close();
    }
  }
}
