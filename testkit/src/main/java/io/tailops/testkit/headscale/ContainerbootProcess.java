package io.tailops.testkit.headscale;

import io.tailops.testkit.WatchedProcess;
import io.tailops.testkit.OneShotCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real {@code containerboot} (the proxy image's entrypoint) run as a local process, the way a kubelet would run a
 * proxy Pod's container: the operator's environment, the config Secret's {@code cap-<N>.hujson} files materialised in
 * {@code TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR}, and, for the Kubernetes state Secret, a service account whose files
 * appear at the fixed path {@code /var/run/secrets/kubernetes.io/serviceaccount}.
 *
 * <h2>How it runs outside a kubelet</h2>
 *
 * <ul>
 *   <li><b>Private mount namespace.</b> containerboot and tailscaled's {@code kube:} state store read the service
 *       account only from {@code /var/run/secrets/kubernetes.io/serviceaccount} (no override besides containerboot's
 *       {@code TS_TEST_ONLY_ROOT}, which tailscaled ignores). So the process starts as {@code unshare --mount
 *       --propagation private /bin/sh <work>/mountns.sh}; that script mounts a fresh tmpfs on {@code /run}
 *       ({@code /var/run} links there), bind-mounts this proxy's own {@code serviceaccount/} folder at
 *       {@code /run/secrets/kubernetes.io/serviceaccount}, bind-mounts a private {@code /etc/hosts} and
 *       {@code /etc/resolv.conf}, then {@code exec}s containerboot. Nothing changes on the host: every proxy has its
 *       own token and namespace, and containerboot's {@code /var/run/tailscale/tailscaled.sock} symlink lands in the
 *       private tmpfs. Needs root (CAP_SYS_ADMIN); as another user it adds {@code --user --map-root-user}
 *       (unprivileged user namespaces; untested here).</li>
 *   <li><b>The API server address.</b> {@code KUBERNETES_SERVICE_HOST=127.0.0.1},
 *       {@code KUBERNETES_SERVICE_PORT_HTTPS=<port>} and {@code TS_KUBERNETES_READ_API_SERVER_ADDRESS_FROM_ENV=true}
 *       ({@code KUBERNETES_SERVICE_PORT} is not read). {@code ca.crt} must be the CA of the API server's serving
 *       certificate, which must be valid for 127.0.0.1; {@code token} and {@code namespace} are written without a
 *       trailing newline (both are used verbatim).</li>
 *   <li><b>{@code kubernetes.default.svc}.</b> tailscale's kube client checks Event permissions (when
 *       {@code POD_NAME} and {@code POD_UID} are set) <i>before</i> it applies the address from the environment, so
 *       both containerboot and tailscaled look up {@code kubernetes.default.svc} once. The private {@code /etc/hosts}
 *       maps it to 127.0.0.1 (port 443: refused, so Events are off and containerboot logs "this client is not able
 *       to write tailscaled Events"), and the private {@code /etc/resolv.conf} names only 127.0.0.1, so no lookup
 *       ever leaves the machine.</li>
 *   <li><b>Per-process paths.</b> {@code TS_SOCKET}, {@code TS_STATE_DIR} and {@code TS_LOGS_DIR} under the work
 *       folder (their defaults are shared: {@code /tmp/tailscaled.sock}, {@code /tmp}, {@code /var/lib/tailscale}),
 *       {@code PATH} starting with the folder that holds tailscaled and tailscale (containerboot runs them from
 *       PATH), {@link TailnetEnv#loopbackOnly()}, nothing inherited from the JVM's environment.</li>
 * </ul>
 *
 * <pre>{@code
 * try (ContainerbootProcess proxy = ContainerbootProcess.builder()
 *     .podName("ts-web-0").podUid(uid).namespace("tailscale")
 *     .kubeApiServer("127.0.0.1", kube.port(), caPem, token)  // token of a service account allowed on the Secret
 *     .configFile("cap-107.hujson", json)                      // as the operator writes it into the config Secret
 *     .start()) {
 *   proxy.awaitStartupComplete(Duration.ofSeconds(60));
 * }
 * }</pre>
 */
public final class ContainerbootProcess implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ContainerbootProcess.class);

  /** The line containerboot prints once the node is up and (for kube state) device_* were stored. */
  public static final String STARTUP_COMPLETE = "Startup complete, waiting for shutdown signal";
  /** The fixed service-account folder of containerboot and tailscaled's kube state store. */
  public static final String SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

  private final Builder cfg;
  private final TailnetBinaries binaries;
  private final Path workDir;
  private final boolean ownsWorkDir;
  private WatchedProcess process;
  private long startedAt;
  private boolean closed;

  private ContainerbootProcess(Builder cfg) {
    this.cfg = cfg;
    this.binaries = cfg.binaries != null ? cfg.binaries : TailnetBinaries.locate();
    if (cfg.workDir != null) {
      try {
        this.workDir = Files.createDirectories(cfg.workDir.toAbsolutePath());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      this.ownsWorkDir = false;
    } else {
      this.workDir = Local.shortTempDir("tsop-cb-");
      this.ownsWorkDir = true;
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  /** Writes the files and starts containerboot; does not wait (see {@link #awaitStartupComplete(Duration)}). */
  public synchronized ContainerbootProcess start() {
    if (closed) {
      throw new IllegalStateException("closed");
    }
    if (process != null && process.isAlive()) {
      throw new IllegalStateException("containerboot is running");
    }
    binaries.requireTailscale();
    try {
      Files.createDirectories(stateDir());
      Local.checkSocketPath(socket());
      if (!cfg.configFiles.isEmpty()) {
        Files.createDirectories(configDir());
        for (Map.Entry<String, String> f : cfg.configFiles.entrySet()) {
          Local.writeSecret(configDir().resolve(f.getKey()), f.getValue());
        }
      }
      if (cfg.serveConfig != null) {
        Local.writeString(serveConfigFile(), cfg.serveConfig);
      }
      List<String> cmd = new ArrayList<>(cfg.commandPrefix);
      if (cfg.privateMountNamespace) {
        writeMountNamespaceFiles();
        cmd.add("unshare");
        if (!OneShotCommand.isRoot()) {
          cmd.add("--user");
          cmd.add("--map-root-user");
        }
        cmd.addAll(List.of("--mount", "--propagation", "private", "/bin/sh", mountScript().toString()));
      } else {
        cmd.add(binaries.containerboot().toString());
      }
      startedAt = System.nanoTime();
      process = WatchedProcess.start("containerboot[" + cfg.podName + "]", cmd, env(), workDir, logFile());
      log.info("containerboot {} started (work folder {}, private mount namespace: {})", cfg.podName, workDir,
          cfg.privateMountNamespace);
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits for "{@value #STARTUP_COMPLETE}"; throws with the end of the log if containerboot exits or times out. */
  public ContainerbootProcess awaitStartupComplete(Duration timeout) {
    process.awaitLogLine(l -> l.contains(STARTUP_COMPLETE), "\"" + STARTUP_COMPLETE + "\"", timeout);
    log.info("containerboot {}: startup complete {} ms after the start", cfg.podName,
        (System.nanoTime() - startedAt) / 1_000_000);
    return this;
  }

  /**
   * SIGTERM, as the kubelet sends on Pod deletion: containerboot waits (up to 25 s) for tailscaled's state in the
   * Secret to look consistent, then stops tailscaled. SIGKILL after {@code grace}.
   */
  public synchronized void stop(Duration grace) {
    if (process != null) {
      process.stop(grace);
    }
  }

  /** SIGKILL to containerboot and tailscaled at once (a node crash). */
  public synchronized void kill() {
    if (process != null) {
      process.kill();
    }
  }

  /** Stops (30 s grace) and deletes the work folder unless it was given or kept. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    stop(Duration.ofSeconds(30));
    if (ownsWorkDir && !cfg.keepWorkDir) {
      Local.deleteRecursively(workDir);
    }
  }

  public synchronized boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** Exit code, -1 while running or before the start. */
  public synchronized int exitCode() {
    return process == null ? -1 : process.exitCode();
  }

  /**
   * Rewrites one config file atomically (temporary file + rename), as the kubelet's Secret volume update would;
   * containerboot notices and asks tailscaled to reload the config.
   */
  public void updateConfigFile(String name, String content) {
    Path tmp = configDir().resolve("." + name + ".tmp");
    Local.writeSecret(tmp, content);
    try {
      Files.move(tmp, configDir().resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Rewrites the serve config file ({@code TS_SERVE_CONFIG}) atomically. */
  public void updateServeConfig(String json) {
    Path tmp = workDir.resolve(".serve-config.tmp");
    Local.writeString(tmp, json);
    try {
      Files.move(tmp, serveConfigFile(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs the tailscale CLI against this proxy's tailscaled and returns its output. */
  public String tailscale(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(binaries.tailscale().toString());
    cmd.add("--socket=" + socket());
    cmd.addAll(List.of(args));
    OneShotCommand.Result r = Local.run(cmd, TailnetEnv.forNode(stateDir()), workDir, Duration.ofSeconds(60));
    if (!r.ok()) {
      throw new IllegalStateException("tailscale " + String.join(" ", args) + " on " + cfg.podName + " exited "
          + r.exitCode() + ": " + HeadscaleServer.redact((r.stderr() + " " + r.stdout()).strip()));
    }
    return r.stdout();
  }

  // ------------------------------------------------------------------------------------------------ access

  public String podName() {
    return cfg.podName;
  }

  public Path workDir() {
    return workDir;
  }

  /** containerboot's (and tailscaled's) output: {@code containerboot.log} in the work folder unless given. */
  public Path logFile() {
    return cfg.logFile != null ? cfg.logFile : workDir.resolve("containerboot.log");
  }

  /**
   * Replaces the service-account token file (as the kubelet refreshes a projected token); containerboot and
   * tailscaled re-read it every 30 minutes and after a 401.
   */
  public void updateServiceAccountToken(String token) {
    Path tmp = serviceAccountDir().resolve(".token.tmp");
    Local.writeSecret(tmp, Objects.requireNonNull(token, "token").strip());
    try {
      Files.move(tmp, serviceAccountDir().resolve("token"), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code TS_SOCKET}: tailscaled's LocalAPI socket. */
  public Path socket() {
    return workDir.resolve("ts.sock");
  }

  /** {@code TS_STATE_DIR} (also {@code TS_LOGS_DIR} and {@code HOME}). */
  public Path stateDir() {
    return workDir.resolve("state");
  }

  /** {@code TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR}, when config files were given. */
  public Path configDir() {
    return workDir.resolve("tsconfig");
  }

  public Path serveConfigFile() {
    return workDir.resolve("serve-config");
  }

  /** This proxy's service-account folder, bind-mounted at {@value #SERVICE_ACCOUNT_DIR}. */
  public Path serviceAccountDir() {
    return workDir.resolve("serviceaccount");
  }

  public Path mountScript() {
    return workDir.resolve("mountns.sh");
  }

  /** The whole environment containerboot gets. */
  public Map<String, String> env() {
    Map<String, String> env = new LinkedHashMap<>(TailnetEnv.forNode(stateDir()));
    env.put("PATH", binaries.tailscaleDir() + ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    env.put("TS_SOCKET", socket().toString());
    env.put("TS_STATE_DIR", stateDir().toString());
    if (!cfg.configFiles.isEmpty()) {
      env.put("TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR", configDir().toString());
    }
    if (cfg.serveConfig != null) {
      env.put("TS_SERVE_CONFIG", serveConfigFile().toString());
    }
    if (cfg.podName != null) {
      env.put("POD_NAME", cfg.podName);
      env.put("TS_KUBE_SECRET", cfg.podName);
    }
    if (cfg.podUid != null) {
      env.put("POD_UID", cfg.podUid);
    }
    if (cfg.kubeHost != null) {
      env.put("KUBERNETES_SERVICE_HOST", cfg.kubeHost);
      env.put("KUBERNETES_SERVICE_PORT", Integer.toString(cfg.kubePort));
      env.put("KUBERNETES_SERVICE_PORT_HTTPS", Integer.toString(cfg.kubePort));
      env.put("TS_KUBERNETES_READ_API_SERVER_ADDRESS_FROM_ENV", "true");
    }
    env.putAll(cfg.env); // the Pod's own env last, as in a container spec
    return env;
  }

  private void writeMountNamespaceFiles() throws IOException {
    Path sa = serviceAccountDir();
    Files.createDirectories(sa);
    if (cfg.saNamespace != null) {
      Local.writeString(sa.resolve("namespace"), cfg.saNamespace);
      Local.writeString(sa.resolve("ca.crt"), cfg.caPem);
      Local.writeSecret(sa.resolve("token"), cfg.token);
    }
    Local.writeString(workDir.resolve("hosts"), """
        127.0.0.1 localhost
        ::1 localhost ip6-localhost ip6-loopback
        # tailscale's kube client checks Event permissions at https://kubernetes.default.svc before it applies
        # TS_KUBERNETES_READ_API_SERVER_ADDRESS_FROM_ENV: keep that lookup on this machine
        %s kubernetes kubernetes.default kubernetes.default.svc kubernetes.default.svc.cluster.local
        """.formatted(cfg.kubernetesServiceAddress));
    Local.writeString(workDir.resolve("resolv.conf"), """
        # private to this proxy: no DNS query leaves the machine
        nameserver 127.0.0.1
        options timeout:1 attempts:1
        """);
    Local.writeString(mountScript(), """
        #!/bin/sh
        # Runs in a private mount namespace (unshare --mount --propagation private): gives containerboot and tailscaled
        # the service-account files at the fixed in-cluster path, a private /run and private DNS files, then becomes
        # containerboot. Nothing here is visible outside this process tree.
        set -eu
        mount -t tmpfs -o mode=0755,size=16m tsop-run /run
        mkdir -p %1$s
        mount --bind %2$s %1$s
        mount --bind %3$s /etc/hosts
        mount --bind %4$s /etc/resolv.conf
        exec %5$s
        """.formatted("/run/secrets/kubernetes.io/serviceaccount", shq(sa.toString()),
        shq(workDir.resolve("hosts").toString()), shq(workDir.resolve("resolv.conf").toString()),
        shq(binaries.containerboot().toString())));
  }

  private static String shq(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  @Override
  public String toString() {
    return "ContainerbootProcess[" + cfg.podName + ", " + workDir + "]";
  }

  /** Configuration of a {@link ContainerbootProcess}. */
  public static final class Builder {
    private String podName = "ts-proxy-0";
    private String podUid;
    private String kubeHost;
    private int kubePort;
    private String saNamespace;
    private String caPem;
    private String token;
    private final Map<String, String> configFiles = new LinkedHashMap<>();
    private String serveConfig;
    private final Map<String, String> env = new LinkedHashMap<>();
    private boolean privateMountNamespace = true;
    private final List<String> commandPrefix = new ArrayList<>();
    private String kubernetesServiceAddress = "127.0.0.1";
    private Path logFile;
    private Path workDir;
    private boolean keepWorkDir = Boolean.getBoolean("tsop.tailnet.keep");
    private TailnetBinaries binaries;

    private Builder() {
    }

    /** The Pod's name: {@code POD_NAME} and the state Secret {@code TS_KUBE_SECRET} (override with env). */
    public Builder podName(String name) {
      this.podName = Objects.requireNonNull(name, "name");
      return this;
    }

    /** {@code POD_UID}, stored by containerboot as {@code pod_uid}. */
    public Builder podUid(String uid) {
      this.podUid = uid;
      return this;
    }

    /**
     * Use the Kubernetes API server at {@code https://host:port} for the state Secret, with this service account
     * (namespace, the CA that signed the serving certificate as PEM, a bearer token).
     */
    public Builder kubeApiServer(String host, int port, String namespace, String caPem, String token) {
      this.kubeHost = Objects.requireNonNull(host, "host");
      this.kubePort = port;
      this.saNamespace = Objects.requireNonNull(namespace, "namespace");
      this.caPem = Objects.requireNonNull(caPem, "caPem");
      this.token = Objects.requireNonNull(token, "token").strip();
      return this;
    }

    /**
     * Only the service account (the files at {@value ContainerbootProcess#SERVICE_ACCOUNT_DIR}), without setting the
     * API server address in the environment: for callers that set {@code KUBERNETES_SERVICE_HOST} and friends
     * themselves, e.g. a kubelet emulation whose processes reach the API server at {@code kubernetes.default.svc}.
     */
    public Builder serviceAccount(String namespace, String caPem, String token) {
      this.saNamespace = Objects.requireNonNull(namespace, "namespace");
      this.caPem = Objects.requireNonNull(caPem, "caPem");
      this.token = Objects.requireNonNull(token, "token").strip();
      return this;
    }

    /**
     * The address that {@code kubernetes.default.svc} (and its shorter forms) resolves to in the private
     * {@code /etc/hosts} (default 127.0.0.1).
     */
    public Builder kubernetesServiceAddress(String ip) {
      this.kubernetesServiceAddress = Objects.requireNonNull(ip, "ip");
      return this;
    }

    /**
     * Words put before the command, e.g. {@code ip netns exec <name>} to run containerboot (and so tailscaled) in a
     * network namespace. The private mount namespace is set up after them.
     */
    public Builder commandPrefix(List<String> words) {
      this.commandPrefix.clear();
      this.commandPrefix.addAll(words);
      return this;
    }

    /** Where containerboot's output goes (appended across restarts); default {@code containerboot.log} in the work folder. */
    public Builder logFile(Path file) {
      this.logFile = file;
      return this;
    }

    /** A file of the config Secret, e.g. {@code cap-107.hujson}; switches containerboot to config-file mode. */
    public Builder configFile(String name, String content) {
      this.configFiles.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(content, "content"));
      return this;
    }

    /** A serve config (JSON) written to a file named by {@code TS_SERVE_CONFIG}. */
    public Builder serveConfig(String json) {
      this.serveConfig = json;
      return this;
    }

    /** One environment variable of the Pod (applied last, so it can override any default here). */
    public Builder env(String name, String value) {
      this.env.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Environment variables of the Pod. */
    public Builder env(Map<String, String> vars) {
      this.env.putAll(vars);
      return this;
    }

    /**
     * Whether to run in a private mount namespace (default true; see the class comment). Without it the service
     * account cannot be provided and containerboot's socket symlink goes to the host's {@code /var/run/tailscale}.
     */
    public Builder privateMountNamespace(boolean on) {
      this.privateMountNamespace = on;
      return this;
    }

    public Builder workDir(Path dir) {
      this.workDir = dir;
      return this;
    }

    public Builder keepWorkDir(boolean keep) {
      this.keepWorkDir = keep;
      return this;
    }

    public Builder binaries(TailnetBinaries binaries) {
      this.binaries = binaries;
      return this;
    }

    public ContainerbootProcess build() {
      if (saNamespace != null && !privateMountNamespace) {
        throw new IllegalStateException("a service account needs the private mount namespace");
      }
      return new ContainerbootProcess(this);
    }

    /** {@link #build()} then {@link ContainerbootProcess#start()}. */
    public ContainerbootProcess start() {
      ContainerbootProcess p = build();
      try {
        return p.start();
      } catch (RuntimeException | Error e) {
        p.close();
        throw e;
      }
    }
  }
}
