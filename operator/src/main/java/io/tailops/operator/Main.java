package io.tailops.operator;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.tailops.controlplane.ControlPlane;
import io.tailops.operator.config.ConfigException;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.runtime.ControlPlanes;
import io.tailops.operator.runtime.CrashPointInterceptor;
import io.tailops.operator.runtime.HttpEndpoints;
import io.tailops.operator.runtime.Logging;
import io.tailops.operator.runtime.DeniedRequests;
import io.tailops.operator.runtime.OperatorMetrics;
import io.tailops.operator.runtime.OperatorRuntime;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The operator's command line. In a cluster it is configured entirely by environment variables (the same ones as the
 * official operator); the flags are conveniences for running it locally and override the variables.
 */
@Command(name = "tailscale-operator", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Kubernetes operator that puts Services and Ingresses on a Tailscale tailnet.",
    subcommands = {Main.Run.class, DoctorCommand.class, CommandLine.HelpCommand.class})
public final class Main implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    int code = commandLine().execute(args.length == 0 ? new String[] {"run"} : args);
    if (code != 0) {
      System.exit(code);
    }
  }

  static CommandLine commandLine() {
    return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true)
        .setExecutionExceptionHandler((ex, cl, parsed) -> {
          cl.getErr().println("error: " + ex.getMessage());
          return 1;
        });
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 0;
  }

  /** Options shared by the commands that talk to the cluster and the control plane. */
  static final class ClusterOptions {
    @Option(names = "--kubeconfig", description = "kubeconfig file (default: in-cluster config, then $KUBECONFIG, "
        + "then ~/.kube/config)")
    Path kubeconfig;

    @Option(names = {"-n", "--namespace"}, description = "operator namespace (OPERATOR_NAMESPACE)")
    String namespace;

    @Option(names = "--login-server", description = "control server URL (OPERATOR_LOGIN_SERVER)")
    String loginServer;

    @Option(names = "--client-id-file", description = "file holding the OAuth client ID (CLIENT_ID_FILE)")
    Path clientIdFile;

    @Option(names = "--client-secret-file", description = "file holding the OAuth client secret "
        + "(CLIENT_SECRET_FILE)")
    Path clientSecretFile;

    @Option(names = "--env", paramLabel = "NAME=VALUE", description = "set any operator environment variable, e.g. "
        + "--env PROXY_TAGS=tag:k8s (repeatable)")
    Map<String, String> env = new LinkedHashMap<>();

    /** The process environment with the flags applied on top. */
    Map<String, String> environment() {
      Map<String, String> e = new HashMap<>(System.getenv());
      e.putAll(env);
      put(e, "OPERATOR_NAMESPACE", namespace);
      put(e, "OPERATOR_LOGIN_SERVER", loginServer);
      put(e, "CLIENT_ID_FILE", clientIdFile);
      put(e, "CLIENT_SECRET_FILE", clientSecretFile);
      return e;
    }

    KubernetesClient kubernetesClient() {
      return kubernetesClient(null, io.tailops.operator.config.ThreadSettings.DEFAULTS);
    }

    /**
     * The client, its pools bounded as {@code threads} says; with {@code denied}, every request the API server denies
     * is logged and counted there.
     */
    KubernetesClient kubernetesClient(DeniedRequests denied, io.tailops.operator.config.ThreadSettings threads) {
      Config config = kubeconfig != null ? Config.fromKubeconfig(null, read(kubeconfig), kubeconfig.toString())
          : Config.autoConfigure(null);
      config.setUserAgent("tailscale-operator/" + Version.VERSION);
      return io.tailops.operator.threads.OperatorThreads.bounded(new KubernetesClientBuilder(), threads)
          .withConfig(config).withHttpClientBuilderConsumer(b -> {
            if (denied != null) {
              denied.addTo(b);
            }
            CrashPointInterceptor.addTo(b); // test-only hook, nothing unless TSOP_TEST_CRASH_POINTS is set
          }).build();
    }

    private static String read(Path p) {
      try {
        return java.nio.file.Files.readString(p);
      } catch (java.io.IOException e) {
        throw new IllegalArgumentException("cannot read kubeconfig " + p + ": " + e.getMessage());
      }
    }

    private static void put(Map<String, String> e, String name, Object value) {
      if (value != null) {
        e.put(name, value.toString());
      }
    }
  }

  /** {@code run}: the operator itself (the default command). */
  @Command(name = "run", mixinStandardHelpOptions = true, description = "Run the operator (default).")
  static final class Run implements Callable<Integer> {
    @CommandLine.Mixin
    ClusterOptionsMixin cluster;

    @Option(names = "--http-port", description = "port of /healthz, /readyz, /metrics and /status "
        + "(OPERATOR_HTTP_PORT, default 8080)")
    Integer httpPort;

    @Option(names = "--log-format", description = "json or plain (OPERATOR_LOG_FORMAT)")
    String logFormat;

    @Option(names = "--no-leader-election", description = "run without a Lease (OPERATOR_LEADER_ELECTION=false)")
    boolean noLeaderElection;

    @Override
    public Integer call() throws Exception {
      Map<String, String> env = cluster.options.environment();
      if (httpPort != null) {
        env.put("OPERATOR_HTTP_PORT", httpPort.toString());
      }
      if (logFormat != null) {
        env.put("OPERATOR_LOG_FORMAT", logFormat);
      }
      if (noLeaderElection) {
        env.put("OPERATOR_LEADER_ELECTION", "false");
      }
      OperatorConfig config;
      try {
        config = OperatorConfig.fromEnv(env);
      } catch (ConfigException e) {
        Logging.configure(OperatorConfig.LogMode.INFO, env.getOrDefault("KUBERNETES_SERVICE_HOST", "").isEmpty()
            ? OperatorConfig.LogFormat.PLAIN : OperatorConfig.LogFormat.JSON);
        for (String line : e.getMessage().split("\n")) {
          LOG.error("invalid setting: {}", line);
        }
        if (env.getOrDefault("KUBERNETES_SERVICE_HOST", "").isEmpty()) {
          return 2;
        }
        // In a cluster, stay up and say what is wrong instead of crash-looping.
        misconfigured(e.getMessage(), env);
        return 0;
      }
      Logging.configure(config.logging(), config.logFormat());
      OperatorMetrics metrics = new OperatorMetrics();
      KubernetesClient client = cluster.options.kubernetesClient(new DeniedRequests(metrics), config.threads());
      ControlPlane controlPlane = ControlPlanes.create(config, metrics);
      CountDownLatch stopped = new CountDownLatch(1);
      OperatorRuntime runtime = OperatorRuntime.start(config, client, controlPlane, Clock.systemUTC(),
          config.httpPort(), io.tailops.operator.ingress.RedirectProbe.standard(), metrics);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        OperatorRuntime.SHUTTING_DOWN.set(true);
        LOG.info("shutting down");
        runtime.close();
        client.close();
        stopped.countDown();
      }, "shutdown"));
      stopped.await();
      return 0;
    }

    private static void misconfigured(String errors, Map<String, String> env) throws Exception {
      int port = 8080;
      try {
        port = Integer.parseInt(env.getOrDefault("OPERATOR_HTTP_PORT", "8080"));
      } catch (NumberFormatException ignored) {
        // keep the default
      }
      HttpEndpoints http = new HttpEndpoints("0.0.0.0", port);
      http.route("/healthz", () -> HttpEndpoints.Response.text(200, "ok\n"));
      http.route("/readyz", () -> HttpEndpoints.Response.text(503, "misconfigured:\n" + errors + "\n"));
      http.route("/status", () -> HttpEndpoints.Response.text(503, "The operator is misconfigured and does nothing "
          + "until its settings are fixed:\n" + errors + "\n"));
      http.start();
      LOG.error("the operator is misconfigured and does nothing until its settings are fixed; see /readyz");
      new CountDownLatch(1).await();
    }
  }

  /** Picocli mixin wrapper for {@link ClusterOptions}. */
  static final class ClusterOptionsMixin {
    @CommandLine.ArgGroup(exclusive = false, heading = "Cluster and control plane%n")
    ClusterOptions options = new ClusterOptions();
  }

  /** The operator version (from the jar manifest, else "dev"). */
  static final class Version implements CommandLine.IVersionProvider {
    static final String VERSION = Main.class.getPackage().getImplementationVersion() == null ? "dev"
        : Main.class.getPackage().getImplementationVersion();

    @Override
    public String[] getVersion() {
      return new String[] {"tailscale-operator " + VERSION};
    }
  }

  static void printLines(PrintWriter out, List<String> lines) {
    lines.forEach(out::println);
  }
}
