package io.tailops.it.reliability;

import io.tailops.local.OperatorEnvironment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The control-plane fault stretches ({@link ControlPlaneFaults}) with the control-plane client exactly as the operator
 * builds it in production ({@link OperatorEnvironment#productionControlPlaneClient}: 30 s request timeout, 4 attempts,
 * 0.5–10 s retry delays), so that the figures in docs/reliability.md describe what users run. Held and slow requests
 * outlast the 30 s timeout, so the stretches that have them take longer than in {@link ControlPlaneFaultsIT}.
 */
class ControlPlaneFaultsProductionIT {
  static OperatorEnvironment env;
  static KeyLedger ledger;

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    env.env("OPERATOR_LOGGING", "info").productionControlPlaneClient(true);
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
  void faultStretchesWithTheProductionClientDeleteNothingBackOffAndConverge() throws Exception {
    ControlPlaneFaults.run(env, ledger, ControlPlaneFaults.Settings.PRODUCTION, Reliability.iterations(1, 5),
        Reliability.seed(2500));
  }
}
