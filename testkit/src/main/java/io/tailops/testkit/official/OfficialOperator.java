package io.tailops.testkit.official;

import io.tailops.testkit.WatchedProcess;
import io.tailops.testkit.headscale.TailnetBinaries;
import io.tailops.testkit.headscale.TailnetEnv;
import io.tailops.testkit.kube.KubeBinaries;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The official Tailscale operator ({@code tailscale.com/cmd/k8s-operator}, the version pinned in
 * {@code tools/k8s-operator/go.mod}) run as a local process against a test API server, as in local-tailnet.md §4: its
 * {@code KUBECONFIG}, {@code OPERATOR_NAMESPACE}, the OAuth client in files (written without a trailing newline: the
 * operator reads them verbatim), {@code OPERATOR_LOGIN_SERVER} (a {@link SplitControlPlane}), tsnet's state in a
 * folder of its own, and the loopback-only tailscaled knobs ({@link TailnetEnv#loopbackOnly()}).
 *
 * <p>Built by {@code bash tools/build-binaries.sh --only k8s-operator} (an optional group: CI never builds or runs it).
 * Its folder is the system property {@code tsop.k8s-operator.dir}, the environment variable
 * {@code TSOP_K8S_OPERATOR_BIN_DIR}, else {@code <cache>/k8s-operator/<version>-<platform>}.
 *
 * <p>The build moves controller-runtime's metrics listener from {@code :8080} (all interfaces; the operator has no
 * setting for it) to a free loopback port, so that it runs beside whatever else uses 8080 here.
 */
public final class OfficialOperator implements AutoCloseable {
  /** The binary's name (tsnet names its state folder after it: {@code tsnet-k8s-operator}). */
  public static final String BINARY = "k8s-operator";
  /** The {@code tailscale.com} release pinned in {@code tools/k8s-operator/go.mod}. */
  public static final String DEFAULT_VERSION = "1.94.2";
  public static final String BUILD_COMMAND = "bash tools/build-binaries.sh --only k8s-operator";
  /** The log line that says the manager and its controllers have started. */
  public static final String STARTED_LINE = "Startup complete, operator running";

  private final WatchedProcess process;
  private final String version;

  private OfficialOperator(WatchedProcess process, String version) {
    this.process = process;
    this.version = version;
  }

  /** The pinned version ({@code tools/k8s-operator/go.mod}), e.g. {@code 1.94.2}. */
  public static String version() {
    String v = System.getProperty("tsop.k8s-operator.version");
    return v != null && !v.isBlank() ? v
        : TailnetBinaries.pinnedVersion("tools/k8s-operator/go.mod", "tailscale.com").orElse(DEFAULT_VERSION);
  }

  /** Where the binary is expected (see the class comment); it may not exist. */
  public static Path binary() {
    String dir = System.getProperty("tsop.k8s-operator.dir");
    if (dir == null || dir.isBlank()) {
      dir = System.getenv("TSOP_K8S_OPERATOR_BIN_DIR");
    }
    if (dir == null || dir.isBlank()) {
      dir = KubeBinaries.cacheRoot().resolve("k8s-operator").resolve(version() + "-" + KubeBinaries.platform())
          .toString();
    }
    return Path.of(dir).resolve(BINARY);
  }

  public static Builder builder() {
    return new Builder();
  }

  public WatchedProcess process() {
    return process;
  }

  public String versionRunning() {
    return version;
  }

  public Path logFile() {
    return process.logFile();
  }

  public String logTail(int lines) {
    return process.logTail(lines);
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  @Override
  public void close() {
    process.stop(Duration.ofSeconds(10));
  }

  /** How to run it. */
  public static final class Builder {
    private Path binary;
    private Path kubeconfig;
    private String namespace = "tailscale";
    private String loginServer;
    private String clientId;
    private String clientSecret;
    private Path workDir;
    private Duration startupTimeout = Duration.ofMinutes(3);
    private final Map<String, String> env = new LinkedHashMap<>();

    private Builder() {
    }

    /** Default {@link OfficialOperator#binary()}. */
    public Builder binary(Path binary) {
      this.binary = binary;
      return this;
    }

    public Builder kubeconfig(Path kubeconfig) {
      this.kubeconfig = kubeconfig;
      return this;
    }

    public Builder namespace(String namespace) {
      this.namespace = namespace;
      return this;
    }

    /** {@code OPERATOR_LOGIN_SERVER}: a URL that serves both the API and the control protocol. */
    public Builder loginServer(String url) {
      this.loginServer = url;
      return this;
    }

    public Builder credentials(String clientId, String clientSecret) {
      this.clientId = clientId;
      this.clientSecret = clientSecret;
      return this;
    }

    /** Folder for the credential files, tsnet's state and the log (created if missing). */
    public Builder workDir(Path dir) {
      this.workDir = dir;
      return this;
    }

    /** Another operator variable, e.g. {@code PROXY_IMAGE} (the chart's settings). */
    public Builder env(String name, String value) {
      env.put(name, value);
      return this;
    }

    public Builder startupTimeout(Duration timeout) {
      this.startupTimeout = timeout;
      return this;
    }

    /**
     * Starts the operator and waits until it logs {@value #STARTED_LINE}: its own tailnet node is online and its
     * controllers run.
     *
     * @throws IllegalStateException when the binary is missing (naming the build command), or the
     *     operator exits or does not start in time (with the end of its log)
     */
    public OfficialOperator start() {
      Objects.requireNonNull(kubeconfig, "kubeconfig");
      Objects.requireNonNull(loginServer, "loginServer");
      Objects.requireNonNull(clientId, "credentials");
      Objects.requireNonNull(workDir, "workDir");
      Path bin = binary != null ? binary : OfficialOperator.binary();
      if (!Files.isExecutable(bin)) {
        throw new IllegalStateException("the official operator is not built: " + bin + " is missing. Build it from "
            + "the repository root with: " + BUILD_COMMAND);
      }
      try {
        Files.createDirectories(workDir.resolve("config"));
        Path id = workDir.resolve("client_id");
        Path secret = workDir.resolve("client_secret");
        Files.writeString(id, clientId);
        Files.writeString(secret, clientSecret);
        Map<String, String> all = new LinkedHashMap<>(TailnetEnv.loopbackOnly());
        all.put("HOME", workDir.toString());
        all.put("XDG_CONFIG_HOME", workDir.resolve("config").toString()); // tsnet state: <this>/tsnet-k8s-operator
        all.put("KUBECONFIG", kubeconfig.toString());
        all.put("OPERATOR_NAMESPACE", namespace);
        all.put("CLIENT_ID_FILE", id.toString());
        all.put("CLIENT_SECRET_FILE", secret.toString());
        all.put("OPERATOR_LOGIN_SERVER", loginServer);
        all.put("OPERATOR_LOGGING", "debug");
        all.putAll(env);
        WatchedProcess p = WatchedProcess.start("official-operator", java.util.List.of(bin.toString()), all,
            workDir, workDir.resolve("operator.log"));
        OfficialOperator op = new OfficialOperator(p, version());
        try {
          p.awaitLogLine(l -> l.contains(STARTED_LINE), "\"" + STARTED_LINE + "\"", startupTimeout);
        } catch (RuntimeException e) {
          op.close();
          throw e;
        }
        return op;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
