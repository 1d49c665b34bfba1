package io.tailops.it.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.tailscale.Endpoint;
import io.tailops.testkit.tailscale.Fault;
import io.tailops.testkit.tailscale.FaultInjection;
import io.tailops.testkit.tailscale.RecordedRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The control-plane fault stretches: while a seeded churn runs, the fake Tailscale API answers stretches of 429
 * (Retry-After: 1), 500, timeouts (requests held past the client's request timeout and never processed), slow answers
 * (processed after the client gave up: the key is minted but its caller never learns it) and 401. Asserted: nothing
 * that should stay is deleted (a stable set of exposed Services keeps its devices, StatefulSets and Secrets), retries
 * back off (calls per proxy within the bound of the documented contract), and the world converges once the faults
 * stop. Run by {@link ControlPlaneFaultsIT} with the test-tuned client (for speed) and by
 * {@link ControlPlaneFaultsProductionIT} with the client exactly as the operator builds it in production.
 */
final class ControlPlaneFaults {
  /**
   * The control-plane client's contract as docs/reliability.md states it ("The control-plane client's contract"): a
   * call is tried at most this many times. The bounds below come from the documented figures, not from the client's
   * constants, so a change of the client that breaks the documented contract fails here.
   */
  static final int DOCUMENTED_ATTEMPTS_PER_CALL = 4;
  /** The documented request timeout of the production client. */
  static final Duration DOCUMENTED_REQUEST_TIMEOUT = Duration.ofSeconds(30);

  private static final Pattern DESCRIPTION = Pattern.compile("\"description\"\\s*:\\s*\"([^\"]*)\"");

  /** Which client the operator runs with, and the request timeout the faults must outlast. */
  record Settings(String name, Duration requestTimeout) {
    /** {@link OperatorEnvironment}'s default client: short retry delays and timeout. */
    static final Settings TUNED = new Settings("test-tuned", OperatorEnvironment.TUNED_CONTROL_PLANE_TIMEOUT);
    /** The client as {@code Main} builds it ({@link OperatorEnvironment#productionControlPlaneClient}). */
    static final Settings PRODUCTION = new Settings("production", DOCUMENTED_REQUEST_TIMEOUT);
  }

  /** One fault kind and what its injection looks like. */
  enum Kind {
    RATE_LIMITED, SERVER_ERROR, TIMEOUT, SLOW, UNAUTHORIZED;

    FaultInjection inject(OperatorEnvironment env, Settings settings) {
      var t = env.tailnet();
      return switch (this) {
        case RATE_LIMITED -> t.inject(Fault.status(429).retryAfter("1")).on(Endpoint.CREATE_KEY,
            Endpoint.DELETE_DEVICE, Endpoint.DELETE_KEY).always();
        case SERVER_ERROR -> t.inject(Fault.status(500)).everywhere().always();
        case TIMEOUT -> t.inject(Fault.hang()).on(Endpoint.CREATE_KEY, Endpoint.DELETE_DEVICE).always();
        case SLOW -> t.inject(Fault.delay(settings.requestTimeout().plusSeconds(1))).on(Endpoint.CREATE_KEY).always();
        case UNAUTHORIZED -> t.inject(Fault.status(401)).everywhere().always();
      };
    }

    /** How long the fault lasts: 6–9 s, and a held request outlasts the client's request timeout. */
    long stretchMs(Random r, Settings settings) {
      long ms = 6000 + r.nextInt(3000);
      return this == TIMEOUT ? Math.max(ms, settings.requestTimeout().plusSeconds(1).toMillis()) : ms;
    }
  }

  private ControlPlaneFaults() {
  }

  /**
   * The most mint/delete calls one proxy may make during a stretch of {@code seconds}: each call is tried at most
   * {@link #DOCUMENTED_ATTEMPTS_PER_CALL} times, and the reconciler backs off 1 s, 2 s, 4 s, ... between failed
   * reconciles (or waits exactly a Retry-After), so one proxy reconciles at most 2 + ⌈log₂(1 + seconds)⌉ times. A
   * client without backoff makes hundreds.
   */
  static int callBound(double seconds) {
    return DOCUMENTED_ATTEMPTS_PER_CALL * (2 + (int) Math.ceil(Math.log(1 + seconds) / Math.log(2)));
  }

  /** Runs the stretches for {@code iterations} seeds from {@code base}; one report line per iteration. */
  static void run(OperatorEnvironment env, KeyLedger ledger, Settings settings, int iterations, long base)
      throws InterruptedException {
    int slowMints = 0;
    for (int i = 0; i < iterations; i++) {
      long seed = base + i;
      Random r = new Random(seed * 31 + 11);
      World stable = new World(env, env.client(), "cpf-stable-" + seed, seed, 3);
      World w = new World(env, env.client(), "cpf-" + seed, seed + 1, 6);
      stable.createAllExposed();
      for (int k = 0; k < 4; k++) {
        w.step();
      }
      World.awaitConverged(env, List.of(stable, w), 120, () -> "seed " + seed + " before the faults");
      Map<String, String> stableDevices = new LinkedHashMap<>();
      Map<String, String> stableUids = new LinkedHashMap<>();
      for (World.Slot s : stable.slots.values()) {
        Secret sec = env.secrets("svc", stable.namespace, s.name).get(0);
        stableDevices.put(s.name, World.data(sec, "device_id"));
        stableUids.put(s.name, sec.getMetadata().getUid() + "/" + env.statefulSets("svc", stable.namespace, s.name)
            .get(0).getMetadata().getUid());
      }

      List<Kind> order = new ArrayList<>(List.of(Kind.values()));
      Collections.shuffle(order, r);
      List<String> figures = new ArrayList<>();
      for (Kind kind : order) {
        env.tailnet().resetCallCounts();
        Instant from = env.tailnet().now();
        FaultInjection fault = kind.inject(env, settings);
        long stretchMs = kind.stretchMs(r, settings);
        long end = System.nanoTime() + stretchMs * 1_000_000;
        w.log.add("FAULT " + kind);
        while (System.nanoTime() < end) {
          w.step();
          Thread.sleep(400 + r.nextInt(600));
        }
        fault.clear();
        if (kind == Kind.TIMEOUT) {
          env.tailnet().releaseHangs();
        }
        Instant to = env.tailnet().now();
        if (kind == Kind.SLOW) {
          slowMints += fault.triggered();
        }
        Map<String, List<Instant>> perProxy = callsPerProxy(env, from, to);
        int maxPerProxy = perProxy.values().stream().mapToInt(List::size).max().orElse(0);
        long minGapMs = minGap(perProxy);
        double seconds = Duration.between(from, to).toMillis() / 1000.0;
        int total = env.tailnet().totalCalls();
        figures.add(String.format("%s %.1fs: calls %d (%s), answered by the fault %d, mint/delete calls per proxy max "
            + "%d, min gap %d ms", kind, seconds, total, env.tailnet().callCounts(), fault.triggered(), maxPerProxy,
            minGapMs));
        assertThat(maxPerProxy).as("mint/delete calls of one proxy during %s (%s); seed %d, %s client", kind,
            perProxy, seed, settings.name()).isLessThanOrEqualTo(callBound(seconds));
        // The spacing of calls answered 429 (Retry-After: 1) is reported here; retryAfterIsHonouredAcrossReconciles
        // asserts it (docs/reliability.md, finding 1).
        // A pause between stretches, as between real incidents.
        Thread.sleep(3000);
      }

      String ctx = "seed " + seed + ", " + settings.name() + " client, ops " + w.log + ", model " + w.describe();
      long converge = World.awaitConverged(env, List.of(stable, w), 180, () -> ctx + "; " + ledger.summary());
      for (World.Slot s : stable.slots.values()) {
        Secret sec = env.secrets("svc", stable.namespace, s.name).get(0);
        assertThat(World.data(sec, "device_id")).as("device of stable %s; %s", s.name, ctx)
            .isEqualTo(stableDevices.get(s.name));
        assertThat(sec.getMetadata().getUid() + "/" + env.statefulSets("svc", stable.namespace, s.name).get(0)
            .getMetadata().getUid()).as("proxy objects of stable %s", s.name).isEqualTo(stableUids.get(s.name));
      }
      // After a 401 stretch the operator learns that its credentials work again with its next successful call, or
      // from the credential watcher's re-check of bad credentials (every 30 s, on a 5 s tick).
      long validFrom = System.nanoTime();
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> env.operator().context().health().credentialState().name().equals("VALID"));
      long validAfterMs = (System.nanoTime() - validFrom) / 1_000_000;
      int allowed = slowMints;
      ledger.assertAccounted(allowed, ctx);

      w.deleteAll();
      stable.deleteAll();
      World.awaitConverged(env, List.of(stable, w), 120, () -> ctx + " cleanup; " + ledger.summary());
      ledger.assertAccounted(allowed, ctx);
      Reliability.report(String.format("control-plane (%s client) seed=%d ops=%d converged_after_faults_ms=%d "
              + "credentials_valid_after_ms=%d %s%n    %s", settings.name(), seed, w.ops, converge, validAfterMs,
          ledger.summary(), String.join("\n    ", figures)));
    }
  }

  /** Mint and device-delete calls received in [from, to), by proxy (key description or device ID). */
  static Map<String, List<Instant>> callsPerProxy(OperatorEnvironment env, Instant from, Instant to) {
    Map<String, List<Instant>> out = new HashMap<>();
    for (RecordedRequest req : env.tailnet().requests()) {
      if (req.received().isBefore(from) || !req.received().isBefore(to)) {
        continue;
      }
      String who = null;
      if (req.endpoint() == Endpoint.CREATE_KEY) {
        Matcher m = DESCRIPTION.matcher(req.body());
        who = m.find() ? "mint " + m.group(1) : "mint ?";
      } else if (req.endpoint() == Endpoint.DELETE_DEVICE || req.endpoint() == Endpoint.DELETE_KEY) {
        who = req.method() + " " + req.path();
      }
      if (who != null) {
        out.computeIfAbsent(who, k -> new ArrayList<>()).add(req.received());
      }
    }
    return out;
  }

  static long minGap(Map<String, List<Instant>> perProxy) {
    long min = Long.MAX_VALUE;
    for (List<Instant> times : perProxy.values()) {
      List<Instant> sorted = new ArrayList<>(times);
      Collections.sort(sorted);
      for (int i = 1; i < sorted.size(); i++) {
        min = Math.min(min, Duration.between(sorted.get(i - 1), sorted.get(i)).toMillis());
      }
    }
    return min == Long.MAX_VALUE ? -1 : min;
  }
}
