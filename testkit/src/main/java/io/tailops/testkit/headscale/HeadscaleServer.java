package io.tailops.testkit.headscale;

import io.tailops.testkit.WatchedProcess;
import io.tailops.testkit.OneShotCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A real headscale (v0.29.2, built from Go modules by {@code tools/build-binaries.sh}) on loopback for tests and the
 * local environment, configured as {@code local-tailnet.md} §1.2 describes: plain HTTP on {@code 127.0.0.1:<free
 * port>} (never 8080), SQLite in the work folder, embedded DERP on (clients need {@code TS_DEBUG_USE_DERP_HTTP=1},
 * see {@link TailnetEnv}), STUN on {@code 127.0.0.1:<free UDP port>}, no DERP map URLs, MagicDNS on a made-up base
 * domain, update check and log upload off, the CLI's unix socket in the work folder.
 *
 * <pre>{@code
 * try (HeadscaleServer hs = HeadscaleServer.builder().baseDomain("tailnet.test").start()) {
 *   String url = hs.baseUrl();                        // --login-server / ServerURL
 *   String apiKey = hs.apiKey();                      // Bearer key for /api/v1 (also in hs.apiKeyFile())
 *   PreAuthKey key = hs.createPreAuthKey(List.of("tag:k8s"), false, false, Duration.ofHours(1));
 *   List<HeadscaleNode> nodes = hs.nodes();
 *   hs.restart();                                     // same port, same database, same API key
 * }
 * }</pre>
 *
 * <p>The first API key is created with the CLI over the unix socket ({@code headscale apikeys create --expiration
 * 90d}); it is kept in memory and in a file readable by its owner only, and never logged. The process never outlives
 * the JVM ({@link WatchedProcess}); a shutdown hook stops running instances.
 */
public final class HeadscaleServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HeadscaleServer.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern SECRET = Pattern.compile("\\bhskey-[a-z]+-[A-Za-z0-9_-]+");

  /** Policy storage: a file (reloaded with SIGHUP) or the database ({@code PUT /api/v1/policy}). */
  public enum PolicyMode {
    FILE, DATABASE
  }

  /**
   * A policy for operator tests: tag ownership as in a Tailscale tailnet set up for the operator, and allow-all ACLs
   * between every node (so connectivity never depends on ACL details).
   */
  public static final String OPERATOR_POLICY = """
      {
        // tag:k8s-operator owns the proxies' tag, as in Tailscale's operator setup guide
        "tagOwners": {
          "tag:k8s-operator": [],
          "tag:k8s": ["tag:k8s-operator"],
          "tag:e2e-client": [],
        },
        "acls": [
          {"action": "accept", "src": ["*"], "dst": ["*:*"]},
        ],
      }
      """;

  private static final Set<HeadscaleServer> RUNNING = Collections.synchronizedSet(new LinkedHashSet<>());

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      List<HeadscaleServer> all;
      synchronized (RUNNING) {
        all = new ArrayList<>(RUNNING);
      }
      all.forEach(HeadscaleServer::stopFromShutdownHook);
    }, "tsop-headscale-shutdown"));
  }

  private final Builder cfg;
  private final TailnetBinaries binaries;
  private final Path workDir;
  private final boolean ownsWorkDir;
  private final HttpClient http;
  private int port;
  private int stunPort;
  private String apiKey;
  private volatile WatchedProcess process;
  private boolean configured;
  private boolean closed;

  private HeadscaleServer(Builder cfg) {
    this.cfg = cfg;
    this.binaries = cfg.binaries != null ? cfg.binaries : TailnetBinaries.locate();
    if (cfg.workDir != null) {
      try {
        this.workDir = Files.createDirectories(cfg.workDir.toAbsolutePath());
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create " + cfg.workDir, e);
      }
      this.ownsWorkDir = false;
    } else {
      this.workDir = Local.shortTempDir("tsop-hs-");
      this.ownsWorkDir = true;
    }
    this.http = HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(5))
        .followRedirects(HttpClient.Redirect.NEVER)
        .build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /** A server with the defaults, started. */
  public static HeadscaleServer startDefault() {
    return builder().start();
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  /**
   * Starts headscale and returns when {@code GET /health} answers 200. The first start writes the configuration,
   * picks the ports and creates the API key; later starts (after {@link #stop()}) reuse all three and the database.
   *
   * @throws IllegalStateException if the binary is missing (the message names the build command) or headscale does
   *                               not become healthy (the message carries the end of its log)
   */
  public synchronized HeadscaleServer start() {
    if (closed) {
      throw new IllegalStateException("closed");
    }
    if (process != null && process.isAlive()) {
      throw new IllegalStateException("headscale is running");
    }
    try {
      binaries.requireHeadscale();
    } catch (IllegalStateException e) {
      if (ownsWorkDir && !configured) {
        Local.deleteRecursively(workDir);
      }
      throw e;
    }
    long t0 = System.nanoTime();
    RUNNING.add(this);
    try {
      if (!configured) {
        configure();
      }
      process = WatchedProcess.start("headscale", List.of(binaries.headscale().toString(), "serve", "-c",
          configFile().toString()), env(), workDir, logFile());
      awaitHealthy(cfg.startupTimeout);
      if (apiKey == null) {
        apiKey = createApiKeyWithCli(Duration.ofDays(90));
        Local.writeSecret(apiKeyFile(), apiKey);
        if (cfg.policyMode == PolicyMode.DATABASE && cfg.policy != null) {
          updatePolicy(cfg.policy);
        }
      }
      log.info("headscale v{} ready at {} in {} ms (STUN {}:{}, base domain {}, policy {}, work folder {})",
          binaries.headscaleVersion(), baseUrl(), (System.nanoTime() - t0) / 1_000_000, cfg.listenAddress, stunPort,
          cfg.baseDomain,
          cfg.policy == null ? "none (allow all)" : cfg.policyMode.name().toLowerCase(), workDir);
      return this;
    } catch (RuntimeException | Error e) {
      WatchedProcess p = process;
      if (p != null) {
        p.stop(cfg.stopTimeout);
      }
      throw e;
    }
  }

  /** Stops headscale (SIGTERM, then SIGKILL after the stop timeout); the database and configuration stay. */
  public synchronized void stop() {
    WatchedProcess p = process;
    if (p != null) {
      p.stop(cfg.stopTimeout);
      log.info("headscale stopped");
    }
  }

  /** SIGKILLs headscale, as a crash would. */
  public synchronized void kill() {
    WatchedProcess p = process;
    if (p != null) {
      p.kill();
      log.info("headscale killed");
    }
  }

  /** {@link #stop()} then {@link #start()}: same port, same database, same API key. */
  public synchronized void restart() {
    stop();
    start();
  }

  public synchronized boolean isRunning() {
    return process != null && process.isAlive();
  }

  /** Stops headscale and deletes the work folder (unless it was given or kept). Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    RUNNING.remove(this);
    stop();
    if (ownsWorkDir && !cfg.keepWorkDir) {
      Local.deleteRecursively(workDir);
    } else if (configured) {
      log.info("headscale files kept in {}", workDir);
    }
  }

  private void stopFromShutdownHook() {
    WatchedProcess p = process;
    if (p != null) {
      try {
        p.stop(Duration.ofSeconds(5));
      } catch (RuntimeException e) {
        // keep going
      }
    }
    if (ownsWorkDir && !cfg.keepWorkDir) {
      Local.deleteRecursively(workDir);
    }
  }

  // ------------------------------------------------------------------------------------------------ access

  /**
   * {@code http://<listen address>:<port>} (by default {@code http://127.0.0.1:<port>}): the login server
   * ({@code --login-server}, {@code ServerURL}) and API base.
   */
  public String baseUrl() {
    return "http://" + cfg.listenAddress + ":" + port;
  }

  /** The address headscale listens on (HTTP, DERP and STUN): 127.0.0.1 unless the builder named another. */
  public String listenAddress() {
    return cfg.listenAddress;
  }

  public int port() {
    return port;
  }

  /** The UDP port of the embedded STUN server on {@link #listenAddress()}. */
  public int stunPort() {
    return stunPort;
  }

  /** The MagicDNS base domain, e.g. {@code tailnet.test}; node FQDNs are {@code <givenName>.<baseDomain>}. */
  public String baseDomain() {
    return cfg.baseDomain;
  }

  /** An admin API key ({@code hskey-api-...}, 90 days) for {@code Authorization: Bearer}; never log it. */
  public synchronized String apiKey() {
    if (apiKey == null) {
      throw new IllegalStateException("not started");
    }
    return apiKey;
  }

  /** A file holding {@link #apiKey()} without a trailing newline, mode 0600. */
  public Path apiKeyFile() {
    return workDir.resolve("api-key");
  }

  public Path workDir() {
    return workDir;
  }

  public Path configFile() {
    return workDir.resolve("config.yaml");
  }

  public Path logFile() {
    return workDir.resolve("headscale.log");
  }

  /** The CLI's unix socket. */
  public Path socket() {
    return workDir.resolve("hs.sock");
  }

  public Path policyFile() {
    return workDir.resolve("policy.hujson");
  }

  public TailnetBinaries binaries() {
    return binaries;
  }

  /** The running (or last) headscale process: its log, pid, signals. Null before the first start. */
  public WatchedProcess process() {
    return process;
  }

  public PolicyMode policyMode() {
    return cfg.policyMode;
  }

  /** Whether {@code GET /health} answers 200 now. */
  public boolean healthy() {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(baseUrl() + "/health"))
          .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  // ------------------------------------------------------------------------------------------------ keys

  /**
   * Creates a pre-auth key through the REST API, always with an explicit expiration (a key created without one is
   * born expired in v0.29).
   *
   * @param tags ACL tags (each {@code tag:<lowercase name>}); at least one, since keys here are owned by no user
   * @param expiry how long the key stays valid
   */
  public PreAuthKey createPreAuthKey(List<String> tags, boolean reusable, boolean ephemeral, Duration expiry) {
    Objects.requireNonNull(tags, "tags");
    Objects.requireNonNull(expiry, "expiry");
    ObjectNode body = JSON.createObjectNode();
    body.put("reusable", reusable);
    body.put("ephemeral", ephemeral);
    body.put("expiration", Instant.now().plus(expiry).toString());
    tags.forEach(body.putArray("aclTags")::add);
    JsonNode k = api("POST", "/api/v1/preauthkey", body.toString()).path("preAuthKey");
    PreAuthKey key = toPreAuthKey(k);
    log.debug("created pre-auth key {}", key);
    return key;
  }

  /** A single-use, non-ephemeral key with {@code tags}, valid for one hour. */
  public PreAuthKey createPreAuthKey(String... tags) {
    return createPreAuthKey(List.of(tags), false, false, Duration.ofHours(1));
  }

  /** Every pre-auth key (secrets shown only as {@code hskey-auth-<prefix>-***}). */
  public List<PreAuthKey> preAuthKeys() {
    List<PreAuthKey> out = new ArrayList<>();
    for (JsonNode k : api("GET", "/api/v1/preauthkey", null).path("preAuthKeys")) {
      out.add(toPreAuthKey(k));
    }
    return out;
  }

  private static PreAuthKey toPreAuthKey(JsonNode k) {
    List<String> tags = new ArrayList<>();
    k.path("aclTags").forEach(t -> tags.add(t.asText()));
    return new PreAuthKey(k.path("id").asText(), k.path("key").asText(), tags, k.path("reusable").asBoolean(),
        k.path("ephemeral").asBoolean(), time(k.get("expiration")));
  }

  /** Runs {@code headscale apikeys create} over the unix socket and returns the new key. */
  private String createApiKeyWithCli(Duration expiry) {
    String out = cli("apikeys", "create", "--expiration", expiry.toHours() + "h", "-o", "json").strip();
    try {
      JsonNode n = JSON.readTree(out);
      if (n != null && n.isTextual() && n.asText().startsWith("hskey-api-")) {
        return n.asText();
      }
    } catch (JsonProcessingException e) {
      // fall through
    }
    throw new IllegalStateException("headscale apikeys create printed something other than a key ("
        + out.length() + " characters)");
  }

  // ------------------------------------------------------------------------------------------------ nodes

  /** Every node, sorted by id. */
  public List<HeadscaleNode> nodes() {
    List<HeadscaleNode> out = new ArrayList<>();
    for (JsonNode n : api("GET", "/api/v1/node", null).path("nodes")) {
      out.add(toNode(n));
    }
    return out;
  }

  /** One node by decimal id; empty when unknown. */
  public Optional<HeadscaleNode> node(String id) {
    ApiResponse r = apiCall("GET", "/api/v1/node/" + id, null);
    if (r.status == 404) {
      return Optional.empty();
    }
    return Optional.of(toNode(r.require().path("node")));
  }

  /** The node whose given name (DNS label) or raw hostname is {@code name}, if any. */
  public Optional<HeadscaleNode> nodeNamed(String name) {
    List<HeadscaleNode> all = nodes();
    return all.stream().filter(n -> name.equals(n.givenName())).findFirst()
        .or(() -> all.stream().filter(n -> name.equals(n.name())).findFirst());
  }

  /** Waits until some node satisfies {@code condition} and returns it. */
  public HeadscaleNode awaitNode(Predicate<HeadscaleNode> condition, String what, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Optional<HeadscaleNode> n = nodes().stream().filter(condition).findFirst();
      if (n.isPresent()) {
        return n.get();
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("timed out after " + timeout + " waiting for a node: " + what + "; nodes: "
            + nodes());
      }
      WatchedProcess.sleep(250);
    }
  }

  /** Deletes a node; {@code false} if it did not exist. */
  public boolean deleteNode(String id) {
    ApiResponse r = apiCall("DELETE", "/api/v1/node/" + id, null);
    if (r.status == 404) {
      return false;
    }
    r.require();
    return true;
  }

  private static HeadscaleNode toNode(JsonNode n) {
    List<String> ips = new ArrayList<>();
    n.path("ipAddresses").forEach(a -> ips.add(a.asText()));
    List<String> tags = new ArrayList<>();
    n.path("tags").forEach(t -> tags.add(t.asText()));
    JsonNode user = n.get("user");
    String userName = user != null && user.isObject() ? user.path("name").asText(null) : null;
    return new HeadscaleNode(n.path("id").asText(), n.path("name").asText(), n.path("givenName").asText(), ips, tags,
        n.path("online").asBoolean(false), time(n.get("lastSeen")), time(n.get("createdAt")), userName,
        n.path("registerMethod").asText(null));
  }

  // ------------------------------------------------------------------------------------------------ policy

  /** The current policy text as headscale serves it ({@code GET /api/v1/policy}). */
  public String policy() {
    return api("GET", "/api/v1/policy", null).path("policy").asText();
  }

  /**
   * Replaces the policy: in {@link PolicyMode#FILE} mode rewrites the policy file and sends SIGHUP (only possible when
   * the server was started with a policy); in {@link PolicyMode#DATABASE} mode {@code PUT /api/v1/policy}.
   */
  public synchronized void updatePolicy(String hujson) {
    Objects.requireNonNull(hujson, "hujson");
    if (cfg.policyMode == PolicyMode.DATABASE) {
      ObjectNode body = JSON.createObjectNode();
      body.put("policy", hujson);
      api("PUT", "/api/v1/policy", body.toString());
      return;
    }
    if (cfg.policy == null) {
      throw new IllegalStateException("headscale was started without a policy file; give the builder a policy (or"
          + " use PolicyMode.DATABASE) to change it later");
    }
    Local.writeString(policyFile(), hujson);
    long before = countLogLines("Received SIGHUP");
    process.signal("HUP");
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (countLogLines("Received SIGHUP") <= before && System.nanoTime() < deadline) {
      WatchedProcess.sleep(100);
    }
    WatchedProcess.sleep(300); // the reload itself follows the log line
    log.info("headscale policy file rewritten and reloaded");
  }

  private long countLogLines(String text) {
    try (var lines = Files.lines(logFile())) {
      return lines.filter(l -> l.contains(text)).count();
    } catch (IOException | UncheckedIOException e) {
      return 0;
    }
  }

  // ------------------------------------------------------------------------------------------------ raw access

  /**
   * Runs the headscale CLI against this server ({@code headscale -c <config> args...}, over the unix socket) and
   * returns its standard output.
   *
   * @throws IllegalStateException with the CLI's standard error (keys redacted) if it exits non-zero
   */
  public String cli(String... args) {
    List<String> cmd = new ArrayList<>();
    cmd.add(binaries.headscale().toString());
    cmd.add("-c");
    cmd.add(configFile().toString());
    cmd.addAll(List.of(args));
    OneShotCommand.Result r = Local.run(cmd, env(), workDir, Duration.ofSeconds(60));
    if (!r.ok()) {
      throw new IllegalStateException("headscale " + String.join(" ", args) + " exited " + r.exitCode() + ": "
          + redact(r.stderr().strip()) + (r.stdout().isBlank() ? "" : " / " + redact(r.stdout().strip())));
    }
    return r.stdout();
  }

  /**
   * Calls the REST API with the admin key and returns the JSON body.
   *
   * @throws IllegalStateException on any status other than 200, with the status and the (redacted) body
   */
  public JsonNode api(String method, String path, String jsonBody) {
    return apiCall(method, path, jsonBody).require();
  }

  /** Calls the REST API with the admin key; any status. */
  public ApiResponse apiCall(String method, String path, String jsonBody) {
    String key = apiKey();
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl() + path))
        .timeout(Duration.ofSeconds(30))
        .header("Authorization", "Bearer " + key);
    if (jsonBody != null) {
      b.header("Content-Type", "application/json");
      b.method(method, HttpRequest.BodyPublishers.ofString(jsonBody));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      return new ApiResponse(method, path, r.statusCode(), r.body());
    } catch (IOException e) {
      throw new UncheckedIOException("headscale API " + method + " " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  /** A REST response: status and body. */
  public record ApiResponse(String method, String path, int status, String body) {
    /** The body as JSON if the status is 200; otherwise throws with the status and the redacted body. */
    public JsonNode require() {
      if (status != 200) {
        throw new IllegalStateException("headscale API " + method + " " + path + ": HTTP " + status + ": "
            + redact(body == null ? "" : body.strip()));
      }
      try {
        return JSON.readTree(body);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("headscale API " + method + " " + path + ": not JSON", e);
      }
    }
  }

  static String redact(String text) {
    return text == null ? null : SECRET.matcher(text).replaceAll("hskey-<redacted>");
  }

  // ------------------------------------------------------------------------------------------------ setup

  /** Environment of the server and CLI: nothing inherited; no update check even if a config were not found. */
  private Map<String, String> env() {
    return Map.of("HOME", workDir.toString(), "HEADSCALE_DISABLE_CHECK_UPDATES", "true");
  }

  private void configure() {
    Local.checkSocketPath(socket());
    port = cfg.port > 0 ? cfg.port : Local.freeTcpPort(cfg.listenAddress);
    stunPort = Local.freeUdpPort(cfg.listenAddress);
    if (cfg.policy != null && cfg.policyMode == PolicyMode.FILE) {
      Local.writeString(policyFile(), cfg.policy);
    }
    Local.writeString(configFile(), configYaml());
    configured = true;
  }

  /** The configuration file (hand-written for v0.29.2, {@code local-tailnet.md} §1.2). */
  String configYaml() {
    String listen = cfg.listenAddress + ":" + port;
    String policyPath = cfg.policy != null && cfg.policyMode == PolicyMode.FILE ? policyFile().toString() : "";
    return """
        # Generated by io.tailops.testkit.headscale.HeadscaleServer for headscale v0.29.x (loopback only).
        server_url: %s
        listen_addr: %s
        metrics_listen_addr: ""
        grpc_listen_addr: 127.0.0.1:0
        grpc_allow_insecure: false
        disable_check_updates: true
        unix_socket: %s
        unix_socket_permission: "0770"
        noise:
          private_key_path: %s
        prefixes:
          v4: 100.64.0.0/10
          v6: fd7a:115c:a1e0::/48
          allocation: sequential
        database:
          type: sqlite
          sqlite:
            path: %s
            write_ahead_log: true
        derp:
          server:
            enabled: true
            region_id: 999
            region_code: headscale
            region_name: Local DERP
            verify_clients: true
            stun_listen_addr: %s
            private_key_path: %s
            automatically_add_embedded_derp_region: true
            ipv4: %s
            ipv6: none
          urls: []
          paths: []
          auto_update_enabled: false
        dns:
          magic_dns: true
          base_domain: %s
          override_local_dns: false
          nameservers:
            global: []
            split: {}
          search_domains: []
          extra_records: []
        policy:
          mode: %s
          path: %s
        log:
          level: %s
          format: text
        logtail:
          enabled: false
        node:
          expiry: 0
          ephemeral:
            inactivity_timeout: %ds
        """.formatted(q(baseUrl()), q(listen), q(socket().toString()), q(workDir.resolve("noise.key").toString()),
        q(workDir.resolve("db.sqlite").toString()), q(cfg.listenAddress + ":" + stunPort),
        q(workDir.resolve("derp.key").toString()), cfg.listenAddress, q(cfg.baseDomain), cfg.policyMode == PolicyMode.FILE ? "file"
            : "database", q(policyPath), q(cfg.logLevel), cfg.ephemeralInactivityTimeout.toSeconds());
  }

  /** A YAML double-quoted scalar (JSON string syntax is valid YAML). */
  private static String q(String s) {
    try {
      return JSON.writeValueAsString(s);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private void awaitHealthy(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (healthy() && java.nio.file.Files.exists(socket())) {
        return;
      }
      if (!process.isAlive()) {
        throw new IllegalStateException("headscale exited with code " + process.exitCode()
            + " during start-up; last lines of " + logFile() + ":\n" + process.logTail(40));
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("headscale did not answer GET " + baseUrl() + "/health within " + timeout
            + "; last lines of " + logFile() + ":\n" + process.logTail(40));
      }
      WatchedProcess.sleep(100);
    }
  }

  static Instant time(JsonNode n) {
    if (n == null || !n.isTextual() || n.asText().isBlank() || n.asText().startsWith("0001-01-01")) {
      return null;
    }
    try {
      return OffsetDateTime.parse(n.asText()).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  @Override
  public String toString() {
    return "HeadscaleServer[" + (port > 0 ? baseUrl() : "not started") + ", " + workDir + "]";
  }

  /** Configuration of a {@link HeadscaleServer}. */
  public static final class Builder {
    private Path workDir;
    private boolean keepWorkDir = Boolean.getBoolean("tsop.tailnet.keep");
    private String baseDomain = "tailnet.test";
    private String listenAddress = "127.0.0.1";
    private String policy;
    private PolicyMode policyMode = PolicyMode.FILE;
    private String logLevel = "info";
    private int port;
    private Duration startupTimeout = Duration.ofSeconds(60);
    private Duration stopTimeout = Duration.ofSeconds(10);
    private Duration ephemeralInactivityTimeout = Duration.ofMinutes(30);
    private TailnetBinaries binaries;

    private Builder() {
    }

    /** Work folder (config, database, keys, socket, log); default a new short temporary folder, deleted on close. */
    public Builder workDir(Path dir) {
      this.workDir = dir;
      return this;
    }

    /**
     * Keep the temporary work folder after {@link HeadscaleServer#close()} (to read the log); default: the system
     * property {@code tsop.tailnet.keep} (also read by {@link TailnetClient} and {@link ContainerbootProcess}).
     */
    public Builder keepWorkDir(boolean keep) {
      this.keepWorkDir = keep;
      return this;
    }

    /**
     * The IPv4 address to listen on for HTTP (control, API, DERP) and STUN, also used in {@code server_url} and as the
     * embedded DERP node's pinned IPv4 (default {@code 127.0.0.1}). Give a local non-loopback address (e.g. the
     * bridge address of {@code io.tailops.testkit.podrunner.PodNetwork}) when nodes in other network namespaces must
     * reach headscale; the address must exist before {@link HeadscaleServer#start()}.
     */
    public Builder listenAddress(String ipv4) {
      if (ipv4 == null || !ipv4.matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
        throw new IllegalArgumentException("not an IPv4 address: " + ipv4);
      }
      this.listenAddress = ipv4;
      return this;
    }

    /** MagicDNS base domain (default {@code tailnet.test}). */
    public Builder baseDomain(String domain) {
      this.baseDomain = Objects.requireNonNull(domain, "domain");
      return this;
    }

    /**
     * A policy (HuJSON), e.g. {@link HeadscaleServer#OPERATOR_POLICY}. Default none: allow-all, no tagOwners, and
     * {@code GET /api/v1/policy} fails (file mode with an empty path).
     */
    public Builder policy(String hujson) {
      this.policy = hujson;
      return this;
    }

    /** Where the policy lives (default {@link PolicyMode#FILE}). */
    public Builder policyMode(PolicyMode mode) {
      this.policyMode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /** headscale's log level: panic, fatal, error, warn, info (default), debug, trace. */
    public Builder logLevel(String level) {
      this.logLevel = Objects.requireNonNull(level, "level");
      return this;
    }

    /** A fixed port (default: a free one, never 8080). */
    public Builder port(int port) {
      if (port == 8080) {
        throw new IllegalArgumentException("8080 is the official operator's metrics port; pick another");
      }
      this.port = port;
      return this;
    }

    public Builder startupTimeout(Duration timeout) {
      this.startupTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    public Builder stopTimeout(Duration timeout) {
      this.stopTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** How long an ephemeral node may be offline before headscale removes it (more than 65 s; default 30 min). */
    public Builder ephemeralInactivityTimeout(Duration timeout) {
      if (timeout.toSeconds() <= 65) {
        throw new IllegalArgumentException("headscale needs more than 65 s: " + timeout);
      }
      this.ephemeralInactivityTimeout = timeout;
      return this;
    }

    public Builder binaries(TailnetBinaries binaries) {
      this.binaries = binaries;
      return this;
    }

    public HeadscaleServer build() {
      return new HeadscaleServer(this);
    }

    /** {@link #build()} then {@link HeadscaleServer#start()}. */
    public HeadscaleServer start() {
      HeadscaleServer s = build();
      try {
        return s.start();
      } catch (RuntimeException | Error e) {
        s.close();
        throw e;
      }
    }
  }
}
