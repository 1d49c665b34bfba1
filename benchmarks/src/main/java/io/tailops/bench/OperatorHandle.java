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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
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
 * A running operator, either in this JVM ({@link InProcess}, as the integration tests run it) or as a separate JVM
 * ({@link Subprocess}, {@code io.tailops.operator.Main run}, as a pod runs it), so that its heap and RSS can be
 * measured without the benchmark's own objects.
 */
abstract class OperatorHandle implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final Pattern RECONCILE_COUNT = Pattern.compile(
      "^tailscale_operator_reconcile_seconds_(count|sum)\\{([^}]*)\\}\\s+([0-9.eE+-]+)$", Pattern.MULTILINE);

  /** Wall-clock nanos when start was called. */
  final long startedNanos = System.nanoTime();

  abstract String userAgentPrefix();

  abstract int httpPort();

  abstract long pid();

  abstract String describe();

  /** Heap used after a full GC, committed heap, RSS, peak RSS, threads. */
  abstract Map<String, Object> footprint();

  /** Graceful stop (SIGTERM for a process). */
  abstract void stop();

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
    String text;
    try {
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort()
          + "/metrics")).timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() != 200) {
        return null;
      }
      text = r.body();
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
    double[] out = new double[2];
    Matcher m = RECONCILE_COUNT.matcher(text);
    while (m.find()) {
      if (m.group(2).contains("controller=\"" + controller + "\"")) {
        out[m.group(1).equals("count") ? 0 : 1] += Double.parseDouble(m.group(3));
      }
    }
    return out;
  }

  static int freePort() {
    return io.tailops.testkit.LoopbackPorts.tcp();
  }

  /** VmRSS, VmHWM (KiB) and Threads of a Linux process. */
  static Map<String, Long> procStatus(long pid) {
    Map<String, Long> out = new LinkedHashMap<>();
    try {
      for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
        for (String key : List.of("VmRSS", "VmHWM", "Threads")) {
          if (line.startsWith(key + ":")) {
            out.put(key, Long.parseLong(line.substring(key.length() + 1).trim().split("\\s+")[0]));
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux or the process is gone: no figures
    }
    return out;
  }

  static double mib(long kib) {
    return Math.round(kib / 1024.0 * 10) / 10.0;
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
    int httpPort() {
      return runtime.httpPort();
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
    Map<String, Object> footprint() {
      for (int i = 0; i < 3; i++) {
        System.gc();
      }
      var mem = ManagementFactory.getMemoryMXBean();
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("scope", "whole benchmark JVM: operator + proxy simulator + fake Tailscale API + benchmark informers");
      m.put("heap_used_after_gc_mib", mib(mem.getHeapMemoryUsage().getUsed() / 1024));
      m.put("heap_committed_mib", mib(mem.getHeapMemoryUsage().getCommitted() / 1024));
      m.put("non_heap_used_mib", mib(mem.getNonHeapMemoryUsage().getUsed() / 1024));
      Map<String, Long> st = procStatus(pid());
      m.put("rss_mib", st.containsKey("VmRSS") ? mib(st.get("VmRSS")) : null);
      m.put("rss_peak_mib", st.containsKey("VmHWM") ? mib(st.get("VmHWM")) : null);
      m.put("threads", st.get("Threads"));
      return m;
    }

    @Override
    void stop() {
      runtime.close();
      client.close();
    }
  }

  // ------------------------------------------------------------------------------------------------ subprocess

  /** {@code java <flags> -cp <operator class path> io.tailops.operator.Main run}, configured by environment. */
  static final class Subprocess extends OperatorHandle {
    private static final Pattern HEAP_LINE = Pattern.compile(
        "^\\s*(def new generation|tenured generation|garbage-first heap|PSYoungGen|ParOldGen|Shenandoah Heap|ZHeap)"
            + "\\s+total (\\d+)K, used (\\d+)K", Pattern.MULTILINE);
    private static final Pattern METASPACE = Pattern.compile("Metaspace\\s+used (\\d+)K");
    private final Process process;
    private final int port;
    private final List<String> jvmFlags;
    private final Path log;

    Subprocess(Path kubeconfig, Map<String, String> env, String classpath, List<String> jvmFlags, Path log) {
      this.port = freePort();
      this.jvmFlags = List.copyOf(jvmFlags);
      this.log = log;
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.addAll(jvmFlags);
      cmd.addAll(List.of("-cp", classpath, "io.tailops.operator.Main", "run", "--kubeconfig", kubeconfig.toString(),
          "--http-port", Integer.toString(port), "--no-leader-election", "--log-format", "plain"));
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
    int httpPort() {
      return port;
    }

    @Override
    long pid() {
      return process.pid();
    }

    @Override
    String describe() {
      return "separate JVM " + jvmFlags;
    }

    boolean isAlive() {
      return process.isAlive();
    }

    Path log() {
      return log;
    }

    @Override
    Map<String, Object> footprint() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("scope", "operator process only");
      jcmd("GC.run");
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
      m.put("heap_used_after_gc_mib", found ? mib(used) : null);
      m.put("heap_committed_mib", found ? mib(committed) : null);
      Matcher mm = METASPACE.matcher(heap);
      m.put("metaspace_used_mib", mm.find() ? mib(Long.parseLong(mm.group(1))) : null);
      Map<String, Long> st = procStatus(pid());
      m.put("rss_mib", st.containsKey("VmRSS") ? mib(st.get("VmRSS")) : null);
      m.put("rss_peak_mib", st.containsKey("VmHWM") ? mib(st.get("VmHWM")) : null);
      m.put("threads", st.get("Threads"));
      return m;
    }

    private String jcmd(String command) {
      Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
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
      process.destroy();
      try {
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
          process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        process.destroyForcibly();
      }
    }
  }
}
