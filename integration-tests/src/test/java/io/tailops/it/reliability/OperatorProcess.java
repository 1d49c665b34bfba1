package io.tailops.it.reliability;

import io.tailops.local.OperatorEnvironment;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The operator as its own JVM ({@code io.tailops.operator.Main run}, configured by environment variables as in a
 * pod) against an {@link OperatorEnvironment}'s API server and fake tailnet, so that it can be killed with SIGKILL:
 * unlike {@link OperatorEnvironment#killOperator()}, nothing in it gets to finish (an auth key minted a microsecond
 * before the kill is never written anywhere).
 */
final class OperatorProcess {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
  private final OperatorEnvironment env;
  private final Path logDir;
  private Process process;
  private int port;
  private int starts;
  private String podName;
  private String apiServerUrl;
  private String credentialId;
  private String logName = "operator-process.log";
  private final java.util.Map<String, String> extraEnv = new java.util.LinkedHashMap<>();

  OperatorProcess(OperatorEnvironment env, Path logDir) {
    this.env = env;
    this.logDir = logDir;
  }

  /**
   * Runs with leader election on, as the pod {@code podName} (its identity in the Lease). Every start is the same
   * Pod's container restarted after a crash ({@code POD_NAME} kept), which takes the Lease back at once as its holder.
   */
  OperatorProcess leaderElection(String podName) {
    this.podName = podName;
    this.logName = "operator-" + podName + ".log";
    return this;
  }

  /** Talks to the API server through this URL (e.g. a {@link PartitionableLink}) instead of directly. */
  OperatorProcess apiServer(String url) {
    this.apiServerUrl = url;
    return this;
  }

  String podName() {
    return podName;
  }

  /**
   * The credential the current (or last) start authenticates with, as the API server's audit log records it
   * ({@code JTI=<jti>}): every start gets its own ServiceAccount token, so each run of the process is told apart.
   */
  String credentialId() {
    return credentialId;
  }

  boolean isAlive() {
    return process != null && process.isAlive();
  }

  /** Waits up to {@code timeout} for the process to exit by itself; true when it did (it is then forgotten). */
  boolean awaitExit(Duration timeout) throws InterruptedException {
    if (process == null) {
      return true;
    }
    if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      process = null;
      return true;
    }
    return false;
  }

  /** An extra environment variable of the process. */
  OperatorProcess env(String name, String value) {
    extraEnv.put(name, value);
    return this;
  }

  Path log() {
    return logDir.resolve(logName);
  }

  void start() {
    port = freePort();
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k", "-Xmx256m",
        "-cp", System.getProperty("java.class.path"), "io.tailops.operator.Main", "run",
        "--kubeconfig", kubeconfig().toString(), "--http-port", Integer.toString(port), "--log-format", "plain"));
    if (podName == null) {
      cmd.add("--no-leader-election");
    }
    try {
      Files.createDirectories(logDir);
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.appendTo(log().toFile()));
      // The settings the in-process operator gets from the environment.
      var config = env.config();
      pb.environment().put("OPERATOR_NAMESPACE", config.namespace());
      pb.environment().put("CLIENT_ID_FILE", config.clientIdFile().toString());
      pb.environment().put("CLIENT_SECRET_FILE", config.clientSecretFile().toString());
      pb.environment().put("OPERATOR_LOGIN_SERVER", config.loginServer());
      pb.environment().put("PROXY_IMAGE", config.proxyImage());
      pb.environment().put("PROXY_FIREWALL_MODE", config.proxyFirewallMode());
      pb.environment().put("OPERATOR_LOGGING", "info");
      pb.environment().put("OPERATOR_ADMIN_PORT", Integer.toString(freePort())); // not the fixed default 8082
      if (podName != null) {
        pb.environment().put("OPERATOR_LEADER_ELECTION", "true");
        pb.environment().put("POD_NAME", podName);
      }
      pb.environment().putAll(extraEnv);
      process = pb.start();
      starts++;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits until the operator answers {@code /readyz} (its informers have synced). */
  void awaitReady(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the operator process exited; see " + log());
      }
      try {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/readyz"))
            .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("the operator process was not ready after " + timeout);
  }

  /** SIGKILL. */
  void kill() throws InterruptedException {
    if (process != null) {
      process.destroyForcibly();
      process.waitFor(30, TimeUnit.SECONDS);
      process = null;
    }
  }

  /** A new token's kubeconfig, pointing at {@link #apiServer} if set; remembers the token's credential ID. */
  private Path kubeconfig() {
    Path file = env.writeOperatorKubeconfig();
    try {
      String yaml = Files.readString(file);
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("token: \"([^\"]+)\"").matcher(yaml);
      if (!m.find()) {
        throw new IllegalStateException("no token in " + file);
      }
      String payload = m.group(1).split("\\.")[1];
      String json = new String(java.util.Base64.getUrlDecoder().decode(payload),
          java.nio.charset.StandardCharsets.UTF_8);
      java.util.regex.Matcher jti = java.util.regex.Pattern.compile("\"jti\":\"([^\"]+)\"").matcher(json);
      credentialId = jti.find() ? "JTI=" + jti.group(1) : null;
      if (apiServerUrl == null) {
        return file;
      }
      Path own = logDir.resolve("kubeconfig-" + podName + ".yaml");
      Files.createDirectories(logDir);
      Files.writeString(own, yaml.replace("server: " + env.kube().url(), "server: " + apiServerUrl));
      return own;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  int starts() {
    return starts;
  }

  private static int freePort() {
    return io.tailops.testkit.LoopbackPorts.tcp();
  }
}
