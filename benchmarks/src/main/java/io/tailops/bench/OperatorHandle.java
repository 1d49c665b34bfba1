package io.tailops.bench;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.tailops.controlplane.ControlPlane;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.ingress.RedirectProbe;
import io.tailops.operator.runtime.ControlPlanes;
import io.tailops.operator.runtime.OperatorMetrics;
import io.tailops.operator.runtime.OperatorRuntime;
import io.tailops.testkit.kube.KubeApiServer;
import io.tailops.testkit.official.OfficialOperator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A running operator: ours in this JVM ({@link InProcess}, as the integration tests run it) or as a separate process
 * ({@link Subprocess}: a JVM or the native executable, {@code ... run}, as a pod runs it), so that its CPU, heap and
 * RSS can be measured without the benchmark's own objects; or the official operator ({@link Official}).
 */
abstract class OperatorHandle implements AutoCloseable {
  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  /** Ours: the reconcile timer of the operator's own metrics. */
  static final Pattern OURS_RECONCILES = Pattern.compile(
      "^tailscale_operator_reconcile_seconds_(count|sum)\\{([^}]*)\\}\\s+([0-9.eE+-]+)$", Pattern.MULTILINE);

  /** Wall-clock nanos when start was called (the spawn, for a process). */
  final long startedNanos = System.nanoTime();

  abstract String userAgentPrefix();

  /** The operator's process, for its CPU time, RSS and threads (-1 when unknown). */
  abstract long pid();

  abstract String describe();

  /** The operator's Prometheus text, or null while its metrics endpoint does not answer. */
  abstract String metricsText();

  /** The regular expression of the reconcile timer: groups (count|sum), labels, value. */
  Pattern reconcilePattern() {
    return OURS_RECONCILES;
  }

  /**
   * Heap used after a full GC, committed heap, metaspace (a JVM that {@code jcmd} can attach to), RSS, peak RSS,
   * threads, CPU so far. {@code fullGc}: collect first (JVMs only), so that the heap figure is the live data.
   */
  abstract Map<String, Object> footprint(boolean fullGc);

  /** Graceful stop (SIGTERM for a process). */
  abstract void stop();

  ProcFigures proc() {
    return ProcFigures.of(pid());
  }

  @Override
  public void close() {
    stop();
  }

  /**
   * How many reconciles of {@code controller} the operator has finished (its own Prometheus counter), or -1 while
   * its HTTP endpoint does not answer yet.
   */
  long reconciles(String controller) {
    double[] cs = reconcileTotals(controller);
    return cs == null ? -1 : (long) cs[0];
  }

  /** {count, sum of seconds} of the operator's reconcile timer for {@code controller}; null when not reachable. */
  double[] reconcileTotals(String controller) {
    String text = metricsText();
    if (text == null) {
      return null;
    }
    double[] out = new double[2];
    Matcher m = reconcilePattern().matcher(text);
    while (m.find()) {
      if (m.group(2).contains("controller=\"" + controller + "\"")) {
        out[m.group(1).equals("count") ? 0 : 1] += Double.parseDouble(m.group(3));
      }
    }
    return out;
  }

  static String get(String url) {
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5))
          .GET().build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? r.body() : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  static int freePort() {
    return io.tailops.testkit.LoopbackPorts.tcp();
  }

  static double mib(long kib) {
    return ProcFigures.mib(kib);
  }

  /** RSS, peak RSS, threads and CPU of a process, as a footprint map. */
  static void putProc(Map<String, Object> m, long pid) {
    m.putAll(ProcFigures.of(pid).toMap());
  }

  // ------------------------------------------------------------------------------------------------ in-process

  /** The operator in this JVM, with its own Kubernetes client and production control-plane client settings. */
  static final class InProcess extends OperatorHandle {
    static final String USER_AGENT = "tailscale-operator-bench";
    private final KubernetesClient client;
    private final OperatorRuntime runtime;

    InProcess(KubeApiServer kube, Map<String, String> env) {
      OperatorConfig config = OperatorConfig.fromEnv(env);
      Config kc = kube.config();
      kc.setUserAgent(USER_AGENT);
      this.client = new KubernetesClientBuilder().withConfig(kc).build();
      OperatorMetrics metrics = new OperatorMetrics();
      ControlPlane cp = ControlPlanes.create(config, metrics);
      try {
        this.runtime = OperatorRuntime.start(config, client, cp, Clock.systemUTC(), 0, RedirectProbe.standard(),
            metrics);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    @Override
    String userAgentPrefix() {
      return USER_AGENT;
    }

    @Override
    String metricsText() {
      return get("http://127.0.0.1:" + runtime.httpPort() + "/metrics");
    }

    @Override
    long pid() {
      return ProcessHandle.current().pid();
    }

    @Override
    String describe() {
      return "in-process (benchmark JVM: " + String.join(" ", ManagementFactory.getRuntimeMXBean()
          .getInputArguments()) + ")";
    }

    @Override
    Map<String, Object> footprint(boolean fullGc) {
      if (fullGc) {
        for (int i = 0; i < 3; i++) {
          System.gc();
        }
      }
      var mem = ManagementFactory.getMemoryMXBean();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("scope", "whole benchmark JVM: operator + proxy simulator + fake Tailscale API + benchmark informers");
      m.put("heap_used_after_gc_mib", mib(mem.getHeapMemoryUsage().getUsed() / 1024));
      m.put("heap_committed_mib", mib(mem.getHeapMemoryUsage().getCommitted() / 1024));
      m.put("non_heap_used_mib", mib(mem.getNonHeapMemoryUsage().getUsed() / 1024));
      putProc(m, pid());
      return m;
    }

    @Override
    void stop() {
      runtime.close();
      client.close();
    }
  }

  // ------------------------------------------------------------------------------------------------ our process

  /**
   * Ours as a process, as a pod runs it: {@code java <flags> -cp <operator class path> io.tailops.operator.Main run}
   * or {@code <native executable> run}, configured by environment variables.
   */
  static final class Subprocess extends OperatorHandle {
    private static final Pattern HEAP_LINE = Pattern.compile(
        "^\\s*(def new generation|tenured generation|DefNew|Tenured|garbage-first heap|PSYoungGen|ParOldGen|Shenandoah Heap|ZHeap)"
            + "\\s+total (\\d+)K, used (\\d+)K", Pattern.MULTILINE);
    private static final Pattern METASPACE = Pattern.compile("Metaspace\\s+used (\\d+)K");
    private static final Pattern NMT_LINE = Pattern.compile(
        "^-?\\s*([A-Za-z][A-Za-z ]+?) \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)", Pattern.MULTILINE);
    private final Process process;
    private final int port;
    private final List<String> command;
    private final Path jcmd;
    private final Path log;

    /**
     * @param launcher the command before the operator's own arguments: {@code java <flags> -cp CP
     *     io.tailops.operator.Main} or the native executable
     * @param jcmd the runtime's {@code jcmd} (null for a native executable)
     */
    Subprocess(Path kubeconfig, Map<String, String> env, List<String> launcher, Path jcmd, Path log) {
      this.port = freePort();
      this.jcmd = jcmd;
      this.log = log;
      List<String> cmd = new ArrayList<>(launcher);
      cmd.addAll(List.of("run", "--kubeconfig", kubeconfig.toString(), "--http-port", Integer.toString(port),
          "--no-leader-election", "--log-format", "plain"));
      this.command = List.copyOf(cmd);
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().putAll(env);
      try {
        this.process = pb.start();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot start the operator process", e);
      }
    }

    @Override
    String userAgentPrefix() {
      return "tailscale-operator/";
    }

    @Override
    String metricsText() {
      return get("http://127.0.0.1:" + port + "/metrics");
    }

    @Override
    long pid() {
      return process.pid();
    }

    @Override
    String describe() {
      return "separate process: " + command.stream().filter(a -> !a.contains(java.io.File.pathSeparator))
          .takeWhile(a -> !a.equals("run")).toList();
    }

    boolean isAlive() {
      return process.isAlive();
    }

    Path log() {
      return log;
    }

    @Override
    Map<String, Object> footprint(boolean fullGc) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("scope", "operator process only");
      if (jcmd != null) {
        if (fullGc) {
          jcmd("GC.run");
        }
        String heap = jcmd("GC.heap_info");
        long used = 0;
        long committed = 0;
        Matcher hm = HEAP_LINE.matcher(heap);
        boolean found = false;
        while (hm.find()) {
          found = true;
          committed += Long.parseLong(hm.group(2));
          used += Long.parseLong(hm.group(3));
        }
        m.put(fullGc ? "heap_used_after_gc_mib" : "heap_used_mib", found ? mib(used) : null);
        m.put("heap_committed_mib", found ? mib(committed) : null);
        Matcher mm = METASPACE.matcher(heap);
        m.put("metaspace_used_mib", mm.find() ? mib(Long.parseLong(mm.group(1))) : null);
        if (command.stream().anyMatch(a -> a.startsWith("-XX:NativeMemoryTracking="))) {
          // Where the memory goes, by the JVM's own account: committed MiB per category.
          Map<String, Object> nmt = new LinkedHashMap<>();
          Matcher nm = NMT_LINE.matcher(jcmd("VM.native_memory summary"));
          while (nm.find()) {
            nmt.put(nm.group(1).trim(), mib(Long.parseLong(nm.group(3))));
          }
          m.put("native_memory_committed_mib", nmt);
        }
      }
      putProc(m, pid());
      return m;
    }

    private String jcmd(String command) {
      try {
        Process p = new ProcessBuilder(jcmd.toString(), Long.toString(pid()), command).redirectErrorStream(true)
            .start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor(60, TimeUnit.SECONDS);
        return out;
      } catch (IOException e) {
        return "";
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return "";
      }
    }

    @Override
    void stop() {
      stop(Duration.ofSeconds(30));
    }

    /** SIGTERM, then SIGKILL after {@code grace} (a training run writes its archive on the way out: give it time). */
    void stop(Duration grace) {
      process.destroy();
      try {
        if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }

    int exitCode() {
      return process.isAlive() ? -1 : process.exitValue();
    }
  }

  // ------------------------------------------------------------------------------------------------ official

  /**
   * The official operator (testkit {@link OfficialOperator}): its own process, its metrics on the loopback port its
   * build chose (controller-runtime's listener moved from :8080 to 127.0.0.1:0, found through /proc), reconciles
   * counted by controller-runtime's {@code controller_runtime_reconcile_time_seconds} for the same controller name
   * as ours ({@code service-reconciler}).
   */
  static final class Official extends OperatorHandle {
    /** client-go's default user agent: the binary's name, then its version. */
    static final String USER_AGENT_PREFIX = OfficialOperator.BINARY + "/";
    static final Pattern RECONCILES = Pattern.compile(
        "^controller_runtime_reconcile_time_seconds_(count|sum)\\{([^}]*)\\}\\s+([0-9.eE+-]+)$", Pattern.MULTILINE);
    private final OfficialOperator operator;
    private final long pid;
    private volatile int metricsPort = -1;
    /** When {@link OfficialOperator#STARTED_LINE} had been logged (nanoTime). */
    final long startedLine;

    Official(OfficialOperator.Builder builder) {
      this.operator = builder.start();
      this.startedLine = System.nanoTime();
      this.pid = operator.process().program().map(ProcessHandle::pid).orElse(-1L);
    }

    @Override
    String userAgentPrefix() {
      return USER_AGENT_PREFIX;
    }

    @Override
    Pattern reconcilePattern() {
      return RECONCILES;
    }

    @Override
    String metricsText() {
      if (metricsPort > 0) {
        return get("http://127.0.0.1:" + metricsPort + "/metrics");
      }
      for (int port : ListeningPorts.of(pid)) {
        String text = get("http://127.0.0.1:" + port + "/metrics");
        if (text != null && text.contains("controller_runtime_")) {
          metricsPort = port;
          return text;
        }
      }
      return null;
    }

    @Override
    long pid() {
      return pid;
    }

    @Override
    String describe() {
      return "official operator v" + operator.versionRunning() + " (" + OfficialOperator.binary() + "), log "
          + operator.logFile();
    }

    boolean isAlive() {
      return operator.isAlive();
    }

    Path log() {
      return operator.logFile();
    }

    @Override
    Map<String, Object> footprint(boolean fullGc) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("scope", "operator process only");
      String text = metricsText();
      if (text != null) {
        Matcher hm = Pattern.compile("^go_memstats_heap_inuse_bytes\\s+([0-9.eE+-]+)$", Pattern.MULTILINE).matcher(text);
        if (hm.find()) {
          m.put("go_heap_inuse_mib", mib((long) (Double.parseDouble(hm.group(1)) / 1024)));
        }
      }
      putProc(m, pid);
      return m;
    }

    @Override
    void stop() {
      operator.close();
    }
  }
}
