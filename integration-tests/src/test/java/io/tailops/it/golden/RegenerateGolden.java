package io.tailops.it.golden;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.testkit.headscale.TailnetBinaries;
import io.tailops.testkit.kube.KubeApiServer;
import io.tailops.testkit.official.OfficialOperator;
import io.tailops.testkit.official.SplitControlPlane;
import io.tailops.testkit.proxy.ProxySimulator;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Captures the golden files from the official operator (run by {@code tools/golden/regenerate.sh}, never by the
 * tests): a real API server with the official CRDs, the {@link SplitControlPlane} (fake Tailscale API + headscale
 * behind one login server), the {@link ProxySimulator} playing containerboot for the proxies, the inputs
 * ({@link GoldenInputs}), then the official operator; once every parent is ready ({@link Readiness}) and nothing has
 * changed for a few seconds, the normalised objects ({@link Normaliser}) are written to
 * {@code integration-tests/golden/expected/}.
 *
 * <p>Arguments: {@code --crds DIR} (the official CRD YAMLs, {@code cmd/k8s-operator/deploy/crds} of the module),
 * optionally {@code --out DIR} (default the expected folder), {@code --timeout SECONDS} (default 300).
 */
public final class RegenerateGolden {
  static final String NAMESPACE = "tailscale";
  /** The chart's proxy settings, the same for both operators (OperatorEnvironment sets the same). */
  static final Map<String, String> PROXY_ENV = Map.of("PROXY_IMAGE", "tailscale/tailscale:v1.94.2",
      "PROXY_FIREWALL_MODE", "auto");
  private static final Duration QUIET = Duration.ofSeconds(5);
  /** How long the same parents may wait before they are resynced ({@link #resync}). */
  private static final Duration RESYNC_AFTER = Duration.ofSeconds(30);
  static final String RESYNC_ANNOTATION = "golden.tailops.io/resync";

  private RegenerateGolden() {
  }

  public static void main(String[] args) throws Exception {
    Path crds = null;
    Path repo = GoldenPaths.repo();
    Path out = GoldenPaths.expected(repo);
    Duration timeout = Duration.ofSeconds(300);
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--crds" -> crds = Path.of(args[++i]);
        case "--out" -> out = Path.of(args[++i]);
        case "--timeout" -> timeout = Duration.ofSeconds(Long.parseLong(args[++i]));
        default -> throw new IllegalArgumentException("unknown argument " + args[i]
            + " (--crds DIR [--out DIR] [--timeout SECONDS])");
      }
    }
    if (crds == null || !Files.isDirectory(crds)) {
      throw new IllegalArgumentException("--crds must name the folder of the official CRD YAMLs, got " + crds);
    }
    List<GoldenInputs.Input> inputs = GoldenInputs.load(repo);
    log("inputs: " + inputs.size() + " objects from " + GoldenInputs.folders(repo).stream()
        .map(p -> repo.relativize(p).toString()).toList());
    Path work = Files.createTempDirectory("tsop-golden-");
    Path[] crdFiles;
    try (Stream<Path> s = Files.list(crds)) {
      crdFiles = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toArray(Path[]::new);
    }
    String version = OfficialOperator.version();
    boolean done = false;
    try (KubeApiServer kube = KubeApiServer.builder().controllerManager(true).crds(crdFiles).start();
         SplitControlPlane controlPlane = SplitControlPlane.start(TailnetBinaries.locate())) {
      KubernetesClient client = kube.client();
      prepareCluster(client);
      GoldenTailnet.prepare(controlPlane.api());
      try (ProxySimulator proxies = ProxySimulator.start(client, NAMESPACE, controlPlane.api());
           io.tailops.testkit.proxy.RecorderSimulator recorders = io.tailops.testkit.proxy.RecorderSimulator.start(
               client, NAMESPACE, controlPlane.api())) {
        GoldenInputs.apply(client, inputs);
        log("inputs applied; starting the official operator v" + version + " (its own node logs in to headscale "
            + "first)");
        OfficialOperator.Builder b = OfficialOperator.builder().kubeconfig(kube.kubeconfig()).namespace(NAMESPACE)
            .loginServer(controlPlane.loginServer())
            .credentials(controlPlane.operatorClient().id(), controlPlane.operatorClient().secret())
            .workDir(work.resolve("operator"));
        PROXY_ENV.forEach(b::env);
        try (OfficialOperator operator = b.start()) {
          log("operator running (log " + operator.logFile() + "); waiting for every parent to be ready");
          TreeMap<String, List<ObjectNode>> files = awaitSettled(client, inputs, controlPlane, operator, timeout);
          GoldenFiles.write(out, files, version);
          log("wrote " + files.size() + " golden files to " + out);
          done = true;
        }
      }
    } finally {
      if (done) {
        deleteTree(work);
      } else {
        log("kept " + work + " (the official operator's log is operator/operator.log there)");
      }
    }
  }

  /** What the Helm chart and a cluster would have: the operator namespace and the IngressClass. */
  static void prepareCluster(KubernetesClient client) {
    client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(NAMESPACE).endMetadata().build())
        .create();
    client.network().v1().ingressClasses().resource(new IngressClassBuilder().withNewMetadata()
        .withName("tailscale").endMetadata().withNewSpec().withController("tailscale.com/ts-ingress").endSpec()
        .build()).create();
  }

  private static TreeMap<String, List<ObjectNode>> awaitSettled(KubernetesClient client,
      List<GoldenInputs.Input> inputs, SplitControlPlane controlPlane, OfficialOperator operator, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = null;
    long stableSince = 0;
    List<String> waiting = List.of();
    long waitingSince = System.nanoTime();
    while (System.nanoTime() < deadline) {
      if (!operator.isAlive()) {
        throw new IllegalStateException("the official operator exited; last lines of " + operator.logFile() + ":\n"
            + operator.logTail(40));
      }
      ClusterState state = ClusterState.read(client, NAMESPACE, inputs, controlPlane.api(),
          controlPlane.loginServer());
      List<String> before = waiting;
      waiting = Readiness.waitingFor(state);
      if (waiting.isEmpty() || !waiting.equals(before)) {
        waitingSince = System.nanoTime();
      } else if (System.nanoTime() - waitingSince >= RESYNC_AFTER.toNanos()) {
        resync(client, state, waiting);
        waitingSince = System.nanoTime();
      }
      TreeMap<String, List<ObjectNode>> files = Normaliser.of(state).files(state);
      String text = files.toString();
      if (waiting.isEmpty()) {
        if (text.equals(last)) {
          if (System.nanoTime() - stableSince >= QUIET.toNanos()) {
            return files;
          }
        } else {
          stableSince = System.nanoTime();
        }
      }
      last = text;
      Thread.sleep(1000);
    }
    throw new IllegalStateException("not settled after " + timeout + "; waiting for: " + waiting
        + "\nlast lines of " + operator.logFile() + ":\n" + operator.logTail(40));
  }

  /**
   * What controller-runtime's periodic resync (every 10 hours in a cluster) would do for parents that wait on a missed
   * event: one more reconcile, brought about by adding an annotation and removing it again (the parent ends as it was).
   * The official operator needs it for a Service through an egress ProxyGroup: its readiness reconciler watches the
   * Service and its EndpointSlice but not the ProxyGroup, so when the slice is filled before the group reports
   * ProxyGroupAvailable, {@code TailscaleEgressSvcReady} stays False ({@code ClusterResourcesNotReady}) until the next
   * event.
   */
  private static void resync(KubernetesClient client, ClusterState state, List<String> waiting) {
    for (ClusterState.Observed o : state.inputs()) {
      GoldenInputs.Input in = o.input();
      if (o.live() == null || waiting.stream().noneMatch(w -> w.startsWith(in.describe() + ":"))) {
        continue;
      }
      log("resyncing " + in.describe() + " (" + String.join("; ", waiting.stream()
          .filter(w -> w.startsWith(in.describe() + ":")).toList()) + ")");
      var ops = client.genericKubernetesResources(in.apiVersion(), in.kind());
      var one = in.namespace().isEmpty() ? ops.withName(in.name()) : ops.inNamespace(in.namespace()).withName(in.name());
      one.edit(r -> {
        Map<String, String> a = new TreeMap<>(r.getMetadata().getAnnotations() == null ? Map.of()
            : r.getMetadata().getAnnotations());
        a.put(RESYNC_ANNOTATION, "1");
        r.getMetadata().setAnnotations(a);
        return r;
      });
      one.edit(r -> {
        Map<String, String> a = new TreeMap<>(r.getMetadata().getAnnotations());
        a.remove(RESYNC_ANNOTATION);
        r.getMetadata().setAnnotations(a.isEmpty() ? null : a);
        return r;
      });
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // best effort
    }
  }

  private static void log(String line) {
    System.err.println("[golden] " + line);
  }
}
