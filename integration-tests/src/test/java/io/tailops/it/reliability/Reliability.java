package io.tailops.it.reliability;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * Settings of the reliability suites. CI runs a short, fixed-seed version; a long run is one flag away:
 *
 * <pre>
 *   ./mvnw -B verify -pl integration-tests -am -Dsurefire.failIfNoSpecifiedTests=false \
 *       -Dtest='CrashConsistencyIT,ControlPlaneFaultsIT,ApiServerFaultsIT,LeaderFailoverIT' \
 *       -Dtsop.reliability.long=true
 *   -Dtsop.reliability.iterations=N   (iterations of every suite, overrides both defaults)
 *   -Dtsop.reliability.seed=S         (base seed; iteration i uses S + i)
 * </pre>
 *
 * Every iteration prints one line ("reliability: ...", in target/surefire-reports/*-output.txt and appended to
 * target/reliability-results.txt) with its seed and figures, so that a failure is reproducible and a long run's
 * results can be written down (docs/reliability.md).
 */
final class Reliability {
  private Reliability() {
  }

  static boolean longRun() {
    return Boolean.getBoolean("tsop.reliability.long");
  }

  /** Iterations of a suite: the system property, else {@code longDefault} or {@code ciDefault}. */
  static int iterations(int ciDefault, int longDefault) {
    Integer forced = Integer.getInteger("tsop.reliability.iterations");
    if (forced != null) {
      return forced;
    }
    return longRun() ? longDefault : ciDefault;
  }

  static long seed(long suiteDefault) {
    return Long.getLong("tsop.reliability.seed", suiteDefault);
  }

  static void report(String line) {
    String text = "reliability: " + line;
    System.out.println(text);
    try {
      Files.writeString(Path.of("target", "reliability-results.txt"), Instant.now() + " " + text + "\n",
          StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    } catch (IOException e) {
      // the printed line is enough
    }
  }
}
