package io.tailops.testkit.headscale;

import io.tailops.testkit.WatchedProcess;
import io.tailops.testkit.OneShotCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * A real tailnet node on this machine: a userspace-networking {@code tailscaled} with its own state folder, LocalAPI
 * socket and log state, joined to a headscale with a pre-auth key ({@code tailscale up --login-server ...
 * --auth-key=file:...}), running with {@link TailnetEnv#loopbackOnly()}. By default it also offers a SOCKS5 and an
 * HTTP proxy on loopback, so that Java code reaches tailnet names ({@code <label>} or {@code <label>.<base domain>})
 * and addresses through it.
 *
 * <pre>{@code
 * try (TailnetClient client = TailnetClient.builder(headscale).hostname("e2e-client").tags("tag:e2e-client").start();
 *      TailnetClient svc = TailnetClient.builder(headscale).hostname("svc").tags("tag:k8s").proxies(false).start()) {
 *   svc.serveHttp(80, "http://127.0.0.1:" + backendPort);     // plain-HTTP serve config on the tailnet
 *   client.awaitPeer("svc", Duration.ofSeconds(30));
 *   HttpResponse<String> r = client.httpGet("http://svc.tailnet.test/");
 *   TailnetStatus st = client.status();
 * }
 * }</pre>
 *
 * <p>Runs as the current user (no root needed). Never reaches the internet: the login server is loopback, DERP is
 * headscale's embedded one over plain HTTP, log upload and port mapping are off, and interface addresses are not
 * advertised.
 */
public final class TailnetClient implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TailnetClient.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Builder cfg;
  private final TailnetBinaries binaries;
  private final Path workDir;
  private final boolean ownsWorkDir;
  private final int socksPort;
  private final int httpProxyPort;
  private WatchedProcess tailscaled;
  private HttpClient httpClient;
  private boolean closed;

  private TailnetClient(Builder cfg) {
    this.cfg = cfg;
    this.binaries = cfg.binaries != null ? cfg.binaries
        : cfg.headscale != null ? cfg.headscale.binaries() : TailnetBinaries.locate();
    if (cfg.workDir != null) {
      try {
        this.workDir = Files.createDirectories(cfg.workDir.toAbsolutePath());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      this.ownsWorkDir = false;
    } else {
      this.workDir = Local.shortTempDir("tsop-ts-");
      this.ownsWorkDir = true;
    }
    this.socksPort = cfg.proxies ? Local.freeTcpPort() : 0;
    this.httpProxyPort = cfg.proxies ? Local.freeTcpPort() : 0;
  }

  /** A node for {@code headscale}: keys are minted there when no {@link Builder#authKey(String)} is given. */
  public static Builder builder(HeadscaleServer headscale) {
    return new Builder(Objects.requireNonNull(headscale, "headscale"), headscale.baseUrl());
  }

  /** A node for any login server; then {@link Builder#authKey(String)} is required. */
  public static Builder builder(String loginServer) {
    return new Builder(null, Objects.requireNonNull(loginServer, "loginServer"));
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  /** Starts tailscaled, logs in and returns when the node is {@code Running} with tailnet addresses. */
  public synchronized TailnetClient start() {
    if (closed) {
      throw new IllegalStateException("closed");
    }
    binaries.requireTailscale();
    long t0 = System.nanoTime();
    try {
      Local.checkSocketPath(socket());
      List<String> cmd = new ArrayList<>(List.of(binaries.tailscaled().toString(),
          "--tun=userspace-networking",
          "--statedir=" + stateDir(),
          "--socket=" + socket(),
          "--port=0"));
      if (cfg.proxies) {
        cmd.add("--socks5-server=127.0.0.1:" + socksPort);
        cmd.add("--outbound-http-proxy-listen=127.0.0.1:" + httpProxyPort);
      }
      cmd.addAll(cfg.tailscaledArgs);
      Files.createDirectories(stateDir());
      tailscaled = WatchedProcess.start("tailscaled[" + cfg.hostname + "]", cmd, env(), workDir, logFile());
      awaitLocalApi();
      if (!status().isRunning()) {
        login();
      }
      TailnetStatus st = awaitRunning(cfg.startupTimeout);
      log.info("tailnet node {} running as {} ({}, id {}) in {} ms{}", cfg.hostname, st.self().fqdn(),
          st.self().ipv4(), st.self().id(), (System.nanoTime() - t0) / 1_000_000,
          cfg.proxies ? "; SOCKS5 127.0.0.1:" + socksPort + ", HTTP proxy 127.0.0.1:" + httpProxyPort : "");
      return this;
    } catch (IOException e) {
      stop();
      throw new UncheckedIOException(e);
    } catch (RuntimeException | Error e) {
      stop();
      throw e;
    }
  }

  private void login() {
    String key = cfg.authKey;
    if (key == null) {
      if (cfg.headscale == null) {
        throw new IllegalStateException("no auth key: give the builder authKey(...) or a HeadscaleServer");
      }
      key = cfg.headscale.createPreAuthKey(cfg.tags, false, cfg.ephemeral, Duration.ofHours(1)).key();
    }
    Path keyFile = workDir.resolve("auth-key");
    Local.writeSecret(keyFile, key);
    try {
      List<String> args = new ArrayList<>(List.of("up",
          "--login-server=" + cfg.loginServer,
          "--auth-key=file:" + keyFile,
          "--hostname=" + cfg.hostname,
          "--accept-dns=false",
          "--timeout=" + cfg.startupTimeout.toSeconds() + "s"));
      args.addAll(cfg.upArgs);
      OneShotCommand.Result r = runCli(args, cfg.startupTimeout.plusSeconds(10));
      if (!r.ok()) {
        throw new IllegalStateException("tailscale up for " + cfg.hostname + " exited " + r.exitCode() + ": "
            + HeadscaleServer.redact(r.stderr().strip()) + "; last lines of " + logFile() + ":\n"
            + tailscaled.logTail(30));
      }
    } finally {
      try {
        Files.deleteIfExists(keyFile);
      } catch (IOException ignored) {
        // best effort
      }
    }
  }

  /** Stops tailscaled (SIGTERM, then SIGKILL); the state folder stays, so {@link #start()} resumes the same node. */
  public synchronized void stop() {
    if (tailscaled != null) {
      tailscaled.stop(Duration.ofSeconds(10));
    }
  }

  /** Stops tailscaled and deletes the work folder (unless given or kept). The node stays in headscale. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    stop();
    if (ownsWorkDir && !cfg.keepWorkDir) {
      Local.deleteRecursively(workDir);
    }
  }

  public synchronized boolean isRunning() {
    return tailscaled != null && tailscaled.isAlive();
  }

  // ------------------------------------------------------------------------------------------------ access

  public String hostname() {
    return cfg.hostname;
  }

  public Path workDir() {
    return workDir;
  }

  public Path stateDir() {
    return workDir.resolve("state");
  }

  /** The LocalAPI socket ({@code tailscale --socket=...}). */
  public Path socket() {
    return workDir.resolve("ts.sock");
  }

  public Path logFile() {
    return workDir.resolve("tailscaled.log");
  }

  /** The SOCKS5 proxy on loopback (names travel to tailscaled unresolved when the socket is created unresolved). */
  public InetSocketAddress socks5Address() {
    requireProxies();
    return new InetSocketAddress("127.0.0.1", socksPort);
  }

  /** The HTTP proxy (absolute-URI requests and CONNECT) on loopback. */
  public InetSocketAddress httpProxyAddress() {
    requireProxies();
    return new InetSocketAddress("127.0.0.1", httpProxyPort);
  }

  /** A {@link ProxySelector} that sends every request through this node's HTTP proxy. */
  public ProxySelector proxySelector() {
    return ProxySelector.of(httpProxyAddress());
  }

  /** An HTTP/1.1 client that goes through this node's HTTP proxy (shared; do not close). */
  public synchronized HttpClient httpClient() {
    if (httpClient == null) {
      httpClient = HttpClient.newBuilder()
          .proxy(proxySelector())
          .version(HttpClient.Version.HTTP_1_1)
          .connectTimeout(Duration.ofSeconds(10))
          .followRedirects(HttpClient.Redirect.NEVER)
          .build();
    }
    return httpClient;
  }

  /** {@code GET url} through the tailnet (via the HTTP proxy), with a 20-second timeout. */
  public HttpResponse<String> httpGet(String url) {
    return httpGet(url, Duration.ofSeconds(20));
  }

  public HttpResponse<String> httpGet(String url, Duration timeout) {
    HttpRequest req = HttpRequest.newBuilder(URI.create(url)).timeout(timeout).GET().build();
    try {
      return httpClient().send(req, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException("GET " + url + " through tailnet node " + cfg.hostname + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** {@code tailscale status --json}, parsed. */
  public TailnetStatus status() {
    String out = tailscale("status", "--json");
    try {
      return TailnetStatus.parse(JSON.readTree(out));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("tailscale status --json printed no JSON: " + out, e);
    }
  }

  /** This node's StableID (with headscale: the decimal node id). */
  public String nodeId() {
    return status().self().id();
  }

  /** This node's MagicDNS name without the trailing dot. */
  public String fqdn() {
    return status().self().fqdn();
  }

  public String ipv4() {
    return status().self().ipv4();
  }

  /**
   * {@code tailscale ping <host>}: disco pings until one is answered over a direct path; returns the output, e.g.
   * {@code pong from svc (100.64.0.2) via 127.0.0.1:41234 in 1ms}.
   *
   * @throws IllegalStateException if no direct pong arrives within about {@code timeout}
   */
  public String ping(String host, Duration timeout) {
    // disco pings, 3 s each, until one comes back over a direct path (the CLI's --until-direct default)
    long count = Math.max(1, timeout.toSeconds() / 4);
    OneShotCommand.Result r = runCli(List.of("ping", "-c", Long.toString(count), "--timeout", "3s", host),
        timeout.plusSeconds(10));
    if (!r.ok()) {
      throw new IllegalStateException("tailscale ping " + host + " from " + cfg.hostname + " failed: "
          + (r.stdout() + r.stderr()).strip());
    }
    return r.stdout().strip();
  }

  /**
   * Serves {@code target} (e.g. {@code http://127.0.0.1:8000}) in plain HTTP on tailnet port {@code port}: {@code
   * tailscale serve --bg --http=<port> <target>}. This works with headscale, which cannot issue TLS certificates.
   */
  public void serveHttp(int port, String target) {
    tailscale("serve", "--bg", "--http=" + port, target);
  }

  /** Waits until {@code name} is a peer in the netmap that control reports online, and returns it. */
  public TailnetStatus.Peer awaitPeer(String name, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      TailnetStatus st = status();
      Optional<TailnetStatus.Peer> p = st.peer(name).filter(TailnetStatus.Peer::online);
      if (p.isPresent()) {
        return p.get();
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + timeout + " waiting for peer " + name + " on "
            + cfg.hostname + "; peers: " + st.peers());
      }
      WatchedProcess.sleep(250);
    }
  }

  /**
   * Runs the tailscale CLI against this node ({@code tailscale --socket=<socket> args...}) and returns its standard
   * output.
   *
   * @throws IllegalStateException with the CLI's standard error if it exits non-zero
   */
  public String tailscale(String... args) {
    OneShotCommand.Result r = runCli(List.of(args), Duration.ofSeconds(60));
    if (!r.ok()) {
      throw new IllegalStateException("tailscale " + String.join(" ", args) + " on " + cfg.hostname + " exited "
          + r.exitCode() + ": " + HeadscaleServer.redact((r.stderr() + " " + r.stdout()).strip()));
    }
    return r.stdout();
  }

  private OneShotCommand.Result runCli(List<String> args, Duration timeout) {
    List<String> cmd = new ArrayList<>();
    cmd.add(binaries.tailscale().toString());
    cmd.add("--socket=" + socket());
    cmd.addAll(args);
    return Local.run(cmd, env(), workDir, timeout);
  }

  private Map<String, String> env() {
    Map<String, String> env = new LinkedHashMap<>(TailnetEnv.forNode(stateDir()));
    env.putAll(cfg.env);
    return env;
  }

  private void awaitLocalApi() {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      if (Files.exists(socket()) && runCli(List.of("status", "--json"), Duration.ofSeconds(10)).ok()) {
        return;
      }
      if (!tailscaled.isAlive()) {
        throw new IllegalStateException("tailscaled for " + cfg.hostname + " exited with code "
            + tailscaled.exitCode() + "; last lines of " + logFile() + ":\n" + tailscaled.logTail(40));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("tailscaled for " + cfg.hostname + " did not open " + socket()
            + "; last lines of " + logFile() + ":\n" + tailscaled.logTail(40));
      }
      WatchedProcess.sleep(100);
    }
  }

  private TailnetStatus awaitRunning(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      TailnetStatus st = status();
      if (st.isRunning() && st.self() != null && !st.self().tailscaleIPs().isEmpty()) {
        return st;
      }
      if (!tailscaled.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException("tailnet node " + cfg.hostname + " is not Running (state "
            + st.backendState() + ", health " + st.health() + "); last lines of " + logFile() + ":\n"
            + tailscaled.logTail(40));
      }
      WatchedProcess.sleep(200);
    }
  }

  private void requireProxies() {
    if (!cfg.proxies) {
      throw new IllegalStateException("tailnet node " + cfg.hostname + " was started without proxies");
    }
  }

  @Override
  public String toString() {
    return "TailnetClient[" + cfg.hostname + ", " + workDir + "]";
  }

  /** Configuration of a {@link TailnetClient}. */
  public static final class Builder {
    private final HeadscaleServer headscale;
    private final String loginServer;
    private String hostname = "e2e-client";
    private List<String> tags = List.of("tag:e2e-client");
    private String authKey;
    private boolean ephemeral;
    private boolean proxies = true;
    private Path workDir;
    private boolean keepWorkDir = Boolean.getBoolean("tsop.tailnet.keep");
    private Duration startupTimeout = Duration.ofSeconds(60);
    private final Map<String, String> env = new LinkedHashMap<>();
    private final List<String> upArgs = new ArrayList<>();
    private final List<String> tailscaledArgs = new ArrayList<>();
    private TailnetBinaries binaries;

    private Builder(HeadscaleServer headscale, String loginServer) {
      this.headscale = headscale;
      this.loginServer = loginServer;
    }

    /** Requested hostname (default {@code e2e-client}); headscale derives the DNS label from it. */
    public Builder hostname(String name) {
      this.hostname = Objects.requireNonNull(name, "name");
      return this;
    }

    /**
     * Tags of the pre-auth key minted for this node (default {@code tag:e2e-client}). The node does not advertise
     * tags itself: headscale rejects a key login that also asks for tags.
     */
    public Builder tags(String... tags) {
      this.tags = List.of(tags);
      return this;
    }

    /** Log in with this key instead of minting one. */
    public Builder authKey(String key) {
      this.authKey = key;
      return this;
    }

    /** Mint an ephemeral key (headscale removes the node some time after it goes offline). */
    public Builder ephemeral(boolean on) {
      this.ephemeral = on;
      return this;
    }

    /** Whether to run the SOCKS5 and HTTP proxies on loopback (default true). */
    public Builder proxies(boolean on) {
      this.proxies = on;
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

    public Builder startupTimeout(Duration timeout) {
      this.startupTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** An extra environment variable for tailscaled and the CLI (e.g. {@code TS_DEBUG_ALWAYS_USE_DERP=1}). */
    public Builder env(String name, String value) {
      this.env.put(name, value);
      return this;
    }

    /** Extra {@code tailscale up} arguments (never {@code --advertise-tags} with a key: headscale rejects it). */
    public Builder upArgs(String... args) {
      this.upArgs.addAll(List.of(args));
      return this;
    }

    /** Extra tailscaled arguments. */
    public Builder tailscaledArgs(String... args) {
      this.tailscaledArgs.addAll(List.of(args));
      return this;
    }

    public Builder binaries(TailnetBinaries binaries) {
      this.binaries = binaries;
      return this;
    }

    public TailnetClient build() {
      return new TailnetClient(this);
    }

    /** {@link #build()} then {@link TailnetClient#start()}; on failure the work folder is removed. */
    public TailnetClient start() {
      TailnetClient c = build();
      try {
        return c.start();
      } catch (RuntimeException | Error e) {
        c.close();
        throw e;
      }
    }
  }
}
