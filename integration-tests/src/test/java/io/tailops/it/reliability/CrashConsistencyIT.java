package io.tailops.it.reliability;

import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.tailscale.Endpoint;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Crash consistency: the operator is killed ({@link OperatorEnvironment#killOperator()}: its connections cut, its
 * reconciles dying mid-flight) and restarted at random points of a seeded churn of creates, renames,
 * exposes/unexposes and deletes, and again while everything is being deleted. After each phase the world must
 * converge to exactly one proxy per exposed Service, no orphaned object, no device without a proxy, no device for a
 * deleted Service, and every minted key accounted for (at most one lost key per kill). See docs/reliability.md.
 */
class CrashConsistencyIT {
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
  void killsDuringChurnLeaveExactlyOneProxyPerServiceAndNothingBehind() throws Exception {
    int iterations = Reliability.iterations(2, 20);
    long base = Reliability.seed(1000);
    int ops = Reliability.longRun() ? 20 : 12;
    int kills = 0;
    for (int i = 0; i < iterations; i++) {
      long seed = base + i;
      Random r = new Random(seed * 31 + 7);
      World w = new World(env, env.client(), "crash-" + seed, seed, 6);
      int killsBefore = kills;
      Set<Integer> killAt = new TreeSet<>();
      int wanted = Reliability.longRun() ? 3 : 2;
      while (killAt.size() < wanted) {
        killAt.add(r.nextInt(ops));
      }
      long t0 = System.nanoTime();
      for (int op = 0; op < ops; op++) {
        w.step();
        if (killAt.contains(op)) {
          // Right after a change, while the operator is likely in the middle of acting on it.
          Thread.sleep(r.nextInt(300));
          env.killOperator();
          kills++;
          w.log.add("KILL");
          if (r.nextBoolean()) {
            w.step(); // something happens while no operator runs
          }
          Thread.sleep(r.nextInt(300));
          env.startOperator();
        }
        Thread.sleep(r.nextInt(400));
      }
      int finalKills = kills;
      String ctx = "seed " + seed + ", ops " + w.log + ", model " + w.describe();
      long converge = World.awaitConverged(env, List.of(w), 120, () -> ctx + "; " + ledger.summary());
      ledger.assertAccounted(finalKills, ctx);

      // Delete everything, with a kill in the middle half of the time.
      w.deleteAll();
      if (r.nextBoolean()) {
        Thread.sleep(r.nextInt(400));
        env.killOperator();
        kills++;
        w.log.add("KILL");
        Thread.sleep(r.nextInt(300));
        env.startOperator();
      }
      int allKills = kills;
      String ctx2 = "seed " + seed + ", ops " + w.log;
      long cleanup = World.awaitConverged(env, List.of(w), 120, () -> ctx2 + "; " + ledger.summary());
      ledger.assertAccounted(allKills, ctx2);
      Reliability.report(String.format("crash seed=%d ops=%d kills=%d converged_ms=%d cleanup_ms=%d "
              + "iteration_ms=%d %s device_deletes_total=%d", seed, w.ops, kills - killsBefore, converge, cleanup,
          (System.nanoTime() - t0) / 1_000_000, ledger.summary(), env.tailnet().calls(Endpoint.DELETE_DEVICE)));
    }
    Reliability.report("crash total: iterations=" + iterations + " kills=" + kills + " " + ledger.summary());
  }
}
