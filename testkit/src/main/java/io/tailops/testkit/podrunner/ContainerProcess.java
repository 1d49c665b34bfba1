package io.tailops.testkit.podrunner;

import io.tailops.testkit.headscale.ContainerbootProcess;
import java.time.Duration;

/** The process of a pod's container, as the {@link LocalPod} drives it: containerboot, or another program. */
interface ContainerProcess {
  void start();

  boolean isAlive();

  /** Exit code, -1 while running or before the start. */
  int exitCode();

  /** SIGTERM, SIGKILL after {@code grace}. */
  void stop(Duration grace);

  /** SIGKILL at once (a crash). */
  void kill();

  static ContainerProcess of(ContainerbootProcess p) {
    return new ContainerProcess() {
      @Override
      public void start() {
        p.start();
      }

      @Override
      public boolean isAlive() {
        return p.isAlive();
      }

      @Override
      public int exitCode() {
        return p.exitCode();
      }

      @Override
      public void stop(Duration grace) {
        p.stop(grace);
      }

      @Override
      public void kill() {
        p.kill();
      }
    };
  }
}
