package io.tailops.it.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.tailops.controlplane.CrashPoints;
import io.tailops.local.OperatorEnvironment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Crash points enumerated, not sampled: the operator runs as its own JVM with leader election and the test-only
 * hook {@link CrashPoints} on. For each phase of a Service-exposed proxy's life (create; change: a new hostname; heal:
 * its device deleted from the tailnet; delete), a dry run records the external side effects the phase makes (every
 * Kubernetes write but Leases and Events, every non-GET Tailscale API call, numbered per kind). Then, for each of them
 * in turn, the phase is played again in a fresh namespace and the operator halts (like SIGKILL) right after that
 * call's answer arrived — the side effect happened, the operator never learnt it, e.g. a key minted and not stored.
 * The operator is restarted (the same Pod's container: it takes its Lease back), and the world must converge: one
 * proxy, its device under the right name, no orphaned object, no device left behind, every key accounted for (a lost
 * key only after a crash right after a key mint). A crash before a call is not a separate point: it leaves the world
 * as a crash right after the previous call (nothing external happens in between).
 *
 * <p>The dry run's window ends when the world has converged and the operator made no side effect for 3 s. The
 * operator-wide ConfigMaps (status page, device registry) are written on their own schedule too; when such a point is
 * not reached in a replay, its row says "not reached" (every other point must be reached). The registry's creation
 * happens once per cluster, with the first proxy: crashed there first.
 *
 * <p>CI crashes at every point of the create phase and at one point of each other phase (the first Tailscale API call
 * if there is one, else its last write of the proxy's own objects); {@code -Dtsop.reliability.long=true} (or
 * {@code -Dtsop.crashpoints.all=true}) at every point. One line per point in target/reliability-results.txt; a
 * Markdown table in target/crash-points.md. See docs/reliability.md.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CrashPointsIT {
  static final String MINT = "POST /api/v2/tailnet/-/keys";
  static OperatorEnvironment env;
  static KeyLedger ledger;
  static OperatorProcess op;
  static Path dir;
  static final List<World> worlds = new ArrayList<>();
  static final List<String> table = new ArrayList<>();
  static int lostAllowed;
  static int crashes;
  static int runs;

  enum Phase { CREATE, CHANGE, HEAL, DELETE }

  record Point(int k, String name, String target, String status) {
  }

  @BeforeAll
  static void start() throws Exception {
    env = OperatorEnvironment.create();
    dir = Files.createTempDirectory("tsop-crash-points-");
    disarm();
    ledger = new KeyLedger(env, env.client());
    op = new OperatorProcess(env, Path.of("target", "crash-points-logs")).leaderElection("operator-crash-points")
        .env(CrashPoints.ENV, dir.toString());
    op.start();
    op.awaitReady(Duration.ofSeconds(120));
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (op != null) {
        op.kill();
      }
      if (ledger != null) {
        ledger.close();
      }
    } finally {
      env.close();
      try {
        Files.writeString(Path.of("target", "crash-points.md"), String.join("\n", table) + "\n",
            StandardOpenOption.CREATE, StandardOpenOption.APPEND);
      } catch (IOException e) {
        // the report lines are enough
      }
    }
  }

  /**
   * The first proxy of a cluster also creates the operator's device registry (the ConfigMap
   * {@code tailscale-operator-devices}), once: crashed right after that write here, so that the later dry runs record
   * only the side effects every proxy makes.
   */
  @Test
  @Order(0)
  void crashRightAfterTheFirstProxyCreatedTheDeviceRegistry() throws Exception {
    assertThat(env.client().configMaps().inNamespace(OperatorEnvironment.NAMESPACE)
        .withName("tailscale-operator-devices").get()).as("the device registry before the first proxy").isNull();
    crashAt(Phase.CREATE, "create (first proxy)", "first", new Point(1, "create configmaps", "", ""));
  }

  @Test
  @Order(1)
  void crashAtEachSideEffectOfCreatingAProxy() throws Exception {
    phase(Phase.CREATE);
  }

  @Test
  @Order(2)
  void crashAtSideEffectsOfRenamingAProxy() throws Exception {
    phase(Phase.CHANGE);
  }

  @Test
  @Order(3)
  void crashAtSideEffectsOfHealingAProxyWhoseDeviceWasDeleted() throws Exception {
    phase(Phase.HEAL);
  }

  @Test
  @Order(4)
  void crashAtSideEffectsOfDeletingAProxy() throws Exception {
    phase(Phase.DELETE);
  }

  private static boolean all() {
    return Reliability.longRun() || Boolean.getBoolean("tsop.crashpoints.all");
  }

  private void phase(Phase phase) throws Exception {
    String p = phase.name().toLowerCase(java.util.Locale.ROOT);
    // The dry run: which side effects does this phase make?
    World dry = world(p + "-dry");
    World.Slot s = prepare(phase, dry);
    String id = p + "-dry";
    arm(id + "\trecord");
    act(phase, dry, s);
    converge(id);
    awaitQuiet();
    disarm();
    List<Point> points = recorded(id);
    Reliability.report("crash points " + p + ": " + points.size() + " " + points);
    assertThat(points).as("side effects of the %s phase", p).isNotEmpty();
    cleanup(dry, s);

    List<Point> chosen = all() || phase == Phase.CREATE ? points : List.of(sample(points));
    int i = 0;
    for (Point point : chosen) {
      i++;
      crashAt(phase, p, p + "-" + i, point);
    }
  }

  /**
   * CI's one point of a phase: its first Tailscale API call, else its last Kubernetes write of the proxy's own objects
   * (not an operator-wide ConfigMap, written on its own schedule too).
   */
  private static Point sample(List<Point> points) {
    List<Point> own = points.stream().filter(x -> !background(x)).toList();
    return own.stream().filter(x -> x.name().contains("/api/v2/")).findFirst()
        .orElse(own.isEmpty() ? points.get(points.size() - 1) : own.get(own.size() - 1));
  }

  private void crashAt(Phase phase, String label, String name, Point point) throws Exception {
    long t0 = System.nanoTime();
    World w = world(name);
    World.Slot s = prepare(phase, w);
    String id = name;
    arm(id + "\tcrash\tafter\t" + point.k() + "\t" + point.name());
    act(phase, w, s);
    boolean crashed = op.awaitExit(Duration.ofSeconds(45));
    String ctx = "phase " + phase + ", crash after " + point.name() + " #" + point.k() + " (namespace "
        + w.namespace + ")";
    String hit = Files.exists(dir.resolve("crashed")) ? Files.readString(dir.resolve("crashed")).strip() : "";
    disarm();
    if (!crashed && (background(point) || point.k() > 1)) {
      // The operator-wide ConfigMaps are written when their debounce or sweep says, not by the phase itself: such a
      // write may fall outside the phase's window. And a repeat of a write (occurrence 2 or later of one kind, e.g. a
      // second patch of the proxy Secret) depends on how events fall into reconciles: a replay may make it in one
      // write where the dry run made two (seen once in CI). Said, not hidden: a row "not reached" in the table; the
      // world must still converge with every key accounted for.
      long converged = World.awaitConverged(env, worlds, 120, () -> ctx + "; " + ledger.summary());
      ledger.assertAccounted(lostAllowed, ctx);
      String why = background(point) ? "operator-wide background write" : "a repeat write made in fewer writes";
      table.add("| " + label + " | after `" + point.name() + "` #" + point.k() + " | — | not reached (" + why
          + "; converged) | " + converged + " |");
      Reliability.report(String.format("crash-point phase=%s point=\"%s\" k=%d not-reached (%s) "
          + "%s", phase, point.name(), point.k(), why, ledger.summary()));
      cleanup(w, s);
      return;
    }
    assertThat(crashed).as("the operator reached the crash point: %s; process alive %s", ctx, op.isAlive())
        .isTrue();
    assertThat(hit).as("crash record; %s", ctx).startsWith(id + "\tafter\t" + point.k() + "\t" + point.name());
    Files.delete(dir.resolve("crashed"));
    crashes++;
    if (point.name().equals(MINT)) {
      lostAllowed++; // the documented re-key: a key minted and never stored
    }
    op.start();
    op.awaitReady(Duration.ofSeconds(120));
    long converged = World.awaitConverged(env, worlds, 120, () -> ctx + "; " + ledger.summary());
    ledger.assertAccounted(lostAllowed, ctx);
    runs++;
    String[] f = hit.split("\t");
    table.add("| " + label + " | after `" + point.name() + "` #"
        + point.k() + " | " + (f.length > 5 ? f[5] : "?") + " | yes | " + converged + " |");
    Reliability.report(String.format("crash-point phase=%s point=\"%s\" k=%d target=%s survived=yes "
            + "converged_after_restart_ms=%d point_ms=%d %s", phase, point.name(), point.k(),
        f.length > 4 ? f[4] : "?", converged, (System.nanoTime() - t0) / 1_000_000, ledger.summary()));
    cleanup(w, s);
  }

  /**
   * The operator-wide ConfigMaps: the status page's ({@code tailscale-operator-status}, debounced) and the device
   * registry ({@code tailscale-operator-devices}, also written by the periodic sweep); and the key sweep's revocations
   * (an earlier crash point's lost key, once older than the grace period).
   */
  private static boolean background(Point p) {
    return p.name().endsWith(" configmaps") && (p.target().contains("tailscale-operator-status")
        || p.target().contains("tailscale-operator-devices"))
        || p.name().startsWith("DELETE /api/v2/tailnet/-/keys/"); // the key sweep revoking an earlier crash's lost key
  }

  /** Waits until the operator has made no side effect for 3 s (at most 20 s): the end of a dry run's window. */
  private static void awaitQuiet() throws IOException, InterruptedException {
    Path log = dir.resolve("points.log");
    long deadline = System.nanoTime() + 20_000_000_000L;
    long size = -1;
    long since = System.nanoTime();
    while (System.nanoTime() < deadline) {
      long now = Files.exists(log) ? Files.size(log) : 0;
      if (now != size) {
        size = now;
        since = System.nanoTime();
      } else if (System.nanoTime() - since > 3_000_000_000L) {
        return;
      }
      Thread.sleep(200);
    }
  }

  private static World world(String name) {
    World w = new World(env, env.client(), "cp-" + name, 0, 1);
    worlds.add(w);
    return w;
  }

  /** The state before the phase's action, converged. */
  private static World.Slot prepare(Phase phase, World w) {
    World.Slot s = w.slots.get("s0");
    if (phase != Phase.CREATE) {
      w.createExposed("s0");
      converge(w.namespace + " prepared");
    }
    return s;
  }

  /** The phase's action: what a user (or the tailnet) does. */
  private static void act(Phase phase, World w, World.Slot s) {
    switch (phase) {
      case CREATE -> w.createExposed(s.name);
      case CHANGE -> w.rename(s);
      case HEAL -> {
        Secret secret = env.secrets("svc", w.namespace, s.name).get(0);
        env.tailnet().deleteDeviceDirectly(World.data(secret, "device_id"));
      }
      case DELETE -> w.delete(s);
    }
  }

  private static void cleanup(World w, World.Slot s) {
    if (s.exists) {
      w.delete(s);
      converge(w.namespace + " cleaned up");
    }
  }

  private static long converge(String ctx) {
    return World.awaitConverged(env, worlds, 120, () -> ctx + "; " + ledger.summary());
  }

  private static void arm(String line) {
    write("arm", line + "\n");
  }

  private static void disarm() {
    write("arm", "off\n");
  }

  private static void write(String file, String text) {
    try {
      Path tmp = dir.resolve(file + ".tmp");
      Files.writeString(tmp, text, StandardCharsets.UTF_8);
      Files.move(tmp, dir.resolve(file), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Point> recorded(String id) throws IOException {
    List<Point> out = new ArrayList<>();
    Path log = dir.resolve("points.log");
    if (!Files.exists(log)) {
      return out;
    }
    for (String line : Files.readAllLines(log)) {
      String[] f = line.split("\t");
      if (f.length >= 5 && f[0].equals(id)) {
        out.add(new Point(Integer.parseInt(f[1]), f[2], f[3], f[4]));
      }
    }
    return out;
  }
}
