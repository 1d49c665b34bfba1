package io.tailops.it.reliability;

import io.tailops.controlplane.CrashPoints;
import io.tailops.local.OperatorEnvironment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The test side of the operator's crash-point hook ({@link CrashPoints}): its directory, the operator process that
 * reads it (its own JVM, leader election on, as the pod {@code podName}), arming, and what the hook wrote back. Shared
 * by {@link CrashPointsIT} and {@link UnusedKeySweepIT}.
 */
final class CrashHook {
  /** A recorded side effect: the {@code k}-th call of kind {@code name} (on {@code target}, answered {@code status}). */
  record Point(int k, String name, String target, String status) {
  }

  final Path dir;

  private CrashHook(Path dir) {
    this.dir = dir;
  }

  /** A fresh, disarmed hook directory. */
  static CrashHook create(String prefix) {
    try {
      CrashHook h = new CrashHook(Files.createTempDirectory(prefix));
      h.disarm();
      return h;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Starts the operator as pod {@code podName} with this hook and {@code extraEnv}, and awaits {@code /readyz}. */
  OperatorProcess startOperator(OperatorEnvironment env, String podName, Map<String, String> extraEnv)
      throws InterruptedException {
    OperatorProcess op = new OperatorProcess(env, Path.of("target", podName + "-logs")).leaderElection(podName)
        .env(CrashPoints.ENV, dir.toString());
    extraEnv.forEach(op::env);
    op.start();
    op.awaitReady(Duration.ofSeconds(120));
    return op;
  }

  /** Arms the hook with one line ({@code <id> record} or {@code <id> crash after <k> <point>}). */
  void arm(String line) {
    write("arm", line + "\n");
  }

  void disarm() {
    write("arm", "off\n");
  }

  /** What the hook wrote before it halted the operator, stripped; empty when it did not. */
  String crashed() throws IOException {
    Path f = dir.resolve("crashed");
    return Files.exists(f) ? Files.readString(f).strip() : "";
  }

  void forgetCrash() throws IOException {
    Files.deleteIfExists(dir.resolve("crashed"));
  }

  Path pointsLog() {
    return dir.resolve("points.log");
  }

  /** The side effects recorded under {@code id}, in order. */
  List<Point> recorded(String id) throws IOException {
    List<Point> out = new ArrayList<>();
    if (!Files.exists(pointsLog())) {
      return out;
    }
    for (String line : Files.readAllLines(pointsLog())) {
      String[] f = line.split("\t");
      if (f.length >= 5 && f[0].equals(id)) {
        out.add(new Point(Integer.parseInt(f[1]), f[2], f[3], f[4]));
      }
    }
    return out;
  }

  private void write(String file, String text) {
    try {
      Path tmp = dir.resolve(file + ".tmp");
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      Files.move(tmp, dir.resolve(file), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
