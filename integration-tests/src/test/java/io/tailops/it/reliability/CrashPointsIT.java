package io.tailops.it.reliability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.tailops.controlplane.CrashPoints;
import io.tailops.it.reliability.CrashHook.Point;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.tailscale.FakeDevice;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Crash points enumerated, not sampled: the operator runs as its own JVM with leader election and the test-only
 * hook {@link CrashPoints} on. For every kind of proxy ({@link ProxyScenario}: a Service exposed by annotation, an
 * egress Service, an Ingress, a Connector, a ProxyGroup, a Recorder) and each phase of its life (create; change, e.g.
 * a new hostname or replica count; heal: its device deleted from the tailnet; delete), a dry run records the external side effects the phase makes (every
 * Kubernetes write but Leases and Events, every non-GET Tailscale API call, numbered per kind). Then, for each of them
 * in turn, the phase is played again in a fresh namespace and the operator halts (like SIGKILL) right after that
 * call's answer arrived — the side effect happened, the operator never learnt it, e.g. a key minted and not stored.
 * The operator is restarted (the same Pod's container: it takes its Lease back), and every world so far must converge
 * ({@link World#assertConverged}): the proxy objects and devices its kind leaves, under the right names, no orphaned
 * object, no device left behind, every key accounted for (a lost key only after a crash right after a key mint). A crash before a call is not a separate point: it leaves the world
 * as a crash right after the previous call (nothing external happens in between).
 *
 * <p>The dry run's window ends when the world has converged and the operator made no side effect for 3 s. The
 * operator-wide ConfigMaps (status page, device registry) are written on their own schedule too; when such a point is
 * not reached in a replay, its row says "not reached" (every other point must be reached). The registry's creation
 * happens once per cluster, with the first proxy: crashed there first.
 *
 * <p>CI crashes at every point of the Service's create phase and at one point of each other phase of every kind (the
 * first Tailscale API call if there is one, else its last write of the proxy's own objects); {@code -Dtsop.reliability.long=true} (or
 * {@code -Dtsop.crashpoints.all=true}) at every point. One line per point in target/reliability-results.txt; a
 * Markdown table in target/crash-points.md. See docs/reliability.md.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class CrashPointsIT {
  static final String MINT = "POST /api/v2/tailnet/-/keys";
  static OperatorEnvironment env;
  static KeyLedger ledger;
  static OperatorProcess op;
  static CrashHook hook;
  /** The MagicDNS names of two devices that are no proxy's: the egress Services' targets. */
  static final List<String> egressTargets = new ArrayList<>();
  static final Set<String> targetIds = new HashSet<>();
  static final List<World> worlds = new ArrayList<>();
  static final List<String> table = new ArrayList<>();
  static int lostAllowed;
  static int crashes;
  static int runs;

  enum Phase { CREATE, CHANGE, HEAL, DELETE }

  @BeforeAll
  static void start() throws Exception {
    env = OperatorEnvironment.create();
    // Before the operator starts, so that its first device list (which judges egress targets) has them.
    for (String name : List.of("target-a", "target-b")) {
      FakeDevice d = env.tailnet().addForeignDevice(name, List.of());
      env.tailnet().setOnline(d.nodeId(), true);
      egressTargets.add(d.name());
      targetIds.add(d.nodeId());
    }
    hook = CrashHook.create("tsop-crash-points-");
    ledger = new KeyLedger(env, env.client());
    op = hook.startOperator(env, "operator-crash-points", Map.of());
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
   * only the side effects every proxy makes. The status page's ConfigMap, also created once, is awaited.
   */
  @Test
  @Order(0)
  void crashRightAfterTheFirstProxyCreatedTheDeviceRegistry() throws Exception {
    assertThat(env.client().configMaps().inNamespace(OperatorEnvironment.NAMESPACE)
        .withName("tailscale-operator-devices").get()).as("the device registry before the first proxy").isNull();
    crashAt(ProxyScenario.SERVICE, Phase.CREATE, "create (first proxy)", "first",
        new Point(1, "create configmaps", "", ""));
    // The status page's ConfigMap is also created once, when the operator first publishes (debounced): awaited here,
    // so that no later dry run records its creation, which a replay would not make (seen in a long run).
    await().atMost(Duration.ofSeconds(60)).until(() -> env.client().configMaps()
        .inNamespace(OperatorEnvironment.NAMESPACE).withName("tailscale-operator-status").get() != null);
  }

  @Test
  @Order(1)
  void crashAtEachSideEffectOfCreatingAProxy() throws Exception {
    phase(ProxyScenario.SERVICE, Phase.CREATE);
  }

  @Test
  @Order(2)
  void crashAtSideEffectsOfRenamingAProxy() throws Exception {
    phase(ProxyScenario.SERVICE, Phase.CHANGE);
  }

  @Test
  @Order(3)
  void crashAtSideEffectsOfHealingAProxyWhoseDeviceWasDeleted() throws Exception {
    phase(ProxyScenario.SERVICE, Phase.HEAL);
  }

  @Test
  @Order(4)
  void crashAtSideEffectsOfDeletingAProxy() throws Exception {
    phase(ProxyScenario.SERVICE, Phase.DELETE);
  }

  /**
   * The kinds but the Service, or those {@code -Dtsop.crashpoints.kinds} names (labels, comma-separated), in the
   * phases {@code -Dtsop.crashpoints.phases} names (create, change, heal, delete; all by default).
   */
  static Stream<Arguments> otherKinds() {
    List<String> only = listProperty("tsop.crashpoints.kinds");
    List<String> phases = listProperty("tsop.crashpoints.phases");
    return Stream.of(ProxyScenario.values()).filter(k -> k != ProxyScenario.SERVICE)
        .filter(k -> only.isEmpty() || only.contains(k.label))
        .flatMap(k -> k.phases.stream()
            .filter(p -> phases.isEmpty() || phases.contains(p.name().toLowerCase(java.util.Locale.ROOT)))
            .map(p -> Arguments.of(k, p)));
  }

  private static List<String> listProperty(String name) {
    return List.of(System.getProperty(name, "").split(",")).stream().map(String::trim).filter(x -> !x.isBlank())
        .toList();
  }

  /** Every other kind of proxy, phase by phase. */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("otherKinds")
  @Order(5)
  void crashAtSideEffectsOfEveryOtherKindOfProxy(ProxyScenario kind, Phase phase) throws Exception {
    phase(kind, phase);
  }

  private static boolean all() {
    return Reliability.longRun() || Boolean.getBoolean("tsop.crashpoints.all");
  }

  private void phase(ProxyScenario kind, Phase phase) throws Exception {
    String p = phase.name().toLowerCase(java.util.Locale.ROOT);
    String label = kind == ProxyScenario.SERVICE ? p : kind.label + " " + p;
    String prefix = kind == ProxyScenario.SERVICE ? p : kind.label.substring(0, 3) + "-" + p;
    // After a failed phase: the hook disarmed, the operator running.
    hook.disarm();
    if (!op.isAlive()) {
      op.start();
      op.awaitReady(Duration.ofSeconds(120));
    }
    String known = kind.firstApiCall(phase);
    if (!all() && kind != ProxyScenario.SERVICE && known != null) {
      // CI's one point of the phase, known from the long run: no dry run (it must still be reached, or this fails).
      crashAt(kind, phase, label, prefix + "-1", new Point(1, known, "", ""));
      return;
    }
    // The dry run: which side effects does this phase make?
    World dry = world(prefix + "-dry");
    prepare(kind, phase, dry);
    String id = prefix + "-dry";
    hook.arm(id + "\trecord");
    act(kind, phase, dry);
    converge(id);
    awaitQuiet();
    hook.disarm();
    List<Point> points = hook.recorded(id);
    Reliability.report("crash points " + label + ": " + points.size() + " " + points);
    assertThat(points).as("side effects of the %s phase", label).isNotEmpty();
    cleanup(kind, dry);

    List<Point> chosen = all() || (kind == ProxyScenario.SERVICE && phase == Phase.CREATE) ? points
        : List.of(sample(points));
    int i = 0;
    for (Point point : chosen) {
      i++;
      crashAt(kind, phase, label, prefix + "-" + i, point);
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

  private void crashAt(ProxyScenario kind, Phase phase, String label, String name, Point point) throws Exception {
    long t0 = System.nanoTime();
    World w = world(name);
    prepare(kind, phase, w);
    String id = name;
    hook.arm(id + "\tcrash\tafter\t" + point.k() + "\t" + point.name());
    act(kind, phase, w);
    boolean crashed = op.awaitExit(Duration.ofSeconds(45));
    String ctx = kind.label + " phase " + phase + ", crash after " + point.name() + " #" + point.k() + " (world "
        + w.namespace + ")";
    String hit = hook.crashed();
    hook.disarm();
    boolean background = background(point) || operatorWideCreate(kind, point);
    if (!crashed && (background || point.k() > 1 || statusWrite(point))) {
      // The operator-wide ConfigMaps are written when their debounce or sweep says, not by the phase itself: such a
      // write may fall outside the phase's window. And a repeat of a write (occurrence 2 or later of one kind, e.g. a
      // second patch of the proxy Secret) depends on how events fall into reconciles: a replay may make it in one
      // write where the dry run made two (seen once in CI). A parent's status is written only when it differs: a
      // transient status (an Ingress's address gone while its device is re-registered) is written only when a
      // reconcile falls into the gap (seen in the long run's Ingress heal phase). Said, not hidden: a row "not
      // reached" in the table; the world must still converge with every key accounted for.
      long converged = World.awaitConverged(env, worlds, 120, () -> ctx + "; " + ledger.summary());
      ledger.assertAccounted(lostAllowed, ctx);
      String why = background ? "operator-wide background write"
          : point.k() > 1 ? "a repeat write made in fewer writes" : "a status write the replay did not need";
      table.add("| " + label + " | after `" + point.name() + "` #" + point.k() + " | — | not reached (" + why
          + "; converged) | " + converged + " |");
      Reliability.report(String.format("crash-point kind=%s phase=%s point=\"%s\" k=%d not-reached (%s) "
          + "%s", kind.label, phase, point.name(), point.k(), why, ledger.summary()));
      cleanup(kind, w);
      return;
    }
    assertThat(crashed).as("the operator reached the crash point: %s; process alive %s", ctx, op.isAlive())
        .isTrue();
    assertThat(hit).as("crash record; %s", ctx).startsWith(id + "\tafter\t" + point.k() + "\t" + point.name());
    hook.forgetCrash();
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
    Reliability.report(String.format("crash-point kind=%s phase=%s point=\"%s\" k=%d target=%s survived=yes "
            + "converged_after_restart_ms=%d point_ms=%d %s", kind.label, phase, point.name(), point.k(),
        f.length > 4 ? f[4] : "?", converged, (System.nanoTime() - t0) / 1_000_000, ledger.summary()));
    cleanup(kind, w);
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

  /**
   * A ConfigMap created in a phase of a kind whose proxies have no ConfigMap of their own: the operator creates only
   * two other ConfigMaps, the status page's and the device registry's, each once, when their timer says (the hook sees
   * a create's collection URL, not the name). Seen in CI: the Service create phase's dry run recorded one, a replay
   * did not make it.
   */
  private static boolean operatorWideCreate(ProxyScenario kind, Point p) {
    return kind != ProxyScenario.PROXY_GROUP && p.name().equals("create configmaps");
  }

  /** A write of a parent's status ({@code update services/status}, {@code update ingresses/status}, …). */
  private static boolean statusWrite(Point p) {
    return p.name().startsWith("update ") && p.name().endsWith("/status");
  }

  /** Waits until the operator has made no side effect for 3 s (at most 20 s): the end of a dry run's window. */
  private static void awaitQuiet() throws IOException, InterruptedException {
    Path log = hook.pointsLog();
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
    w.foreignDevices.addAll(targetIds);
    worlds.add(w);
    return w;
  }

  /** The state before the phase's action, converged. */
  private static void prepare(ProxyScenario kind, Phase phase, World w) {
    if (phase != Phase.CREATE) {
      kind.create(w);
      converge(w.namespace + " prepared");
    }
  }

  /** The phase's action: what a user (or the tailnet) does. */
  private static void act(ProxyScenario kind, Phase phase, World w) {
    switch (phase) {
      case CREATE -> kind.create(w);
      case CHANGE -> kind.change(w);
      case HEAL -> kind.heal(w);
      case DELETE -> kind.delete(w);
    }
  }

  private static void cleanup(ProxyScenario kind, World w) {
    if (kind.exists(w)) {
      kind.delete(w);
      converge(w.namespace + " cleaned up");
    }
  }

  private static long converge(String ctx) {
    return World.awaitConverged(env, worlds, 120, () -> ctx + "; " + ledger.summary());
  }
}
