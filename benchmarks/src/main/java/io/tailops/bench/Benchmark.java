package io.tailops.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.testkit.kube.AuditEvent;
import io.tailops.testkit.kube.AuditEvents;
import io.tailops.testkit.kube.AuditLog;
import io.tailops.testkit.tailscale.Endpoint;
import io.tailops.testkit.official.OfficialOperator;
import io.tailops.testkit.tailscale.FakeDevice;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToLongFunction;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The reference workload of the design's "Measuring" section: N exposed LoadBalancer Services created at once against
 * the real API server and the fake tailnet, with the proxy simulator standing in for the proxy pods. Prints a summary
 * table and writes every run's figures as JSON (and per-Service milestones as CSV). Asserts nothing.
 *
 * <p>Run with {@code bash tools/benchmark.sh --services 100,1000}; method and results: docs/benchmarks/README.md.
 */
@Command(name = "benchmark", mixinStandardHelpOptions = true,
    description = "Benchmarks the operator with N exposed Services against a real API server and the fake tailnet.")
public final class Benchmark implements Callable<Integer> {
  static final String SERVICE_CONTROLLER = "service-reconciler";
  static final int NAMESPACES = 10;
  /** How long the world stays unchanged after creating, before RSS and threads are read. */
  static final int IDLE_SECONDS = 30;
  /** Services reconciled by a training run (AppCDS archive or AOT cache). */
  static final int TRAINING_SERVICES = 20;

  @Option(names = "--services", split = ",", defaultValue = "100,1000",
      description = "Comma-separated N values (default: ${DEFAULT-VALUE}).")
  List<Integer> services;

  @Option(names = "--runtimes", split = ",", defaultValue = "jdk25",
      description = "Our operator's runtimes, each through the whole workload in its own environment: jdk25 (the "
          + "image's: JDK 25, compact object headers, AOT cache), jdk17 (the JDK 17 image: AppCDS), jdk17-nocds, "
          + "jdk25-noaot, jdk25-c2, native (with --native-executable), or NAME=JAVA_HOME[+aot|+appcds]:FLAGS "
          + "(flags separated by spaces). Default: ${DEFAULT-VALUE}.")
  List<String> runtimes;

  @Option(names = "--baseline", defaultValue = "none",
      description = "official: also run the official operator v1.94.2 through the same workload, first at each N "
          + "(needs --official-crds; built by tools/build-binaries.sh --only k8s-operator); none (default).")
  String baseline;

  @Option(names = "--official-crds", description = "Folder of the official operator's CRD YAMLs "
      + "(cmd/k8s-operator/deploy/crds of its module; tools/benchmark.sh finds it).")
  Path officialCrds;

  @Option(names = "--jdk17", description = "JAVA_HOME of the JDK 17 runtimes (default: this JVM's).")
  Path jdk17;

  @Option(names = "--jdk25", defaultValue = "/usr/lib/jvm/temurin-25-jdk-amd64",
      description = "JAVA_HOME of the JDK 25 runtimes (default: ${DEFAULT-VALUE}).")
  Path jdk25;

  @Option(names = "--native-executable", description = "Our operator as a native executable (runtime native).")
  Path nativeExecutable;

  @Option(names = "--mode", defaultValue = "process",
      description = "process (the operator as its own process: clean CPU/heap/RSS) or in-process (ours only, in the "
          + "benchmark JVM; default: ${DEFAULT-VALUE}).")
  String mode;

  @Option(names = "--operator-classpath", description = "File holding the operator's runtime class path "
      + "(tools/benchmark.sh writes benchmarks/target/operator-classpath.txt); default: this JVM's class path.")
  Path operatorClasspath;

  @Option(names = "--unrelated-services", defaultValue = "0",
      description = "After the resync phase, also create this many plain (not exposed) Services, restart the "
          + "operator and measure its footprint again: the cost of the cluster-wide Service caches (default 0).")
  int unrelated;

  @Option(names = "--create-threads", defaultValue = "16",
      description = "Client threads creating/deleting the Services (default: ${DEFAULT-VALUE}).")
  int createThreads;

  @Option(names = "--timeout-minutes", defaultValue = "30", description = "Per phase (default: ${DEFAULT-VALUE}).")
  int timeoutMinutes;

  @Option(names = "--delete-timeout-minutes", defaultValue = "5",
      description = "How long the delete phase may take; then what is gone is recorded and the run goes on (the "
          + "official operator's deletions at N = 1,000 took from 5 minutes to well over 30). Default: ${DEFAULT-VALUE}.")
  int deleteTimeoutMinutes;

  @Option(names = "--workload", defaultValue = "expose",
      description = "expose (default: N exposed LoadBalancer Services, each its own proxy), egress-group (N egress "
          + "Services served by one egress ProxyGroup of 2 replicas) or egress-standalone (the same N egress Services, "
          + "each its own proxy). The egress workloads measure the create phase and the idle footprint.")
  String workload;

  @Option(names = "--out", defaultValue = "docs/benchmarks",
      description = "Where results-<date>-n<N>.json/.csv go (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(names = "--label", defaultValue = "", description = "Suffix of the result file names, e.g. sim-before.")
  String label;

  @Option(names = "--work-dir", defaultValue = "benchmarks/target/bench-work",
      description = "Operator logs, credentials and trained archives (default: ${DEFAULT-VALUE}).")
  Path workDir;

  private final ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private final long t0 = System.nanoTime();
  private Path archives;
  /** The operator started last (stopped when a run fails half-way). */
  private OperatorHandle running;

  public static void main(String[] args) {
    int code = new CommandLine(new Benchmark()).execute(args);
    System.exit(code);
  }

  @Override
  public Integer call() throws Exception {
    Map<String, Variant> presets = Variant.presets(jdk17 != null ? jdk17 : Path.of(System.getProperty("java.home")),
        jdk25, nativeExecutable);
    List<Variant> variants = new ArrayList<>();
    if (baseline.equals(Variant.OFFICIAL)) {
      if (officialCrds == null || !Files.isDirectory(officialCrds)) {
        throw new CommandLine.ParameterException(new CommandLine(this),
            "--baseline official needs --official-crds DIR (tools/benchmark.sh passes it)");
      }
      variants.add(presets.get(Variant.OFFICIAL));
    } else if (!baseline.equals("none")) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--baseline is official or none");
    }
    for (String r : runtimes) {
      Variant v = Variant.parse(r, presets);
      if (!v.ours()) {
        throw new CommandLine.ParameterException(new CommandLine(this), "the official operator is --baseline");
      }
      variants.add(v);
    }
    if (mode.equals("in-process") && variants.stream().anyMatch(v -> !v.ours())) {
      throw new CommandLine.ParameterException(new CommandLine(this), "--mode in-process runs ours only");
    }
    workDir = workDir.toAbsolutePath();
    archives = workDir.resolve("archives-" + LocalDate.now() + "-" + LocalTime.now()
        .format(DateTimeFormatter.ofPattern("HHmmss")));
    if (mode.equals("process")) {
      train(variants);
    }
    List<Map<String, Object>> results = new ArrayList<>();
    for (int n : services) {
      Map<String, Object> perN = new LinkedHashMap<>();
      perN.put("n", n);
      perN.put("date", LocalDate.now().toString());
      perN.put("mode", mode);
      perN.put("machine", machine());
      List<Map<String, Object>> runs = new ArrayList<>();
      perN.put("runs", runs);
      results.add(perN);
      String base = "results-" + LocalDate.now() + "-n" + n + (label.isEmpty() ? "" : "-" + label);
      Files.createDirectories(out);
      for (Variant v : variants) {
        Map<String, Object> r;
        try {
          r = runOne(n, v);
        } catch (Exception | Error e) { // keep the other variants' figures; say what failed
          if (running != null) {
            running.stop();
          }
          say("N=" + n + " [" + v.name() + "] FAILED: " + e);
          e.printStackTrace(System.out);
          r = new LinkedHashMap<>();
          r.put("variant", v.name());
          r.put("operator", v.ours() ? "ours" : "official");
          r.put("n", n);
          r.put("failed", e.toString());
        }
        @SuppressWarnings("unchecked")
        List<String> csv = (List<String>) r.remove("_csv");
        if (csv != null) {
          Files.write(out.resolve(base + "-" + v.name() + ".csv"), csv);
        }
        runs.add(r);
        json.writeValue(out.resolve(base + ".json").toFile(), perN); // after every run: a failed one keeps the rest
        say("wrote " + out.resolve(base + ".json") + " and " + base + "-" + v.name() + ".csv");
      }
      try {
        perN.put("load_average_at_end", Files.readString(Path.of("/proc/loadavg")).trim());
      } catch (IOException e) {
        // not Linux
      }
      json.writeValue(out.resolve(base + ".json").toFile(), perN);
    }
    System.out.println();
    System.out.println(SummaryTable.render(results));
    return 0;
  }

  // ------------------------------------------------------------------------------------------------ training

  /**
   * Writes the class-data archives of the variants that use one, as the image build does: each such variant runs
   * once in a small world (the canary and {@value #TRAINING_SERVICES} exposed Services) with the runtime's "write the
   * archive at exit" flag, and is stopped once everything has converged. The archive is only valid for the same
   * runtime, flags and class path, so it is trained again by every benchmark run.
   */
  private void train(List<Variant> variants) throws Exception {
    List<Variant> toTrain = variants.stream().filter(v -> v.jvm() && v.archive() != Variant.Archive.NONE).toList();
    if (toTrain.isEmpty()) {
      return;
    }
    Files.createDirectories(archives);
    Path dir = archives.resolve("training-world");
    say("training " + toTrain.stream().map(Variant::name).toList() + ": starting a small world (" + dir + ")");
    try (BenchEnvironment env = BenchEnvironment.create(dir, null);
        Tracker tracker = new Tracker(env.bench, BenchEnvironment.NAMESPACE, env.tailnet);
        AutoCloseableExecutor pool = new AutoCloseableExecutor(createThreads)) {
      env.createNamespace("bench-train");
      List<Tracker.Rec> recs = new ArrayList<>();
      for (int i = 0; i < TRAINING_SERVICES; i++) {
        recs.add(tracker.rec("bench-train/" + name(i)));
      }
      boolean created = false;
      for (Variant v : toTrain) {
        Path archive = v.archiveFile(archives);
        long start = System.nanoTime();
        OperatorHandle.Subprocess op = (OperatorHandle.Subprocess) startOurs(env, v, v.trainingFlags(archive), dir,
            "training-" + v.name());
        waitFirstReconcile(op);
        if (!created) {
          pool.forEach(TRAINING_SERVICES, i -> env.bench.resource(service("bench-train", name(i), "train-" + i))
              .create());
          created = true;
        }
        awaitAll(recs, r -> r.lb != 0, "training: LoadBalancer IP on every Service");
        waitQuiet(op, 3000);
        op.stop(Duration.ofMinutes(5));
        if (!Files.isRegularFile(archive)) {
          throw new IllegalStateException("training " + v.name() + " wrote no archive " + archive + " (exit code "
              + op.exitCode() + "); see " + op.log());
        }
        say(String.format("trained %s: %s (%d MiB, %.1f s)", v.name(), archive, Files.size(archive) / (1024 * 1024),
            (System.nanoTime() - start) / 1e9));
      }
    }
  }

  // ------------------------------------------------------------------------------------------------ one N

  private Map<String, Object> runOne(int n, Variant variant) throws Exception {
    if (!workload.equals("expose")) {
      return runEgress(n, variant);
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("variant", variant.name());
    result.put("operator", variant.ours() ? "ours" : "official");
    result.put("description", variant.description());
    result.put("n", n);
    result.put("jvm_flags", variant.jvm() ? variant.runFlags(archiveOf(variant)) : List.of());
    Path dir = workDir.resolve(LocalDate.now() + "-n" + n + (label.isEmpty() ? "" : "-" + label)
        + "-" + variant.name() + "-" + LocalTime.now().format(DateTimeFormatter.ofPattern("HHmmss")));
    say("N=" + n + " [" + variant.name() + "]: starting the API server, controller manager, control plane and proxy "
        + "simulator (" + dir + ")");
    try {
      result.put("load_average_at_start", Files.readString(Path.of("/proc/loadavg")).trim());
    } catch (IOException e) {
      // not Linux
    }
    List<Path> crds = variant.ours() ? null : officialCrdFiles();
    try (BenchEnvironment env = BenchEnvironment.create(dir, crds);
        Tracker tracker = new Tracker(env.bench, BenchEnvironment.NAMESPACE, env.tailnet);
        AutoCloseableExecutor pool = new AutoCloseableExecutor(createThreads)) {
      env.operatorEnv.put("OPERATOR_DEVICE_SWEEP_INTERVAL", "10m");
      for (int i = 0; i < NAMESPACES; i++) {
        env.createNamespace("bench-" + i);
      }
      env.createNamespace("bench-canary");

      // ---- start-up on an empty cluster (one canary Service to reconcile)
      Tracker.Rec canary = tracker.rec("bench-canary/canary");
      env.bench.resource(service("bench-canary", "canary", "bench-canary")).create();
      canary.created = Tracker.now();
      OperatorHandle op = start(env, variant, dir, "initial");
      long first = waitFirstReconcile(op);
      awaitAll(List.of(canary), r -> r.sts != 0, "canary StatefulSet");
      awaitAll(List.of(canary), r -> r.lb != 0, "canary LoadBalancer IP");
      Map<String, Object> startup = new LinkedHashMap<>();
      startup.put("operator", op.describe());
      if (variant.ours()) {
        startup.put("start_to_first_reconcile_ms", ms(first - op.startedNanos));
      } else {
        // Its metrics listener is found (through /proc) only once its start-up line is logged, and its log has
        // times in whole seconds: its first reconcile is not observable precisely. Compare the first StatefulSet.
        startup.put("start_to_first_reconcile_ms", null);
        startup.put("start_to_startup_line_ms", ms(((OperatorHandle.Official) op).startedLine - op.startedNanos));
      }
      startup.put("start_to_first_statefulset_ms", ms(canary.sts - op.startedNanos));
      startup.put("start_to_canary_lb_ip_ms", ms(canary.lb - op.startedNanos));
      say("start-up: first reconcile seen " + ms(first - op.startedNanos) + " ms, first StatefulSet "
          + ms(canary.sts - op.startedNanos) + " ms");
      waitQuiet(op, 3000);
      startup.put("footprint_after_startup", op.footprint(false));
      result.put("startup_empty_cluster", startup);

      // ---- create N at once
      AuditLog.Mark mark = env.kube.audit().mark();
      env.tailnet.resetCallCounts();
      int simLoginsBefore = env.simulator.logins();
      List<Tracker.Rec> recs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        recs.add(tracker.rec(ns(i) + "/" + name(i)));
      }
      say("creating " + n + " Services with " + createThreads + " client threads");
      double[] reconcilesBefore = op.reconcileTotals(SERVICE_CONTROLLER);
      ProcFigures cpuBefore = op.proc();
      long burst = Tracker.now();
      pool.forEach(n, i -> {
        env.bench.resource(service(ns(i), name(i), "bench-" + name(i))).create();
        recs.get(i).created = Tracker.now();
      });
      long burstDone = Tracker.now();
      say("created in " + ms(burstDone - burst) + " ms; waiting for the proxies");
      awaitAll(recs, r -> r.objects() != 0, "StatefulSet, Secret and headless Service of every Service");
      say("all proxy objects exist after " + ms(Tracker.now() - burst) + " ms");
      awaitAll(recs, r -> r.lb != 0, "LoadBalancer IP on every Service");
      ProcFigures atLastLb = op.proc();
      say("all LoadBalancer IPs set after " + ms(Tracker.now() - burst) + " ms");
      waitQuiet(op, 5000);
      ProcFigures cpuAfter = op.proc();
      Map<String, Object> create = new LinkedHashMap<>();
      create.put("services", n);
      create.put("client_create_duration_ms", ms(burstDone - burst));
      create.put("per_service", Map.of(
          "finalizer_ms", stats(recs, r -> r.finalizer, r -> r.created).toMap(),
          "objects_ms", stats(recs, Tracker.Rec::objects, r -> r.created).toMap(),
          "device_reported_ms", stats(recs, r -> r.device, r -> r.created).toMap(),
          "simulator_share_ms (device reported - objects created)", stats(recs, r -> r.device,
              Tracker.Rec::objects).toMap(),
          "lb_ip_ms", stats(recs, r -> r.lb, r -> r.created).toMap(),
          "operator_share_after_device_ms (lb ip - device reported)", stats(recs, r -> r.lb, r -> r.device).toMap()));
      Map<String, Object> totals = new LinkedHashMap<>();
      totals.put("all_objects_ms", ms(max(recs, Tracker.Rec::objects) - burst));
      totals.put("all_devices_reported_ms", ms(max(recs, r -> r.device) - burst));
      totals.put("all_lb_ips_ms", ms(max(recs, r -> r.lb) - burst));
      create.put("total_from_first_create", totals);
      create.put("lb_ip_matches_device", lbMatches(env, recs));
      create.put("simulator_logins", env.simulator.logins() - simLoginsBefore);
      Map<String, Object> cpu = new LinkedHashMap<>();
      cpu.put("operator_cpu_seconds_until_all_lb_ips", atLastLb.cpuSince(cpuBefore));
      cpu.put("operator_cpu_seconds", cpuAfter.cpuSince(cpuBefore));
      Double c = cpuAfter.cpuSince(cpuBefore);
      cpu.put("operator_cpu_ms_per_service", c == null ? null : Math.round(c * 1000.0 / n * 10) / 10.0);
      cpu.put("threads_at_end", cpuAfter.threads());
      cpu.put("rss_peak_mib_so_far", cpuAfter.rssPeakMib());
      create.put("operator_process", cpu);
      create.put("operator_reconciles", reconcileFigures(op, reconcilesBefore, max(recs, r -> r.lb) - burst, n));
      create.put("work", work(env, mark, op, n));
      result.put("create", create);
      result.put("keys_and_devices_after_create", Map.of("keys", env.tailnet.keys().size(),
          "devices", env.tailnet.devices().size(), "proxies_expected", n + 1));

      // ---- idle: nothing changes for IDLE_SECONDS; then RSS and threads as they are (no collection forced)
      mark = env.kube.audit().mark();
      env.tailnet.resetCallCounts();
      ProcFigures idleBefore = op.proc();
      Thread.sleep(IDLE_SECONDS * 1000L);
      Map<String, Object> idle = new LinkedHashMap<>();
      idle.put("seconds", IDLE_SECONDS);
      idle.put("operator_cpu_seconds", op.proc().cpuSince(idleBefore));
      idle.put("footprint", op.footprint(false));
      idle.put("work", work(env, mark, op, n));
      result.put("idle_after_create", idle);

      // ---- no-op resync: restart the operator, every Service reconciled from a cold cache
      op.stop();
      mark = env.kube.audit().mark();
      env.tailnet.resetCallCounts();
      op = start(env, variant, dir, "restart");
      Map<String, Object> restart = restart(env, op, mark, n);
      say("restart: " + restart.get("start_to_first_reconcile_ms") + " ms to first reconcile, "
          + restart.get("full_resync_ms") + " ms to reconcile all; footprint " + restart.get("footprint"));
      result.put("restart_resync", restart);

      // ---- touch every Service (irrelevant label): a reconcile each, nothing to do
      mark = env.kube.audit().mark();
      env.tailnet.resetCallCounts();
      long before = op.reconciles(SERVICE_CONTROLLER);
      ProcFigures touchCpu = op.proc();
      long touchStart = Tracker.now();
      pool.forEach(n, i -> env.bench.services().inNamespace(ns(i)).withName(name(i))
          .edit(s -> new ServiceBuilder(s).editMetadata().addToLabels("touched", "1").endMetadata().build()));
      waitReconciles(op, before + n);
      waitQuiet(op, 3000);
      Map<String, Object> touch = new LinkedHashMap<>();
      touch.put("reconciles", op.reconciles(SERVICE_CONTROLLER) - before);
      touch.put("duration_ms", ms(Tracker.now() - touchStart));
      touch.put("operator_cpu_seconds", op.proc().cpuSince(touchCpu));
      touch.put("work", work(env, mark, op, n));
      result.put("touch_resync", touch);

      // ---- unrelated Services: the cost of caching every Service in the cluster
      if (unrelated > 0 && mode.equals("process")) {
        env.createNamespace("bench-unrelated");
        say("creating " + unrelated + " unrelated (not exposed) Services");
        pool.forEach(unrelated, i -> env.bench.resource(new ServiceBuilder().withNewMetadata()
            .withNamespace("bench-unrelated").withName(String.format("plain-%05d", i)).endMetadata().withNewSpec()
            .addToSelector("app", "plain-" + i).addNewPort().withPort(80).endPort().endSpec().build()).create());
        op.stop();
        mark = env.kube.audit().mark();
        env.tailnet.resetCallCounts();
        op = start(env, variant, dir, "restart-unrelated");
        Map<String, Object> r = restart(env, op, mark, n);
        r.put("unrelated_services", unrelated);
        result.put("restart_with_unrelated_services", r);
        say("with " + unrelated + " unrelated Services: footprint " + r.get("footprint"));
        pool.forEach(unrelated, i -> env.bench.services().inNamespace("bench-unrelated")
            .withName(String.format("plain-%05d", i)).delete());
      }

      // ---- delete N at once
      waitQuiet(op, 3000);
      mark = env.kube.audit().mark();
      env.tailnet.resetCallCounts();
      say("deleting " + n + " Services");
      double[] reconcilesBeforeDelete = op.reconcileTotals(SERVICE_CONTROLLER);
      ProcFigures deleteCpu = op.proc();
      long del = Tracker.now();
      pool.forEach(n, i -> {
        recs.get(i).deleteRequested = Tracker.now();
        env.bench.services().inNamespace(ns(i)).withName(name(i)).delete();
      });
      long deleteDeadline = System.nanoTime() + deleteTimeoutMinutes * 60_000_000_000L;
      boolean devicesGone = awaitAllUntil(recs, r -> r.deviceGone != 0, "every device deleted from the tailnet",
          deleteDeadline);
      say((devicesGone ? "all devices gone after " : "devices not all gone after ") + ms(Tracker.now() - del) + " ms");
      boolean objectsGone = devicesGone && awaitAllUntil(recs, r -> r.objectsGone() != 0,
          "every Service and proxy object deleted", deleteDeadline);
      say((objectsGone ? "all objects gone after " : "objects not all gone after ") + ms(Tracker.now() - del) + " ms");
      if (objectsGone) {
        waitQuiet(op, 5000);
      }
      Map<String, Object> delete = new LinkedHashMap<>();
      delete.put("services", n);
      if (!objectsGone) {
        // Bounded (--delete-timeout-minutes): an operator that deletes slowly is measured, not waited for.
        delete.put("incomplete_after_ms", ms(Tracker.now() - del));
        delete.put("devices_gone", recs.stream().filter(r -> r.deviceGone != 0).count());
        delete.put("services_gone", recs.stream().filter(r -> r.svcGone != 0).count());
      }
      delete.put("per_service", Map.of(
          "service_gone_ms", stats(recs, r -> r.svcGone, r -> r.deleteRequested).toMap(),
          "device_gone_ms", stats(recs, r -> r.deviceGone, r -> r.deleteRequested).toMap(),
          "all_objects_gone_ms", stats(recs, Tracker.Rec::objectsGone, r -> r.deleteRequested).toMap()));
      Map<String, Object> deleteTotals = new LinkedHashMap<>();
      deleteTotals.put("all_devices_gone_ms", devicesGone ? ms(max(recs, r -> r.deviceGone) - del) : null);
      deleteTotals.put("all_objects_gone_ms", objectsGone ? ms(max(recs, Tracker.Rec::objectsGone) - del) : null);
      delete.put("total_from_first_delete", deleteTotals);
      delete.put("operator_cpu_seconds", op.proc().cpuSince(deleteCpu));
      delete.put("operator_reconciles", reconcileFigures(op, reconcilesBeforeDelete,
          max(recs, Tracker.Rec::objectsGone) - del, n));
      delete.put("work", work(env, mark, op, n));
      Map<String, Object> left = new LinkedHashMap<>();
      left.put("devices", env.tailnet.devices().size()); // proxies only: the official operator's own node is in headscale
      left.put("statefulsets", env.bench.apps().statefulSets().inNamespace(BenchEnvironment.NAMESPACE).list()
          .getItems().size());
      left.put("secrets_managed", env.bench.secrets().inNamespace(BenchEnvironment.NAMESPACE)
          .withLabel("tailscale.com/managed", "true").list().getItems().size());
      left.put("expected", "1 of each (the canary's)");
      delete.put("left_after", left);
      result.put("delete", delete);
      result.put("operator_footprint_after_delete", op.footprint(variant.jvm()));
      op.stop();
      try {
        result.put("load_average_at_end", Files.readString(Path.of("/proc/loadavg")).trim());
      } catch (IOException e) {
        // not Linux
      }
      result.put("_csv", csv(recs, burst, del));
    }
    return result;
  }

  // ------------------------------------------------------------------------------------------------ egress

  static final String EGRESS_GROUP = "bench-eg";
  static final String EGRESS_CONTROLLER = "egress-svcs-reconciler";

  /**
   * The egress workloads: N ExternalName Services with a tailnet target (a device of the fake tailnet), created at
   * once, served either by one egress ProxyGroup of 2 replicas ({@code tailscale.com/proxy-group}; served = condition
   * {@code TailscaleEgressSvcReady} True and {@code externalName} pointed at the group's ClusterIP Service) or each by a
   * proxy of its own (served = {@code TailscaleProxyReady} True and {@code externalName} pointed at the proxy's
   * headless Service). The proxy simulator plays containerboot (state Secrets; for the group the replicas'
   * {@code egress-services} status) and the kubelet (pod IPs). Figures: time to serve, operator writes (and Tailscale
   * API calls) per Service over the create phase, then the operator's footprint after {@value #IDLE_SECONDS} s idle.
   */
  private Map<String, Object> runEgress(int n, Variant variant) throws Exception {
    boolean group = workload.equals("egress-group");
    if (!group && !workload.equals("egress-standalone")) {
      throw new IllegalArgumentException("--workload is expose, egress-group or egress-standalone");
    }
    if (!variant.ours()) {
      throw new IllegalArgumentException("the egress workloads run ours only");
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("variant", variant.name());
    result.put("operator", "ours");
    result.put("workload", workload);
    result.put("description", variant.description());
    result.put("n", n);
    result.put("jvm_flags", variant.jvm() ? variant.runFlags(archiveOf(variant)) : List.of());
    Path dir = workDir.resolve(LocalDate.now() + "-n" + n + "-" + workload + "-" + variant.name() + "-"
        + LocalTime.now().format(DateTimeFormatter.ofPattern("HHmmss")));
    say("N=" + n + " [" + variant.name() + ", " + workload + "]: starting the environment (" + dir + ")");
    result.put("load_average_at_start", Files.readString(Path.of("/proc/loadavg")).trim());
    try (BenchEnvironment env = BenchEnvironment.create(dir, null);
        Tracker tracker = new Tracker(env.bench, BenchEnvironment.NAMESPACE, env.tailnet);
        AutoCloseableExecutor pool = new AutoCloseableExecutor(createThreads)) {
      env.operatorEnv.put("OPERATOR_DEVICE_SWEEP_INTERVAL", "10m");
      for (int i = 0; i < NAMESPACES; i++) {
        env.createNamespace("bench-" + i);
      }
      env.createNamespace("bench-canary");
      FakeDevice target = env.tailnet.addForeignDevice("bench-db", List.of());
      String targetIp = target.addresses().get(0);

      // ---- start-up: the canary (an exposed Service), and for the group workload the ProxyGroup, ready
      Tracker.Rec canary = tracker.rec("bench-canary/canary");
      env.bench.resource(service("bench-canary", "canary", "bench-canary")).create();
      canary.created = Tracker.now();
      OperatorHandle op = start(env, variant, dir, "initial");
      waitFirstReconcile(op);
      awaitAll(List.of(canary), r -> r.lb != 0, "canary LoadBalancer IP");
      if (group) {
        env.bench.resource(io.fabric8.kubernetes.client.utils.Serialization.unmarshal("""
            apiVersion: tailscale.com/v1alpha1
            kind: ProxyGroup
            metadata:
              name: %s
            spec:
              type: egress
              replicas: 2
            """.formatted(EGRESS_GROUP), io.fabric8.kubernetes.api.model.GenericKubernetesResource.class)).create();
        long deadline = System.nanoTime() + timeoutMinutes * 60_000_000_000L;
        while (!proxyGroupReady(env)) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("ProxyGroup " + EGRESS_GROUP + " not ready");
          }
          Thread.sleep(100);
        }
        say("ProxyGroup " + EGRESS_GROUP + " ready");
      }
      waitQuiet(op, 3000);

      // ---- create N egress Services at once; served when the Service's own condition says so
      Map<String, Long> created = new java.util.concurrent.ConcurrentHashMap<>();
      Map<String, Long> served = new java.util.concurrent.ConcurrentHashMap<>();
      var informer = env.bench.services().inAnyNamespace().inform(new io.fabric8.kubernetes.client.informers
          .ResourceEventHandler<Service>() {
        @Override
        public void onAdd(Service s) {
          check(s);
        }

        @Override
        public void onUpdate(Service o, Service s) {
          check(s);
        }

        @Override
        public void onDelete(Service s, boolean unknown) {
        }

        private void check(Service s) {
          String key = s.getMetadata().getNamespace() + "/" + s.getMetadata().getName();
          if (key.startsWith("bench-") && !key.startsWith("bench-canary") && egressServed(s, group)) {
            served.putIfAbsent(key, Tracker.now());
          }
        }
      }, 0L);
      AuditLog.Mark mark = env.kube.audit().mark();
      env.tailnet.resetCallCounts();
      double[] reconcilesBefore = op.reconcileTotals(group ? EGRESS_CONTROLLER : SERVICE_CONTROLLER);
      ProcFigures cpuBefore = op.proc();
      say("creating " + n + " egress Services with " + createThreads + " client threads");
      long burst = Tracker.now();
      pool.forEach(n, i -> {
        env.bench.resource(egressService(ns(i), name(i), group, targetIp)).create();
        created.put(ns(i) + "/" + name(i), Tracker.now());
      });
      long burstDone = Tracker.now();
      long deadline = System.nanoTime() + timeoutMinutes * 60_000_000_000L;
      long lastReport = System.nanoTime();
      while (served.size() < n) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException(served.size() + " of " + n + " served after " + timeoutMinutes + " min");
        }
        if (System.nanoTime() - lastReport > 30_000_000_000L) {
          say("  " + served.size() + " of " + n + " served");
          lastReport = System.nanoTime();
        }
        Thread.sleep(50);
      }
      long allServed = served.values().stream().mapToLong(Long::longValue).max().orElse(burst);
      ProcFigures atServed = op.proc();
      say("all " + n + " served after " + ms(allServed - burst) + " ms");
      waitQuiet(op, 5000);
      if (group) {
        waitQuiet(op, EGRESS_CONTROLLER, 5000);
      }
      ProcFigures cpuAfter = op.proc();
      informer.close();
      Map<String, Object> create = new LinkedHashMap<>();
      create.put("services", n);
      create.put("client_create_duration_ms", ms(burstDone - burst));
      List<Double> perService = new ArrayList<>();
      created.forEach((k, t) -> perService.add(ms(served.get(k) - t)));
      java.util.Collections.sort(perService);
      create.put("served_per_service_ms", Map.of("p50", perService.get(perService.size() / 2),
          "p90", perService.get(perService.size() * 9 / 10), "max", perService.get(perService.size() - 1)));
      create.put("all_served_from_first_create_ms", ms(allServed - burst));
      create.put("served_condition", group ? "TailscaleEgressSvcReady True, externalName -> the group's ClusterIP "
          + "Service" : "TailscaleProxyReady True, externalName -> the proxy's headless Service");
      Map<String, Object> cpu = new LinkedHashMap<>();
      cpu.put("operator_cpu_seconds_until_all_served", atServed.cpuSince(cpuBefore));
      cpu.put("operator_cpu_seconds", cpuAfter.cpuSince(cpuBefore));
      cpu.put("threads_at_end", cpuAfter.threads());
      cpu.put("rss_peak_mib_so_far", cpuAfter.rssPeakMib());
      create.put("operator_process", cpu);
      create.put("operator_reconciles", reconcileFigures(op, reconcilesBefore, allServed - burst, n));
      create.put("work", work(env, mark, op, n));
      result.put("create", create);
      result.put("proxies", Map.of("statefulsets", env.bench.apps().statefulSets()
          .inNamespace(BenchEnvironment.NAMESPACE).list().getItems().size(), "devices", env.tailnet.devices().size(),
          "note", "the canary's proxy included" + (group ? "; the group's StatefulSet of 2 replicas included" : "")));

      // ---- idle: RSS and threads as they are
      mark = env.kube.audit().mark();
      env.tailnet.resetCallCounts();
      ProcFigures idleBefore = op.proc();
      Thread.sleep(IDLE_SECONDS * 1000L);
      Map<String, Object> idle = new LinkedHashMap<>();
      idle.put("seconds", IDLE_SECONDS);
      idle.put("operator_cpu_seconds", op.proc().cpuSince(idleBefore));
      idle.put("footprint", op.footprint(false));
      idle.put("work", work(env, mark, op, n));
      result.put("idle_after_create", idle);
      result.put("operator_footprint_at_end", op.footprint(variant.jvm()));
      op.stop();
      result.put("load_average_at_end", Files.readString(Path.of("/proc/loadavg")).trim());
      List<String> csv = new ArrayList<>();
      csv.add("service,created_ms,served_ms");
      new TreeMap<>(created).forEach((k, t) -> csv.add(k + "," + ms(t - burst) + "," + ms(served.get(k) - burst)));
      result.put("_csv", csv);
    }
    return result;
  }

  private static boolean proxyGroupReady(BenchEnvironment env) {
    var pg = env.bench.genericKubernetesResources("tailscale.com/v1alpha1", "ProxyGroup").withName(EGRESS_GROUP)
        .get();
    if (pg == null || !(pg.getAdditionalProperties().get("status") instanceof Map<?, ?> st)
        || !(st.get("conditions") instanceof List<?> conds)) {
      return false;
    }
    return conds.stream().anyMatch(c -> c instanceof Map<?, ?> m && "ProxyGroupReady".equals(m.get("type"))
        && "True".equals(m.get("status")));
  }

  static Service egressService(String ns, String name, boolean group, String targetIp) {
    ServiceBuilder b = new ServiceBuilder().withNewMetadata().withNamespace(ns).withName(name)
        .addToLabels(Tracker.BENCH_LABEL, "true").addToAnnotations("tailscale.com/tailnet-ip", targetIp).endMetadata()
        .withNewSpec().withType("ExternalName").withExternalName("placeholder").addNewPort().withName("pg")
        .withPort(5432).withProtocol("TCP").endPort().endSpec();
    if (group) {
      b.editMetadata().addToAnnotations("tailscale.com/proxy-group", EGRESS_GROUP).endMetadata();
    }
    return b.build();
  }

  /** Whether an egress Service is served (see {@link #runEgress}). */
  static boolean egressServed(Service s, boolean group) {
    String ext = s.getSpec() == null ? null : s.getSpec().getExternalName();
    if (ext == null || !ext.endsWith("." + BenchEnvironment.NAMESPACE + ".svc.cluster.local")
        || s.getStatus() == null || s.getStatus().getConditions() == null) {
      return false;
    }
    String type = group ? "TailscaleEgressSvcReady" : "TailscaleProxyReady";
    return s.getStatus().getConditions().stream().anyMatch(c -> type.equals(c.getType())
        && "True".equals(c.getStatus()));
  }

  private Path archiveOf(Variant variant) {
    return variant.archiveFile(archives);
  }

  private List<Path> officialCrdFiles() throws IOException {
    try (var s = Files.list(officialCrds)) {
      return s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
    }
  }

  private Map<String, Object> restart(BenchEnvironment env, OperatorHandle op, AuditLog.Mark mark, int n)
      throws InterruptedException {
    Map<String, Object> r = new LinkedHashMap<>();
    long first = waitFirstReconcile(op);
    r.put("start_to_first_reconcile_ms", ms(first - op.startedNanos));
    // Both operators reconcile every Service except the proxies' headless ones (label tailscale.com/managed=true).
    int all = env.bench.services().inAnyNamespace().withoutLabel("tailscale.com/managed", "true").list().getItems()
        .size();
    long done = waitReconciles(op, all);
    r.put("services_in_cluster", env.bench.services().inAnyNamespace().list().getItems().size());
    r.put("services_reconciled", all);
    r.put("full_resync_ms", ms(done - op.startedNanos));
    waitQuiet(op, 3000);
    r.put("reconciles", op.reconciles(SERVICE_CONTROLLER));
    r.put("work", work(env, mark, op, n));
    r.put("footprint", op.footprint(op instanceof OperatorHandle.Subprocess || op instanceof OperatorHandle.InProcess));
    return r;
  }

  // ------------------------------------------------------------------------------------------------ operator

  private OperatorHandle start(BenchEnvironment env, Variant variant, Path dir, String what) throws IOException {
    if (variant.ours()) {
      return startOurs(env, variant, variant.jvm() ? variant.runFlags(archiveOf(variant)) : List.of(), dir, what);
    }
    OfficialOperator.Builder b = OfficialOperator.builder().kubeconfig(env.kube.kubeconfig())
        .namespace(BenchEnvironment.NAMESPACE).loginServer(env.controlPlane.loginServer())
        .credentials(env.controlPlane.operatorClient().id(), env.controlPlane.operatorClient().secret())
        .workDir(dir.resolve("official-operator")) // one folder for every start: tsnet's state survives a restart
        .env("PROXY_IMAGE", env.operatorEnv.get("PROXY_IMAGE"))
        .env("PROXY_FIREWALL_MODE", env.operatorEnv.get("PROXY_FIREWALL_MODE"))
        .env("OPERATOR_LOGGING", "info"); // as ours; the builder's default (debug) would cost it CPU
    say("starting the official operator (" + what + ")");
    running = null;
    running = new OperatorHandle.Official(b);
    return running;
  }

  private OperatorHandle startOurs(BenchEnvironment env, Variant variant, List<String> flags, Path dir, String what)
      throws IOException {
    if (mode.equals("in-process")) {
      running = new OperatorHandle.InProcess(env.kube, env.operatorEnv);
      return running;
    }
    List<String> launcher = new ArrayList<>();
    Path jcmd = null;
    if (variant.jvm()) {
      String cp = operatorClasspath != null ? Files.readString(operatorClasspath).trim()
          : System.getProperty("java.class.path");
      launcher.add(variant.java().toString());
      launcher.addAll(flags);
      launcher.addAll(List.of("-cp", cp, "io.tailops.operator.Main"));
      jcmd = variant.javaHome().resolve("bin").resolve("jcmd");
    } else {
      launcher.add(variant.executable().toString());
    }
    running = new OperatorHandle.Subprocess(env.kube.kubeconfig(), env.operatorEnv, launcher, jcmd,
        dir.resolve("operator-" + what + ".log"));
    return running;
  }

  private long waitFirstReconcile(OperatorHandle op) throws InterruptedException {
    long deadline = System.nanoTime() + 300_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (op.reconciles(SERVICE_CONTROLLER) >= 1) {
        return Tracker.now();
      }
      if (op instanceof OperatorHandle.Subprocess p && !p.isAlive()) {
        throw new IllegalStateException("the operator process exited; see " + p.log());
      }
      if (op instanceof OperatorHandle.Official p && !p.isAlive()) {
        throw new IllegalStateException("the official operator exited; see " + p.log());
      }
      Thread.sleep(20);
    }
    throw new IllegalStateException("no reconcile within 5 minutes of start");
  }

  /**
   * Waits until the operator has finished at least {@code count} Service reconciles; returns when. Gives up (and
   * says so) when the counter has not moved for 30 s.
   */
  private long waitReconciles(OperatorHandle op, long count) throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMinutes * 60_000_000_000L;
    long last = -1;
    long lastMoved = System.nanoTime();
    long lastAt = Tracker.now();
    while (System.nanoTime() < deadline) {
      long now = op.reconciles(SERVICE_CONTROLLER);
      if (now >= count) {
        return Tracker.now();
      }
      if (now != last) {
        last = now;
        lastMoved = System.nanoTime();
        lastAt = Tracker.now();
      } else if (now > 0 && System.nanoTime() - lastMoved > 30_000_000_000L) {
        say("WARNING: " + now + " of " + count + " reconciles, no more for 30 s: taking the last one's time");
        return lastAt;
      }
      Thread.sleep(100);
    }
    say("WARNING: fewer than " + count + " reconciles after " + timeoutMinutes + " minutes");
    return Tracker.now();
  }

  /** Waits until the Service controller's reconcile counter has not moved for {@code quietMs}. */
  private void waitQuiet(OperatorHandle op, long quietMs) throws InterruptedException {
    waitQuiet(op, SERVICE_CONTROLLER, quietMs);
  }

  /** Waits until {@code controller}'s reconcile counter has not moved for {@code quietMs} (at most the timeout). */
  private void waitQuiet(OperatorHandle op, String controller, long quietMs) throws InterruptedException {
    long last = op.reconciles(controller);
    long since = System.nanoTime();
    long deadline = System.nanoTime() + timeoutMinutes * 60_000_000_000L;
    while (System.nanoTime() < deadline) {
      Thread.sleep(250);
      long now = op.reconciles(controller);
      if (now != last) {
        last = now;
        since = System.nanoTime();
      } else if (System.nanoTime() - since >= quietMs * 1_000_000L) {
        return;
      }
    }
  }

  /** As {@link #awaitAll}, but until {@code deadline} (nanoTime); returns whether all were done. */
  private boolean awaitAllUntil(Collection<Tracker.Rec> recs, Predicate<Tracker.Rec> done, String what,
      long deadline) throws InterruptedException {
    long lastReport = System.nanoTime();
    while (System.nanoTime() < deadline) {
      long missing = recs.stream().filter(done.negate()).count();
      if (missing == 0) {
        return true;
      }
      if (System.nanoTime() - lastReport > 30_000_000_000L) {
        say("  waiting for " + what + ": " + missing + " of " + recs.size() + " to go");
        lastReport = System.nanoTime();
      }
      Thread.sleep(50);
    }
    return recs.stream().allMatch(done);
  }

  private void awaitAll(Collection<Tracker.Rec> recs, Predicate<Tracker.Rec> done, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeoutMinutes * 60_000_000_000L;
    long lastReport = System.nanoTime();
    while (System.nanoTime() < deadline) {
      long missing = recs.stream().filter(done.negate()).count();
      if (missing == 0) {
        return;
      }
      if (System.nanoTime() - lastReport > 30_000_000_000L) {
        say("  waiting for " + what + ": " + missing + " of " + recs.size() + " to go");
        lastReport = System.nanoTime();
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("timed out after " + timeoutMinutes + " minutes waiting for " + what + ": "
        + recs.stream().filter(done.negate()).count() + " missing");
  }

  // ------------------------------------------------------------------------------------------------ figures

  /** API-server requests of the operator and the simulator, and Tailscale API calls, since {@code mark}. */
  private Map<String, Object> work(BenchEnvironment env, AuditLog.Mark mark, OperatorHandle op, int n) {
    AuditEvents since = env.kube.audit().since(mark);
    AuditEvents operator = since.byUserAgent(op.userAgentPrefix());
    AuditEvents simulator = since.byUserAgent(BenchEnvironment.SIMULATOR_USER_AGENT);
    Map<String, Object> w = new LinkedHashMap<>();
    w.put("operator_api_requests", byVerbResource(operator));
    w.put("operator_api_writes_total", operator.writes().count());
    w.put("operator_api_writes_per_service", per(operator.writes().count(), n));
    w.put("operator_api_writes_per_service_excluding_events", per(operator.writes()
        .filter(e -> !"events".equals(e.resource())).count(), n));
    long objectWrites = operator.writes().filter(e -> Set.of("services", "secrets", "statefulsets")
        .contains(e.resource())).count();
    w.put("operator_api_writes_services_secrets_statefulsets", objectWrites);
    w.put("operator_api_writes_services_secrets_statefulsets_per_service", per(objectWrites, n));
    w.put("operator_api_reads_total", operator.reads().count());
    w.put("operator_api_conflicts_409", operator.filter(e -> e.code() == 409).count());
    w.put("simulator_api_requests_total", simulator.count());
    w.put("simulator_api_writes_total", simulator.writes().count());
    Map<String, Object> ts = new TreeMap<>();
    Map<Endpoint, Integer> calls = env.tailnet.callCounts();
    calls.forEach((e, c) -> ts.put(e.toString(), c));
    w.put("tailscale_calls", ts);
    w.put("tailscale_calls_total", env.tailnet.totalCalls());
    w.put("tailscale_key_mints_per_service", per(calls.getOrDefault(Endpoint.CREATE_KEY, 0), n));
    w.put("tailscale_device_deletes_per_service", per(calls.getOrDefault(Endpoint.DELETE_DEVICE, 0), n));
    w.put("tailscale_calls_per_service_excluding_token_and_sweep", per(calls.entrySet().stream()
        .filter(e -> e.getKey() != Endpoint.TOKEN && e.getKey() != Endpoint.LIST_DEVICES)
        .mapToInt(Map.Entry::getValue).sum(), n));
    return w;
  }

  /**
   * Reconciles in a phase, their mean duration, and the mean number of reconciler threads busy over the phase's
   * duration (reconcile seconds / wall seconds; the operator runs 8): near 8 means the phase was thread-bound.
   */
  private static Map<String, Object> reconcileFigures(OperatorHandle op, double[] before, long phaseNanos, int n) {
    double[] after = op.reconcileTotals(SERVICE_CONTROLLER);
    Map<String, Object> m = new LinkedHashMap<>();
    if (before == null || after == null) {
      return m;
    }
    double count = after[0] - before[0];
    double seconds = after[1] - before[1];
    m.put("reconciles", (long) count);
    m.put("reconciles_per_service", Math.round(count * 100.0 / n) / 100.0);
    m.put("mean_reconcile_ms", count == 0 ? null : Math.round(seconds * 1000 / count * 10) / 10.0);
    m.put("reconcile_seconds_total", Math.round(seconds * 10) / 10.0);
    m.put("mean_busy_reconciler_threads", Math.round(seconds / (phaseNanos / 1e9) * 100) / 100.0);
    return m;
  }

  private static Map<String, Object> byVerbResource(AuditEvents events) {
    Map<String, Object> out = new TreeMap<>();
    events.countBy(e -> e.verb() + " " + e.resourceKey()).forEach((k, v) -> out.put(k, v));
    return out;
  }

  private static Object per(long count, int n) {
    return Math.round(count * 1000.0 / n) / 1000.0;
  }

  private Map<String, Object> lbMatches(BenchEnvironment env, List<Tracker.Rec> recs) {
    Map<String, String> ipv4 = new LinkedHashMap<>();
    for (FakeDevice d : env.tailnet.devices()) {
      ipv4.put(d.nodeId(), d.ipv4());
    }
    long ok = recs.stream().filter(r -> r.lbIp != null && r.lbIp.equals(ipv4.get(r.deviceId))).count();
    return Map.of("matching", ok, "of", recs.size());
  }

  private static Stats stats(List<Tracker.Rec> recs, ToLongFunction<Tracker.Rec> end,
      ToLongFunction<Tracker.Rec> start) {
    List<Double> v = new ArrayList<>();
    for (Tracker.Rec r : recs) {
      long e = end.applyAsLong(r);
      long s = start.applyAsLong(r);
      if (e != 0 && s != 0) {
        v.add((e - s) / 1e6);
      }
    }
    return Stats.of(v);
  }

  private static long max(List<Tracker.Rec> recs, ToLongFunction<Tracker.Rec> f) {
    return recs.stream().mapToLong(f).max().orElse(0);
  }

  static double ms(long nanos) {
    return Math.round(nanos / 1e5) / 10.0;
  }

  private List<String> csv(List<Tracker.Rec> recs, long burst, long del) {
    List<String> lines = new ArrayList<>();
    lines.add("service,created_ms,finalizer_ms,statefulset_ms,secret_ms,headless_ms,device_reported_ms,lb_ip_ms,"
        + "delete_requested_ms,service_gone_ms,statefulset_gone_ms,secret_gone_ms,headless_gone_ms,device_gone_ms");
    Function<Long, String> c = t -> t == 0 ? "" : Double.toString(ms(t - burst));
    Function<Long, String> d = t -> t == 0 ? "" : Double.toString(ms(t - del));
    for (Tracker.Rec r : recs) {
      lines.add(String.join(",", r.key, c.apply(r.created), c.apply(r.finalizer), c.apply(r.sts), c.apply(r.secret),
          c.apply(r.headless), c.apply(r.device), c.apply(r.lb), d.apply(r.deleteRequested), d.apply(r.svcGone),
          d.apply(r.stsGone), d.apply(r.secretGone), d.apply(r.headlessGone), d.apply(r.deviceGone)));
    }
    lines.add("# times in ms: created..lb_ip from the first create request; delete_requested.. from the first delete");
    return lines;
  }

  private Map<String, Object> machine() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cores", Runtime.getRuntime().availableProcessors());
    m.put("uptime", uptime());
    try {
      m.put("memory", Files.readAllLines(Path.of("/proc/meminfo")).get(0).replaceAll("\\s+", " "));
      m.put("load_average_at_start", Files.readString(Path.of("/proc/loadavg")).trim());
    } catch (IOException e) {
      // not Linux
    }
    m.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
    m.put("benchmark_jvm_args", ManagementFactory.getRuntimeMXBean().getInputArguments());
    m.put("simulator", "testkit ProxySimulator, " + io.tailops.testkit.proxy.ProxySimulator.DEFAULT_THREADS
        + " worker thread(s)");
    m.put("git", git("rev-parse", "HEAD") + (git("status", "--porcelain", "--", "operator", "control-plane", "api")
        .isBlank() ? "" : " + uncommitted changes in operator/control-plane/api"));
    return m;
  }

  private static String uptime() {
    try {
      Process p = new ProcessBuilder("uptime").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor();
      return out;
    } catch (IOException e) {
      return "unknown";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }

  private static String git(String... args) {
    try {
      List<String> cmd = new ArrayList<>(List.of("git"));
      cmd.addAll(List.of(args));
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes()).trim();
      p.waitFor();
      return out;
    } catch (IOException e) {
      return "unknown";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }

  // ------------------------------------------------------------------------------------------------ workload

  static String ns(int i) {
    return "bench-" + (i % NAMESPACES);
  }

  static String name(int i) {
    return String.format("svc-%05d", i);
  }

  static Service service(String ns, String name, String hostname) {
    return new ServiceBuilder().withNewMetadata().withNamespace(ns).withName(name)
        .addToLabels(Tracker.BENCH_LABEL, "true").addToAnnotations("tailscale.com/hostname", hostname).endMetadata()
        .withNewSpec().withType("LoadBalancer").withLoadBalancerClass("tailscale")
        .withAllocateLoadBalancerNodePorts(false).addToSelector("app", name).addNewPort().withName("http")
        .withPort(80).endPort().endSpec().build();
  }

  private void say(String s) {
    System.out.printf("[%7.1fs] %s%n", (System.nanoTime() - t0) / 1e9, s);
  }

  /** A fixed pool that runs i = 0..n-1, retrying conflicts and throttling, and rethrows the first failure. */
  static final class AutoCloseableExecutor implements AutoCloseable {
    interface IntTask {
      void run(int i) throws Exception;
    }

    private final ExecutorService pool;

    AutoCloseableExecutor(int threads) {
      this.pool = Executors.newFixedThreadPool(threads, r -> {
        Thread t = new Thread(r, "bench-client");
        t.setDaemon(true);
        return t;
      });
    }

    void forEach(int n, IntTask task) throws Exception {
      List<Future<?>> fs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int idx = i;
        fs.add(pool.submit(() -> {
          for (int attempt = 0; ; attempt++) {
            try {
              task.run(idx);
              return null;
            } catch (KubernetesClientException e) {
              if ((e.getCode() == 409 || e.getCode() == 429 || e.getCode() >= 500) && attempt < 5) {
                Thread.sleep(100L << attempt);
                continue;
              }
              throw e;
            }
          }
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    }

    @Override
    public void close() {
      pool.shutdownNow();
    }
  }

  static boolean isWrite(AuditEvent e) {
    return e.isWrite();
  }
}
