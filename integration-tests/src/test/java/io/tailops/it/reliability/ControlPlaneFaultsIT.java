package io.tailops.it.reliability;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Control-plane faults: while a seeded churn runs, the fake Tailscale API answers stretches of 429 (Retry-After: 1),
 * 500, timeouts (requests held past the client's 5 s timeout and never processed), slow answers (processed after the
 * client gave up: the key is minted but its caller never learns it) and 401. Asserted: nothing that should stay is
 * deleted (a stable set of exposed Services keeps its devices, StatefulSets and Secrets), retries back off (calls
 * per proxy and the spacing of calls answered 429 are counted), and the world converges once the faults stop.
 */
class ControlPlaneFaultsIT {
  private static final Pattern DESCRIPTION = Pattern.compile("\"description\"\\s*:\\s*\"([^\"]*)\"");
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

  /** One fault kind and what its injection looks like. */
  enum Kind {
    RATE_LIMITED, SERVER_ERROR, TIMEOUT, SLOW, UNAUTHORIZED;

    FaultInjection inject() {
      var t = env.tailnet();
      return switch (this) {
        case RATE_LIMITED -> t.inject(Fault.status(429).retryAfter("1")).on(Endpoint.CREATE_KEY,
            Endpoint.DELETE_DEVICE, Endpoint.DELETE_KEY).always();
        case SERVER_ERROR -> t.inject(Fault.status(500)).everywhere().always();
        case TIMEOUT -> t.inject(Fault.hang()).on(Endpoint.CREATE_KEY, Endpoint.DELETE_DEVICE).always();
        case SLOW -> t.inject(Fault.delay(Duration.ofSeconds(6))).on(Endpoint.CREATE_KEY).always();
        case UNAUTHORIZED -> t.inject(Fault.status(401)).everywhere().always();
      };
    }
  }

  @Test
  void faultStretchesDeleteNothingBackOffAndConverge() throws Exception {
    int iterations = Reliability.iterations(1, 5);
    long base = Reliability.seed(2000);
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
        FaultInjection fault = kind.inject();
        long stretchMs = 6000 + r.nextInt(3000);
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
        Map<String, List<Instant>> perProxy = callsPerProxy(from, to);
        int maxPerProxy = perProxy.values().stream().mapToInt(List::size).max().orElse(0);
        long minGapMs = minGap(perProxy);
        double seconds = Duration.between(from, to).toMillis() / 1000.0;
        int total = env.tailnet().totalCalls();
        figures.add(String.format("%s %.1fs: calls %d (%s), answered by the fault %d, mint/delete calls per proxy max "
            + "%d, min gap %d ms", kind, seconds, total, env.tailnet().callCounts(), fault.triggered(), maxPerProxy,
            minGapMs));
        // Backoff: a client without it makes hundreds of calls per proxy in seconds. The client tries each call at
        // most 4 times, with exponential delays (and Retry-After), and the reconciler backs off 1 s, 2 s, 4 s, ...
        int bound = 4 * (2 + (int) Math.ceil(Math.log(1 + seconds) / Math.log(2)));
        assertThat(maxPerProxy).as("mint/delete calls of one proxy during %s (%s); seed %d", kind, perProxy, seed)
            .isLessThanOrEqualTo(bound);
        // The spacing of calls answered 429 (Retry-After: 1) is reported here; retryAfterIsHonouredAcrossReconciles
        // below asserts it (docs/reliability.md, finding 1).
        // A pause between stretches, as between real incidents.
        Thread.sleep(3000);
      }

      String ctx = "seed " + seed + ", ops " + w.log + ", model " + w.describe();
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
      Reliability.report(String.format("control-plane seed=%d ops=%d converged_after_faults_ms=%d "
              + "credentials_valid_after_ms=%d %s%n    %s", seed, w.ops, converge, validAfterMs, ledger.summary(),
          String.join("\n    ", figures)));
    }
  }

  /**
   * Retry-After must hold for the proxy's next call, whatever triggers it. Here a user edits the Service (an unrelated
   * label) every 500 ms while the control plane answers its key mints 429 with {@code Retry-After: 3}: the reconciles
   * that the edits trigger must not call the endpoint before the 3 s have passed. (Before the fix they called again
   * a few milliseconds after the last 429; docs/reliability.md, finding 1.)
   */
  @Test
  void retryAfterIsHonouredAcrossReconciles() throws Exception {
    env.createNamespace("retry-after");
    FaultInjection fault = env.tailnet().inject(Fault.status(429).retryAfter("3")).on(Endpoint.CREATE_KEY).always();
    Instant from = env.tailnet().now();
    try {
      env.client().resource(new ServiceBuilder().withNewMetadata().withNamespace("retry-after").withName("web")
          .addToAnnotations("tailscale.com/expose", "true").addToAnnotations("tailscale.com/hostname", "retry-after")
          .endMetadata().withNewSpec().addToSelector("app", "web").addNewPort().withPort(80).endPort().endSpec()
          .build()).create();
      long end = System.nanoTime() + 12_000_000_000L;
      for (int i = 0; System.nanoTime() < end; i++) {
        String v = Integer.toString(i);
        for (int attempt = 0; attempt < 10; attempt++) {
          try {
            env.client().services().inNamespace("retry-after").withName("web").edit(svc -> new ServiceBuilder(svc)
                .editMetadata().addToLabels("edited", v).endMetadata().build());
            break;
          } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
            if (e.getCode() != 409) {
              throw e;
            }
          }
        }
        Thread.sleep(500);
      }
    } finally {
      fault.clear();
    }
    Map<String, List<Instant>> calls = callsPerProxy(from, env.tailnet().now());
    assertThat(calls).hasSize(1);
    System.out.printf("retry-after: mint calls answered 429 (Retry-After: 3) %s, smallest gap %d ms%n", calls,
        minGap(calls));
    assertThat(minGap(calls)).as("gaps between mint calls answered 429 with Retry-After: 3: %s", calls)
        .isGreaterThanOrEqualTo(2700);
    // The rate limit ends: the Service gets its proxy, and removing it leaves nothing behind for the other test.
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
        .until(() -> !env.statefulSets("svc", "retry-after", "web").isEmpty());
    env.client().services().inNamespace("retry-after").withName("web").delete();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(90))
        .until(() -> env.client().services().inNamespace("retry-after").withName("web").get() == null
            && env.statefulSets("svc", "retry-after", "web").isEmpty());
  }

  /** Mint and device-delete calls received in [from, to), by proxy (key description or device ID). */
  static Map<String, List<Instant>> callsPerProxy(Instant from, Instant to) {
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
