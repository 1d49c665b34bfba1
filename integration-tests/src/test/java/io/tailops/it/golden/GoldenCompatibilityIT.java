package io.tailops.it.golden;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tailops.local.OperatorEnvironment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * Our operator, in-process against the real API server, the fake tailnet and the proxy simulator, gets the golden
 * inputs (the seed's five proxies and their ProxyClasses, plus whatever {@code integration-tests/golden/inputs/}
 * adds); once every parent is ready, its objects, normalised like the golden files, must equal what the official
 * operator v1.94.2 made of the same inputs ({@code integration-tests/golden/expected/}), except for the differences
 * listed with their reasons in {@code integration-tests/golden/differences.yaml}. On failure it prints a unified diff
 * per file. Runs in CI; the official operator itself is never built or run here (see docs/golden.md).
 */
class GoldenCompatibilityIT {
  private static final Duration SETTLED = Duration.ofSeconds(10);

  @Test
  void ourObjectsEqualTheOfficialOperatorsExceptTheListedDifferences() {
    Path repo = GoldenPaths.repo();
    TreeMap<String, List<ObjectNode>> official = GoldenFiles.read(GoldenPaths.expected(repo));
    assertThat(official).as("golden files in %s (bash tools/golden/regenerate.sh writes them)",
        GoldenPaths.expected(repo)).isNotEmpty();
    KnownDifferences differences = KnownDifferences.load(GoldenPaths.differences(repo));
    List<GoldenInputs.Input> inputs = GoldenInputs.load(repo);

    try (OperatorEnvironment env = OperatorEnvironment.create()) {
      RegenerateGolden.PROXY_ENV.forEach(env::env);
      GoldenTailnet.prepare(env.tailnet());
      GoldenInputs.apply(env.client(), inputs);
      env.startOperator();

      // Polls until everything is ready and equal; a difference that stays the same for SETTLED once everything is
      // ready is reported at once instead of at the time limit.
      AtomicReference<String> last = new AtomicReference<>("nothing read yet");
      long[] sameSince = {0};
      try {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).until(() -> {
          ClusterState state = ClusterState.read(env.client(), OperatorEnvironment.NAMESPACE, inputs, env.tailnet(),
              env.tailnet().baseUrl());
          List<String> waiting = Readiness.waitingFor(state);
          if (!waiting.isEmpty()) {
            last.set("not every parent is ready:\n  " + String.join("\n  ", waiting));
            return false;
          }
          String report = GoldenFiles.compare(official, Normaliser.of(state).files(state), differences);
          if (!report.equals(last.getAndSet(report))) {
            sameSince[0] = System.nanoTime();
          }
          return report.isEmpty() || System.nanoTime() - sameSince[0] > SETTLED.toNanos();
        });
      } catch (ConditionTimeoutException e) {
        fail("not settled in time: " + last.get());
      }
      if (!last.get().isEmpty()) {
        fail("our objects differ from the official operator's (golden files in integration-tests/golden/expected;"
            + " a deliberate difference goes into integration-tests/golden/differences.yaml with its reason, see"
            + " docs/golden.md):\n" + last.get());
      }
    }
  }
}
