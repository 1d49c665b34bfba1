package io.tailops.it.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.coordination.v1.Lease;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.kube.AuditEvent;
import io.tailops.testkit.kube.AuditEvents;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Leader fail-over: two operator processes with leader election (as two replicas of the Deployment), the leader
 * killed with SIGKILL, and separately cut off from the API server (a network partition: its requests are never
 * answered), each while Services are being created, renamed, exposed and deleted. Asserted, from the documented lease
 * contract (docs/reliability.md, "Leader fail-over"), not from the operator's constants:
 * <ul>
 *   <li>the standby takes the lease no earlier than the lease duration after the leader's last renewal (the API
 *       server's audit log) and within the documented bound after the fault;
 *   <li>a partitioned leader exits within the renew deadline of its last renewal, before its Lease is taken (the
 *       partition is healed the moment the standby leads, so a leader that went on would be seen writing);
 *   <li>never two writers: every write of the old leader (audit log, told apart by each process's own token) was
 *       received before the new leader took the lease, and the new leader wrote nothing (but the lease) before;
 *   <li>nothing leaks: exactly one proxy per exposed Service, no orphaned object, no device without a proxy, keys
 *       accounted for (a key lost only when minted just before a fault, at most one per proxy per fault).
 * </ul>
 */
class LeaderFailoverIT {
  /** The documented lease settings (docs/reliability.md, "Leader fail-over"). */
  static final Duration DOCUMENTED_LEASE_DURATION = Duration.ofSeconds(15);
  static final Duration DOCUMENTED_RENEW_DEADLINE = Duration.ofSeconds(10);
  static final Duration DOCUMENTED_RETRY_PERIOD = Duration.ofSeconds(2);
  /**
   * The documented bound of a takeover after the leader stops (crash or partition): lease duration + 3 retry periods
   * (the last renewal up to one retry period before the fault, the standby seeing it up to one later, and its next
   * attempt up to one more), plus the documented allowance for a loaded machine.
   */
  static final Duration DOCUMENTED_TAKEOVER_BOUND = DOCUMENTED_LEASE_DURATION
      .plus(DOCUMENTED_RETRY_PERIOD.multipliedBy(3)).plus(Duration.ofSeconds(5));
  /**
   * The documented bound of a partitioned leader's exit: the renew deadline after its last renewal, plus the
   * documented allowance (the guard's check interval, the process exit, this test's polling, a loaded machine).
   */
  static final Duration DOCUMENTED_EXIT_BOUND = DOCUMENTED_RENEW_DEADLINE.plus(Duration.ofSeconds(2));
  static final String LEASE = "tailscale-operator";

  enum Fault { SIGKILL, PARTITION }

  static OperatorEnvironment env;
  static KeyLedger ledger;
  static final List<OperatorProcess> processes = new ArrayList<>();
  static final Map<OperatorProcess, PartitionableLink> links = new java.util.HashMap<>();
  static final List<Instant> faultTimes = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    env = OperatorEnvironment.create();
    ledger = new KeyLedger(env, env.client());
    Path logs = Path.of("target", "reliability-logs");
    for (String name : List.of("operator-a", "operator-b")) {
      PartitionableLink link = new PartitionableLink(env.kube().port());
      OperatorProcess p = new OperatorProcess(env, logs).leaderElection(name).apiServer(link.url());
      processes.add(p);
      links.put(p, link);
      p.start();
    }
    for (OperatorProcess p : processes) {
      p.awaitReady(Duration.ofSeconds(120));
    }
  }

  @AfterAll
  static void stop() throws Exception {
    for (OperatorProcess p : processes) {
      p.kill();
    }
    links.values().forEach(PartitionableLink::close);
    if (ledger != null) {
      ledger.close();
    }
    env.close();
  }

  @Test
  void theStandbyTakesOverWithinTheLeaseBoundsWithNeverTwoWritersAndNothingLeaks() throws Exception {
    int iterations = Reliability.iterations(1, 5);
    long base = Reliability.seed(4000);
    int faults = 0;
    int slots = 6;
    for (int i = 0; i < iterations; i++) {
      long seed = base + i;
      Random r = new Random(seed * 31 + 17);
      World w = new World(env, env.client(), "failover-" + seed, seed, slots);
      long t0 = System.nanoTime();
      List<String> figures = new ArrayList<>();
      for (Fault fault : Fault.values()) {
        figures.add(failOver(w, r, fault, seed));
        faults++;
        // A fault may catch every proxy being created between its key's mint and its Secret write: at most one
        // lost key per proxy per fault, and each minted before a fault (by the leader that went away).
        int allowed = faults * slots;
        String ctx = "seed " + seed + ", ops " + w.log + ", model " + w.describe();
        long converge = World.awaitConverged(env, List.of(w), 120, () -> ctx + "; " + ledger.summary());
        ledger.assertAccounted(allowed, ctx);
        assertThat(ledger.lost()).as("keys lost, each minted just before a fault at %s; %s", faultTimes, ctx)
            .allMatch(k -> faultTimes.stream().anyMatch(f -> !k.created().isAfter(f.plusSeconds(1))
                && k.created().isAfter(f.minusSeconds(60))));
        figures.add("converged_ms=" + converge);
      }
      w.deleteAll();
      String ctx = "seed " + seed + ", ops " + w.log;
      long cleanup = World.awaitConverged(env, List.of(w), 120, () -> ctx + "; " + ledger.summary());
      ledger.assertAccounted(faults * slots, ctx);
      Reliability.report(String.format("failover seed=%d ops=%d %s cleanup_ms=%d iteration_ms=%d %s", seed, w.ops,
          String.join(" ", figures), cleanup, (System.nanoTime() - t0) / 1_000_000, ledger.summary()));
    }
  }

  /** One fail-over during churn; returns its figures. */
  private String failOver(World w, Random r, Fault fault, long seed) throws Exception {
    OperatorProcess leader = awaitLeader();
    OperatorProcess standby = processes.get(0) == leader ? processes.get(1) : processes.get(0);
    String oldCredential = leader.credentialId();
    String newCredential = standby.credentialId();
    int before = 2 + r.nextInt(3);
    for (int op = 0; op < before; op++) {
      w.step();
      Thread.sleep(r.nextInt(400));
    }
    Thread.sleep(r.nextInt(300)); // while the leader is acting on the last change
    Instant faultAt = Instant.now();
    faultTimes.add(faultAt);
    if (fault == Fault.SIGKILL) {
      leader.kill();
    } else {
      links.get(leader).partition();
    }
    w.log.add(fault + " " + leader.podName());
    // Churn goes on while nobody leads.
    Instant exitedAt = null;
    Lease lease;
    long deadline = System.nanoTime() + DOCUMENTED_TAKEOVER_BOUND.multipliedBy(3).toNanos();
    long nextOp = System.nanoTime();
    while (true) {
      lease = env.client().leases().inNamespace(OperatorEnvironment.NAMESPACE).withName(LEASE).get();
      if (exitedAt == null && fault == Fault.PARTITION && !leader.isAlive()) {
        exitedAt = Instant.now();
      }
      if (standby.podName().equals(lease.getSpec().getHolderIdentity())) {
        break;
      }
      assertThat(System.nanoTime()).as("%s: the standby %s did not take over (lease %s); seed %d", fault,
          standby.podName(), lease.getSpec(), seed).isLessThan(deadline);
      if (System.nanoTime() >= nextOp) {
        w.step();
        nextOp = System.nanoTime() + (800 + r.nextInt(1200)) * 1_000_000L;
      }
      Thread.sleep(50);
    }
    Instant takenAt = Instant.now();
    if (fault == Fault.PARTITION) {
      // Heal at once: a partitioned leader that still thought it led would now write beside the new one.
      links.get(leader).heal();
      assertThat(leader.awaitExit(DOCUMENTED_TAKEOVER_BOUND)).as("the partitioned leader %s exits (log %s)",
          leader.podName(), leader.log()).isTrue();
      if (exitedAt == null) {
        exitedAt = Instant.now();
      }
    }
    // More churn under the new leader.
    for (int op = 0; op < 2; op++) {
      w.step();
      Thread.sleep(r.nextInt(400));
    }

    // The audit log: when the old leader last renewed, when the new one took the lease, who wrote what when.
    // The whole log: each process run has its own credential, and its last renewal may precede this round.
    AuditEvents since = env.kube().audit().all();
    // Reviews (e.g. the RBAC self-check at start, a "create selfsubjectrulesreviews") are questions, not writes.
    AuditEvents old = since.filter(e -> oldCredential.equals(e.credentialId()) && !isReview(e));
    AuditEvents neu = since.filter(e -> newCredential.equals(e.credentialId()) && !isReview(e));
    Instant lastRenewal = old.byResource("leases").writes().filter(AuditEvent::succeeded).stream()
        .map(AuditEvent::requestReceived).max(Comparator.naturalOrder()).orElseThrow(() -> new AssertionError(
            "no renewal by the old leader: " + old.summary()));
    Instant acquired = neu.byResource("leases").writes().filter(AuditEvent::succeeded).stream()
        .map(AuditEvent::requestReceived).min(Comparator.naturalOrder()).orElseThrow(() -> new AssertionError(
            "no lease write by the new leader: " + neu.summary()));
    Instant lastOldWrite = old.writes().stream().map(AuditEvent::requestReceived).max(Comparator.naturalOrder())
        .orElse(lastRenewal);
    Duration expiredFor = Duration.between(lastRenewal, acquired);
    Duration takeover = Duration.between(faultAt, acquired);
    String context = fault + " of " + leader.podName() + ", seed " + seed + "; old leader's requests:\n"
        + old.summary() + "\nnew leader's:\n" + neu.summary();
    assertThat(expiredFor).as("the lease was taken %s after the old leader's last renewal; %s", expiredFor, context)
        .isGreaterThanOrEqualTo(DOCUMENTED_LEASE_DURATION);
    assertThat(takeover).as("takeover after the fault; %s", context).isLessThanOrEqualTo(DOCUMENTED_TAKEOVER_BOUND);
    // (A lease update refused with 409 after the takeover changes nothing; any other request does.)
    List<AuditEvent> lateWrites = old.writes().filter(e -> !e.requestReceived().isBefore(acquired)
        && !("leases".equals(e.resource()) && !e.succeeded())).list();
    assertThat(lateWrites).as("writes of the old leader after the new one took the lease at %s; %s", acquired,
        context).isEmpty();
    List<AuditEvent> earlyWrites = neu.writes().filter(e -> !"leases".equals(e.resource())
        && e.requestReceived().isBefore(acquired)).list();
    assertThat(earlyWrites).as("writes of the new leader before it took the lease at %s; %s", acquired, context)
        .isEmpty();
    if (fault == Fault.PARTITION) {
      assertThat(exitedAt).as("the partitioned leader exits within the renew deadline of its last renewal (%s); %s",
          lastRenewal, context).isBefore(lastRenewal.plus(DOCUMENTED_EXIT_BOUND));
      assertThat(exitedAt).as("the partitioned leader exits before its Lease is taken; %s", context)
          .isBefore(acquired);
    }

    // The old leader comes back as the standby (a new pod, with a new token).
    links.get(leader).heal();
    leader.start();
    leader.awaitReady(Duration.ofSeconds(120));
    return String.format("%s_takeover_ms=%d %s_after_last_renewal_ms=%d %s_gap_between_writers_ms=%d%s",
        fault.name().toLowerCase(), takeover.toMillis(), fault.name().toLowerCase(), expiredFor.toMillis(),
        fault.name().toLowerCase(), Duration.between(lastOldWrite, acquired).toMillis(),
        exitedAt == null ? "" : " partition_exit_ms=" + Duration.between(faultAt, exitedAt).toMillis()
            + " partition_exit_after_last_renewal_ms=" + Duration.between(lastRenewal, exitedAt).toMillis());
  }

  private static boolean isReview(AuditEvent e) {
    return e.resource() != null && e.resource().endsWith("reviews");
  }

  private static OperatorProcess awaitLeader() throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
    while (System.nanoTime() < deadline) {
      Lease lease = env.client().leases().inNamespace(OperatorEnvironment.NAMESPACE).withName(LEASE).get();
      if (lease != null && lease.getSpec() != null) {
        for (OperatorProcess p : processes) {
          if (p.podName().equals(lease.getSpec().getHolderIdentity()) && p.isAlive()) {
            return p;
          }
        }
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no leader after 120 s");
  }
}
