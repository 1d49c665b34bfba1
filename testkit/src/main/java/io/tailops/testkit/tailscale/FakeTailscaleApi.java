package io.tailops.testkit.tailscale;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Deque;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fake Tailscale API v2 server on loopback that honours the wire contract the operator depends on
 * (wire-contracts §1–2) and keeps real, thread-safe state: OAuth clients, access tokens, the policy's
 * {@code tagOwners}/{@code nodeAttrs}, auth keys and devices.
 *
 * <h2>Wire behaviour</h2>
 *
 * <ul>
 *   <li>{@code POST /api/v2/oauth/token}: client credentials either as HTTP Basic
 *       ({@code base64(urlencode(id):urlencode(secret))}) or in the form body ({@code client_id}, {@code client_secret});
 *       the client is identified by its secret (the ID may be a dummy, as in the real service). Each style can be
 *       switched off ({@link #rejectBasicClientAuth(boolean)}, {@link #rejectBodyClientAuth(boolean)}) to exercise the
 *       client's fallback. Answers {@code {"access_token","token_type":"Bearer","expires_in","scope","tags"}}.
 *   <li>API calls accept the access token as {@code Authorization: Bearer <token>} or as HTTP Basic username with an
 *       empty password. Requests need no {@code Content-Type}.
 *   <li>Success is always exactly 200. Errors are always JSON {@code {"message": "..."}} with the messages observed
 *       from the real service ({@link #MSG_TOKEN_INVALID}, {@link #MSG_FORBIDDEN}, {@link #MSG_NO_DEVICE},
 *       {@code requested tags [...] are invalid or not permitted}).
 *   <li>Scopes: creating, deleting, listing and reading keys need {@code auth_keys} ({@code auth_keys:read} suffices
 *       for reads); reading devices needs {@code devices:core:read} (implied by {@code devices:core}); deleting devices
 *       needs {@code devices:core}; reading the policy needs {@code policy_file:read} (implied by {@code policy_file}).
 *       {@code all} grants everything, {@code all:read} every read. Otherwise 403 {@link #MSG_FORBIDDEN}.
 *   <li>Key minting: tags are required; every requested tag must be well-formed and either one of the OAuth client's
 *       tags or owned by one of them in the policy's {@code tagOwners}; otherwise 400
 *       {@code requested tags [<offending tags, space-separated>] are invalid or not permitted}.
 * </ul>
 *
 * <h2>Test-facing API</h2>
 *
 * State can be read and changed directly: {@link #addOAuthClient}, {@link #setTagOwners}, {@link #registerDevice}
 * (what a proxy's tailscaled does when it logs in with an auth key), {@link #renameDevice}, {@link #setOnline},
 * {@link #deleteDeviceDirectly} (as in the admin console), {@link #addForeignDevice}, {@link #devices()},
 * {@link #keys()}. Time is the system clock plus an offset that {@link #advanceTime(Duration)} moves forward (token
 * and key expiry follow it). Calls are counted per {@link Endpoint} ({@link #calls(Endpoint)},
 * {@link #resetCallCounts()}) and recorded ({@link #requests(Endpoint)}). Faults are injected with
 * {@link #inject(Fault)}.
 *
 * <pre>{@code
 * try (FakeTailscaleApi fake = FakeTailscaleApi.start()) {
 *   OAuthClient client = fake.addOperatorClient();
 *   fake.inject(Fault.status(500)).on(Endpoint.CREATE_KEY).times(2);
 *   // point the code under test at fake.baseUrl() with client.id() / client.secret()
 * }
 * }</pre>
 */
public final class FakeTailscaleApi implements AutoCloseable {
  /** 401 message for bad client credentials and invalid or expired tokens. */
  public static final String MSG_TOKEN_INVALID = "API token invalid";
  /** 403 message for a missing scope. */
  public static final String MSG_FORBIDDEN =
      "calling actor does not have enough permissions to perform this function";
  /** 404 message for an unknown device. */
  public static final String MSG_NO_DEVICE = "no manageable device matching this ID found";
  /** 404 message for unknown paths and keys. */
  public static final String MSG_NOT_FOUND = "not found";

  /** Scope for creating, reading and deleting auth keys. */
  public static final String SCOPE_AUTH_KEYS = "auth_keys";
  /** Scope for reading and deleting devices. */
  public static final String SCOPE_DEVICES_CORE = "devices:core";
  /** Scope for Tailscale Services (accepted, no endpoint served yet). */
  public static final String SCOPE_SERVICES = "services";
  /** Scope for reading ({@code :read}) and approving a device's subnet routes. */
  public static final String SCOPE_DEVICES_ROUTES = "devices:routes";
  /** Scope for reading the policy file. */
  public static final String SCOPE_POLICY_READ = "policy_file:read";

  /** Default tailnet DNS domain. */
  public static final String DEFAULT_TAILNET_DOMAIN = "tailnet-abc.ts.net";
  /** Access-token lifetime of the real service. */
  public static final Duration DEFAULT_TOKEN_LIFETIME = Duration.ofHours(1);
  /** Default auth-key lifetime when the request has no {@code expirySeconds}. */
  public static final Duration DEFAULT_KEY_EXPIRY = Duration.ofDays(90);

  private static final Logger LOG = LoggerFactory.getLogger(FakeTailscaleApi.class);
  private static final Pattern TAG = Pattern.compile("tag:[A-Za-z][A-Za-z0-9-]*");
  private static final Pattern DESCRIPTION = Pattern.compile("[A-Za-z0-9 _-]{0,50}");
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
  private static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  private static final String ZERO_TIME = "0001-01-01T00:00:00Z";
  private static final int MAX_RECORDED = 10_000;

  private final ObjectMapper json = new ObjectMapper();
  private final ObjectMapper hujson = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_JAVA_COMMENTS, JsonReadFeature.ALLOW_TRAILING_COMMA)
      .build();
  private final HttpServer server;
  private final ExecutorService executor;

  // Configuration (volatile: read by handler threads, set by tests).
  private volatile String tailnetDomain = DEFAULT_TAILNET_DOMAIN;
  private volatile Duration tokenLifetime = DEFAULT_TOKEN_LIFETIME;
  private volatile boolean rejectBasic;
  private volatile boolean rejectBody;
  private volatile boolean policyIgnoresAccept;
  private volatile KeySecretSource keySecrets = KeySecretSource.NONE;
  private final Clock clock;

  // State, guarded by lock.
  private final Object lock = new Object();
  private Duration timeOffset = Duration.ZERO;
  private final Map<String, OAuthClient> clients = new LinkedHashMap<>();
  private final Map<String, TokenState> tokens = new HashMap<>();
  private final Map<String, KeyState> keys = new LinkedHashMap<>();
  private final Map<String, DeviceState> devices = new LinkedHashMap<>();
  private final FakeServices services = new FakeServices(json);
  private ObjectNode policy;
  private String policyHuJson;
  private int nextAddress = 1;

  // Observability, guarded by lock.
  private final Map<Endpoint, Integer> counts = new EnumMap<>(Endpoint.class);
  private int unmatchedCount;
  private final Deque<RecordedRequest> recorded = new ArrayDeque<>();

  // Faults.
  private final List<FaultInjection> faults = new CopyOnWriteArrayList<>();
  private final Object hangMonitor = new Object();
  private long hangGeneration;
  private volatile boolean closed;

  private FakeTailscaleApi(Clock clock) throws IOException {
    this.clock = clock;
    this.policy = defaultPolicy();
    AtomicInteger threads = new AtomicInteger();
    this.executor = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "fake-tailscale-api-" + threads.incrementAndGet());
      t.setDaemon(true);
      return t;
    });
    this.server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    server.setExecutor(executor);
    server.createContext("/", this::handle);
    server.start();
    LOG.debug("fake Tailscale API listening on {}", baseUrl());
  }

  /** Starts a fake on 127.0.0.1 with a random free port, the system clock and the default policy. */
  public static FakeTailscaleApi start() {
    return start(Clock.systemUTC());
  }

  /** Starts a fake whose time is {@code clock} (plus {@link #advanceTime(Duration)} offsets). */
  public static FakeTailscaleApi start(Clock clock) {
    try {
      return new FakeTailscaleApi(Objects.requireNonNull(clock, "clock"));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start fake Tailscale API", e);
    }
  }

  /** Base URL without trailing slash, e.g. {@code http://127.0.0.1:43121}; use it as the login server. */
  public String baseUrl() {
    return "http://127.0.0.1:" + port();
  }

  /** {@link #baseUrl()} as a URI. */
  public URI baseUri() {
    return URI.create(baseUrl());
  }

  /** The TCP port. */
  public int port() {
    return server.getAddress().getPort();
  }

  /** Stops the server, releasing hung requests first. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    releaseHangs();
    server.stop(0);
    executor.shutdownNow();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Configuration

  /** Sets the tailnet DNS domain used for new MagicDNS names (default {@value #DEFAULT_TAILNET_DOMAIN}). */
  public FakeTailscaleApi tailnetDomain(String domain) {
    this.tailnetDomain = Objects.requireNonNull(domain, "domain");
    return this;
  }

  /** The tailnet DNS domain. */
  public String tailnetDomain() {
    return tailnetDomain;
  }

  /** Lifetime of new access tokens (default one hour). */
  public FakeTailscaleApi tokenLifetime(Duration lifetime) {
    if (lifetime.isNegative() || lifetime.isZero()) {
      throw new IllegalArgumentException("token lifetime must be positive");
    }
    this.tokenLifetime = lifetime;
    return this;
  }

  /** When true, token requests with credentials in HTTP Basic get 401, forcing the form-body fallback. */
  public FakeTailscaleApi rejectBasicClientAuth(boolean reject) {
    this.rejectBasic = reject;
    return this;
  }

  /** When true, token requests with credentials in the form body get 401. */
  public FakeTailscaleApi rejectBodyClientAuth(boolean reject) {
    this.rejectBody = reject;
    return this;
  }

  /**
   * Where the secrets of keys created through the API come from. By default the fake makes them up
   * ({@code tskey-auth-…}); a source may mint them elsewhere instead, e.g. as real headscale pre-auth keys, so that a
   * real tailscaled (the official operator's own tsnet node) can log in with a key it got from this API. The fake still
   * records the key (ID, tags, expiry, uses) as for any other.
   */
  public FakeTailscaleApi keySecrets(KeySecretSource source) {
    this.keySecrets = Objects.requireNonNull(source, "source");
    return this;
  }

  /** Mints the secret of a key requested through the API somewhere else; see {@link #keySecrets}. */
  @FunctionalInterface
  public interface KeySecretSource {
    /** The fake's own secrets. */
    KeySecretSource NONE = (tags, reusable, ephemeral, expiry) -> Optional.empty();

    /** The secret of a new key with these properties, or empty to let the fake make one up. */
    Optional<String> secret(List<String> tags, boolean reusable, boolean ephemeral, Duration expiry);
  }

  /** Moves the fake's clock forward (tokens and keys expire accordingly). */
  public FakeTailscaleApi advanceTime(Duration by) {
    if (by.isNegative()) {
      throw new IllegalArgumentException("time only moves forward");
    }
    synchronized (lock) {
      timeOffset = timeOffset.plus(by);
    }
    return this;
  }

  /** The fake's current time. */
  public Instant now() {
    synchronized (lock) {
      return clock.instant().plus(timeOffset);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // OAuth clients and tokens

  /**
   * Adds an OAuth client with a generated ID ({@code k<random>CNTRL}) and secret
   * ({@code tskey-client-<id>-<random>}).
   */
  public OAuthClient addOAuthClient(Collection<String> scopes, Collection<String> tags) {
    String id = "k" + random(10) + "CNTRL";
    return addOAuthClient(id, "tskey-client-" + id + "-" + random(30), scopes, tags);
  }

  /** Adds an OAuth client with the given credentials (replacing one with the same ID). */
  public OAuthClient addOAuthClient(String id, String secret, Collection<String> scopes, Collection<String> tags) {
    OAuthClient c = new OAuthClient(id, secret, new LinkedHashSet<>(scopes), new ArrayList<>(tags));
    synchronized (lock) {
      clients.put(id, c);
    }
    return c;
  }

  /**
   * Adds the OAuth client the operator's install guide asks for: scopes {@code auth_keys}, {@code devices:core},
   * {@code services}, tag {@code tag:k8s-operator}.
   */
  public OAuthClient addOperatorClient() {
    return addOAuthClient(List.of(SCOPE_AUTH_KEYS, SCOPE_DEVICES_CORE, SCOPE_SERVICES), List.of("tag:k8s-operator"));
  }

  /** Deletes an OAuth client; its secret and all its tokens stop working. */
  public boolean removeOAuthClient(String id) {
    synchronized (lock) {
      tokens.values().removeIf(t -> t.clientId.equals(id));
      return clients.remove(id) != null;
    }
  }

  /** The OAuth clients. */
  public List<OAuthClient> oauthClients() {
    synchronized (lock) {
      return List.copyOf(clients.values());
    }
  }

  /** Invalidates every access token issued so far (API calls with them get 401). */
  public void revokeAllTokens() {
    synchronized (lock) {
      tokens.clear();
    }
  }

  /** How many access tokens are currently valid. */
  public int activeTokens() {
    synchronized (lock) {
      Instant now = nowLocked();
      return (int) tokens.values().stream().filter(t -> t.expires.isAfter(now)).count();
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Policy

  /**
   * Replaces {@code tagOwners}. The default policy makes {@code tag:k8s-operator} the owner of {@code tag:k8s} and
   * {@code tag:k8s-recorder}, as the install guide says.
   */
  public FakeTailscaleApi setTagOwners(Map<String, ? extends Collection<String>> tagOwners) {
    ObjectNode owners = json.createObjectNode();
    tagOwners.forEach((tag, list) -> {
      ArrayNode a = owners.putArray(tag);
      list.forEach(a::add);
    });
    synchronized (lock) {
      policy.set("tagOwners", owners);
      policyHuJson = null;
    }
    return this;
  }

  /** Sets the owners of one tag, keeping the other entries. */
  public FakeTailscaleApi tagOwner(String tag, String... owners) {
    synchronized (lock) {
      JsonNode existing = policy.get("tagOwners");
      ObjectNode to = existing instanceof ObjectNode o ? o : policy.putObject("tagOwners");
      ArrayNode a = to.putArray(tag);
      for (String o : owners) {
        a.add(o);
      }
      policyHuJson = null;
    }
    return this;
  }

  /** Adds a {@code nodeAttrs} entry, e.g. {@code addNodeAttr(List.of("tag:k8s"), List.of("funnel"))}. */
  public FakeTailscaleApi addNodeAttr(List<String> target, List<String> attr) {
    synchronized (lock) {
      JsonNode existing = policy.get("nodeAttrs");
      ArrayNode list = existing instanceof ArrayNode a ? a : policy.putArray("nodeAttrs");
      ObjectNode entry = list.addObject();
      target.forEach(entry.putArray("target")::add);
      attr.forEach(entry.putArray("attr")::add);
      policyHuJson = null;
    }
    return this;
  }

  /** Removes every {@code nodeAttrs} entry. */
  public FakeTailscaleApi clearNodeAttrs() {
    synchronized (lock) {
      policy.remove("nodeAttrs");
      policyHuJson = null;
    }
    return this;
  }

  /**
   * Replaces the whole policy with a HuJSON document (JSON plus comments and trailing commas). The text is served
   * verbatim when a client asks for {@code application/hujson} or when {@link #policyIgnoresAccept(boolean)} is set;
   * otherwise it is served as plain JSON.
   */
  public FakeTailscaleApi setPolicyHuJson(String text) {
    JsonNode parsed;
    try {
      parsed = hujson.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not valid HuJSON: " + e.getOriginalMessage(), e);
    }
    if (!(parsed instanceof ObjectNode o)) {
      throw new IllegalArgumentException("policy must be a JSON object");
    }
    synchronized (lock) {
      policy = o;
      policyHuJson = text;
    }
    return this;
  }

  /** When true, {@code GET /acl} answers HuJSON even to {@code Accept: application/json}. */
  public FakeTailscaleApi policyIgnoresAccept(boolean ignore) {
    this.policyIgnoresAccept = ignore;
    return this;
  }

  /** The current policy as compact JSON. */
  public String policyJson() {
    synchronized (lock) {
      return policy.toString();
    }
  }

  /** The current {@code tagOwners}. */
  public Map<String, List<String>> tagOwners() {
    synchronized (lock) {
      return tagOwnersLocked();
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Keys and devices

  /** Mints a key directly (as an admin would in the console), bypassing scopes and tag rules. */
  public FakeAuthKey mintKey(List<String> tags, boolean reusable, boolean ephemeral, boolean preauthorized,
      Duration expiry) {
    synchronized (lock) {
      return newKeyLocked(tags, reusable, ephemeral, preauthorized, "", expiry, null).snapshot();
    }
  }

  /** As {@link #mintKey(List, boolean, boolean, boolean, Duration)}, with a description (e.g. another client's). */
  public FakeAuthKey mintKey(List<String> tags, boolean reusable, boolean ephemeral, boolean preauthorized,
      String description, Duration expiry) {
    synchronized (lock) {
      return newKeyLocked(tags, reusable, ephemeral, preauthorized, description, expiry, null).snapshot();
    }
  }

  /** All keys ever minted (including revoked and used ones), oldest first. */
  public List<FakeAuthKey> keys() {
    synchronized (lock) {
      return keys.values().stream().map(KeyState::snapshot).toList();
    }
  }

  /** One key by ID. */
  public Optional<FakeAuthKey> key(String id) {
    synchronized (lock) {
      return Optional.ofNullable(keys.get(id)).map(KeyState::snapshot);
    }
  }

  /** Revokes a key (as if deleted in the admin console); returns false if unknown. */
  public boolean revokeKey(String id) {
    synchronized (lock) {
      KeyState k = keys.get(id);
      if (k == null) {
        return false;
      }
      if (k.revoked == null) {
        k.revoked = nowLocked();
      }
      return true;
    }
  }

  /**
   * Registers a device the way tailscaled does when it logs in with an auth key: the key must exist, not be revoked
   * or expired, and a single-use key must not have been used before. The device gets the key's tags, a node ID
   * {@code n<random>CNTRL}, a numeric ID, the next 100.x/fd7a:115c:a1e0:: addresses, and the MagicDNS name
   * {@code <label>.<tailnet domain>} where the label is the sanitised hostname, with {@code -1}, {@code -2}, … appended
   * when another device already has that label (as the control plane does). The device is online.
   *
   * @throws RegistrationException when the control plane would refuse the login
   */
  public FakeDevice registerDevice(String authKeySecret, String hostname) {
    synchronized (lock) {
      KeyState k = null;
      for (KeyState candidate : keys.values()) {
        if (candidate.secret.equals(authKeySecret)) {
          k = candidate;
          break;
        }
      }
      if (k == null) {
        throw new RegistrationException(RegistrationException.Reason.UNKNOWN_KEY,
            "invalid key: no auth key matches the given secret");
      }
      Instant now = nowLocked();
      if (k.revoked != null) {
        throw new RegistrationException(RegistrationException.Reason.REVOKED,
            "invalid key: auth key " + k.id + " was revoked at " + k.revoked);
      }
      if (!now.isBefore(k.expires)) {
        throw new RegistrationException(RegistrationException.Reason.EXPIRED,
            "invalid key: auth key " + k.id + " expired at " + k.expires);
      }
      if (!k.reusable && k.uses > 0) {
        throw new RegistrationException(RegistrationException.Reason.ALREADY_USED,
            "invalid key: auth key " + k.id + " is single-use and was already used");
      }
      k.uses++;
      DeviceState d = newDeviceLocked(hostname, k.tags, k.ephemeral, k.preauthorized, k.id,
          k.tags.isEmpty() ? "admin@example.com" : "tagged-devices");
      return d.snapshot(now);
    }
  }

  /**
   * Adds a device not created through this operator (another user's laptop, a device with arbitrary or no tags).
   * Untagged devices belong to {@code user@example.com}.
   */
  public FakeDevice addForeignDevice(String hostname, List<String> tags) {
    synchronized (lock) {
      DeviceState d = newDeviceLocked(hostname, tags, false, true, null,
          tags.isEmpty() ? "user@example.com" : "tagged-devices");
      return d.snapshot(nowLocked());
    }
  }

  /**
   * Renames a device as in the admin console: the MagicDNS name becomes {@code <label>.<tailnet domain>}.
   *
   * @param newLabel a DNS label (a full name's first label is used)
   * @throws IllegalArgumentException for an unknown device, an invalid label or a label another device has
   */
  public FakeDevice renameDevice(String nodeId, String newLabel) {
    String label = newLabel.toLowerCase(Locale.ROOT);
    int dot = label.indexOf('.');
    if (dot >= 0) {
      label = label.substring(0, dot);
    }
    if (!DNS_LABEL.matcher(label).matches()) {
      throw new IllegalArgumentException("not a valid DNS label: " + newLabel);
    }
    synchronized (lock) {
      DeviceState d = requireDeviceLocked(nodeId);
      for (DeviceState other : devices.values()) {
        if (other != d && other.label.equals(label)) {
          throw new IllegalArgumentException("name " + label + " is already used by device " + other.nodeId);
        }
      }
      d.label = label;
      d.domain = tailnetDomain;
      return d.snapshot(nowLocked());
    }
  }

  /** Marks a device connected or disconnected; {@code lastSeen} becomes now. */
  public FakeDevice setOnline(String nodeId, boolean online) {
    synchronized (lock) {
      DeviceState d = requireDeviceLocked(nodeId);
      d.online = online;
      d.lastSeen = nowLocked();
      return d.snapshot(d.lastSeen);
    }
  }

  /** Deletes a device as if removed in the admin console; false when unknown. */
  public boolean deleteDeviceDirectly(String nodeId) {
    synchronized (lock) {
      DeviceState d = findDeviceLocked(nodeId);
      return d != null && devices.remove(d.nodeId) != null;
    }
  }

  /** Removes offline ephemeral devices, as the control plane does some time after they disconnect. */
  public int reapOfflineEphemeralDevices() {
    synchronized (lock) {
      int before = devices.size();
      devices.values().removeIf(d -> d.ephemeral && !d.online);
      return before - devices.size();
    }
  }

  /** The Tailscale Services, as the API returns them (E4 objects). */
  public List<JsonNode> services() {
    synchronized (lock) {
      return List.copyOf(services.list());
    }
  }

  /** One Tailscale Service ({@code svc:<label>}), as the API returns it. */
  public Optional<JsonNode> service(String name) {
    synchronized (lock) {
      return services.get(name).map(n -> (JsonNode) n);
    }
  }

  /**
   * Creates or replaces a Tailscale Service as someone else would (the admin console, another tool): {@code body} is
   * the API object; returns the stored one.
   */
  public JsonNode putServiceDirectly(String name, String body) {
    try {
      JsonNode req = json.readTree(body);
      synchronized (lock) {
        return services.put(name, req);
      }
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }

  /** All devices, in registration order. */
  public List<FakeDevice> devices() {
    synchronized (lock) {
      Instant now = nowLocked();
      return devices.values().stream().map(d -> d.snapshot(now)).toList();
    }
  }

  /** One device by node ID or numeric ID. */
  public Optional<FakeDevice> device(String id) {
    synchronized (lock) {
      return Optional.ofNullable(findDeviceLocked(id)).map(d -> d.snapshot(nowLocked()));
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Subnet routes, exit nodes and app connectors

  /**
   * What the control plane learns when a device's tailscaled advertises {@code routes} (its config's
   * {@code AdvertiseRoutes}): they replace what it advertised before, and routes that it newly advertises and that the
   * policy's {@code autoApprovers} allow for the device's tags are approved at once, as Tailscale does ({@code routes}
   * entries approve every route within them; {@code exitNode} approves {@code 0.0.0.0/0} and {@code ::/0}). Routes
   * approved earlier stay approved.
   *
   * @throws IllegalArgumentException for an unknown device
   */
  public FakeRoutes advertiseRoutes(String nodeId, List<String> routes) {
    synchronized (lock) {
      DeviceState d = requireDeviceLocked(nodeId);
      List<String> enabled = new ArrayList<>(d.enabledRoutes);
      for (String r : routes) {
        if (!d.advertisedRoutes.contains(r) && !enabled.contains(r) && autoApprovedLocked(r, d.tags)) {
          enabled.add(r);
        }
      }
      d.advertisedRoutes = List.copyOf(routes);
      d.enabledRoutes = List.copyOf(enabled);
      return new FakeRoutes(d.advertisedRoutes, d.enabledRoutes);
    }
  }

  /** Approves exactly {@code routes} for a device, as an admin in the console would. */
  public FakeRoutes approveRoutes(String nodeId, List<String> routes) {
    synchronized (lock) {
      DeviceState d = requireDeviceLocked(nodeId);
      d.enabledRoutes = List.copyOf(routes);
      return new FakeRoutes(d.advertisedRoutes, d.enabledRoutes);
    }
  }

  /** A device's advertised and approved routes. */
  public FakeRoutes routes(String nodeId) {
    synchronized (lock) {
      DeviceState d = requireDeviceLocked(nodeId);
      return new FakeRoutes(d.advertisedRoutes, d.enabledRoutes);
    }
  }

  /** Adds {@code "autoApprovers": {"routes": {route: owners}}} to the policy (owners: tags). */
  public FakeTailscaleApi autoApproveRoutes(String route, String... owners) {
    synchronized (lock) {
      ArrayNode list = autoApproversLocked().with("routes").withArray(route);
      for (String o : owners) {
        list.add(o);
      }
      policyHuJson = null;
    }
    return this;
  }

  /** Adds {@code "autoApprovers": {"exitNode": owners}} to the policy. */
  public FakeTailscaleApi autoApproveExitNode(String... owners) {
    synchronized (lock) {
      ArrayNode list = autoApproversLocked().withArray("exitNode");
      for (String o : owners) {
        list.add(o);
      }
      policyHuJson = null;
    }
    return this;
  }

  /**
   * Adds an app connector definition to the policy: {@code "nodeAttrs": [{"target": ["*"], "app":
   * {"tailscale.com/app-connectors": [{"name", "connectors", "domains"}]}}]}.
   */
  public FakeTailscaleApi addAppConnector(String name, List<String> connectors, List<String> domains) {
    synchronized (lock) {
      JsonNode existing = policy.get("nodeAttrs");
      ArrayNode attrs = existing instanceof ArrayNode a ? a : policy.putArray("nodeAttrs");
      ObjectNode entry = attrs.addObject();
      entry.putArray("target").add("*");
      ObjectNode app = entry.putObject("app").putArray("tailscale.com/app-connectors").addObject();
      app.put("name", name);
      connectors.forEach(app.putArray("connectors")::add);
      domains.forEach(app.putArray("domains")::add);
      policyHuJson = null;
    }
    return this;
  }

  private ObjectNode autoApproversLocked() {
    JsonNode existing = policy.get("autoApprovers");
    return existing instanceof ObjectNode o ? o : policy.putObject("autoApprovers");
  }

  private boolean autoApprovedLocked(String route, List<String> deviceTags) {
    FakeRoutes.Prefix p = FakeRoutes.parse(route);
    if (p == null) {
      return false;
    }
    JsonNode aa = policy.path("autoApprovers");
    if (p.bits() == 0) {
      return owns(aa.path("exitNode"), deviceTags);
    }
    Iterator<Map.Entry<String, JsonNode>> it = aa.path("routes").properties().iterator();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      FakeRoutes.Prefix outer = FakeRoutes.parse(e.getKey());
      if (outer != null && outer.contains(p) && owns(e.getValue(), deviceTags)) {
        return true;
      }
    }
    return false;
  }

  private static boolean owns(JsonNode owners, List<String> deviceTags) {
    for (JsonNode o : owners) {
      if (deviceTags.contains(o.asText())) {
        return true;
      }
    }
    return false;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Counters and recorded requests

  /** How many requests reached {@code endpoint} since start or the last {@link #resetCallCounts()}. */
  public int calls(Endpoint endpoint) {
    synchronized (lock) {
      return counts.getOrDefault(endpoint, 0);
    }
  }

  /**
   * Calls by method and path template, e.g. {@code calls("GET", "/api/v2/device/{id}")}; the same strings the
   * operator's metrics use. Unknown combinations count 0.
   */
  public int calls(String method, String template) {
    for (Endpoint e : Endpoint.values()) {
      if (e.method().equalsIgnoreCase(method) && e.template().equals(template)) {
        return calls(e);
      }
    }
    return 0;
  }

  /** Call counts per endpoint (endpoints never called are absent). */
  public Map<Endpoint, Integer> callCounts() {
    synchronized (lock) {
      return Map.copyOf(counts);
    }
  }

  /** Requests to paths that match no endpoint. */
  public int unmatchedCalls() {
    synchronized (lock) {
      return unmatchedCount;
    }
  }

  /** All requests, matched or not. */
  public int totalCalls() {
    synchronized (lock) {
      return counts.values().stream().mapToInt(Integer::intValue).sum() + unmatchedCount;
    }
  }

  /** Zeroes every counter and forgets recorded requests. */
  public void resetCallCounts() {
    synchronized (lock) {
      counts.clear();
      unmatchedCount = 0;
      recorded.clear();
    }
  }

  /** The most recent requests (up to 10,000), oldest first. */
  public List<RecordedRequest> requests() {
    synchronized (lock) {
      return List.copyOf(recorded);
    }
  }

  /** The recorded requests to one endpoint, oldest first. */
  public List<RecordedRequest> requests(Endpoint endpoint) {
    synchronized (lock) {
      return recorded.stream().filter(r -> r.endpoint() == endpoint).toList();
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Faults

  /** Starts injecting {@code fault}; choose the target and duration on the returned object. */
  public FaultInjection inject(Fault fault) {
    return new FaultInjection(this, fault);
  }

  /** Removes every injected fault (hung requests stay hung until {@link #releaseHangs()}). */
  public void clearFaults() {
    faults.forEach(FaultInjection::clear);
    faults.clear();
  }

  /** Lets every request currently held by a {@link Fault#hang()} go (their connections are dropped). */
  public void releaseHangs() {
    synchronized (hangMonitor) {
      hangGeneration++;
      hangMonitor.notifyAll();
    }
  }

  void register(FaultInjection injection) {
    faults.add(injection);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // HTTP handling

  private void handle(HttpExchange ex) {
    long generation;
    synchronized (hangMonitor) {
      generation = hangGeneration;
    }
    try (ex) {
      byte[] bodyBytes;
      try (InputStream in = ex.getRequestBody()) {
        bodyBytes = in.readAllBytes();
      }
      String method = ex.getRequestMethod().toUpperCase(Locale.ROOT);
      URI uri = ex.getRequestURI();
      List<String> segments = segments(uri.getRawPath());
      Route route = route(method, segments);
      Endpoint endpoint = route == null ? null : route.endpoint;
      record(ex, endpoint, method, uri, bodyBytes);

      Fault fault = pickFault(endpoint);
      if (fault != null && !applyFault(ex, fault, generation, endpoint)) {
        return;
      }
      try {
        if (route == null) {
          throw unknownRoute(method, segments);
        }
        dispatch(ex, route, new String(bodyBytes, StandardCharsets.UTF_8), query(uri.getRawQuery()));
      } catch (ApiError e) {
        sendError(ex, e.status, e.getMessage(), null);
      } catch (RuntimeException e) {
        LOG.warn("fake Tailscale API: internal error", e);
        sendError(ex, 500, "internal error in the fake: " + e, null); // errors are always JSON
      }
    } catch (IOException e) {
      LOG.debug("fake Tailscale API: I/O error while answering: {}", e.toString());
    } catch (RuntimeException e) {
      LOG.warn("fake Tailscale API: internal error", e);
    }
  }

  /** Returns false when the request was answered (or dropped) by the fault. */
  private boolean applyFault(HttpExchange ex, Fault fault, long generation, Endpoint endpoint) throws IOException {
    if (fault.isHang()) {
      synchronized (hangMonitor) {
        while (!closed && hangGeneration == generation) {
          try {
            hangMonitor.wait();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            break;
          }
        }
      }
      return false; // closing the exchange without headers drops the connection
    }
    if (!fault.delay().isZero()) {
      try {
        Thread.sleep(fault.delay().toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    if (fault.status() == 0) {
      return true;
    }
    String message = fault.message();
    if (fault.status() == 404 && (endpoint == Endpoint.GET_DEVICE || endpoint == Endpoint.DELETE_DEVICE)
        && message.equals(MSG_NOT_FOUND)) {
      message = MSG_NO_DEVICE;
    }
    sendError(ex, fault.status(), message, fault.retryAfter());
    return false;
  }

  private Fault pickFault(Endpoint endpoint) {
    for (FaultInjection f : faults) {
      if (f.tryFire(endpoint)) {
        faults.removeIf(FaultInjection::isExhausted);
        return f.fault();
      }
    }
    return null;
  }

  private void record(HttpExchange ex, Endpoint endpoint, String method, URI uri, byte[] body) {
    Map<String, List<String>> headers = new LinkedHashMap<>();
    ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(Locale.ROOT), List.copyOf(v)));
    synchronized (lock) {
      if (endpoint == null) {
        unmatchedCount++;
      } else {
        counts.merge(endpoint, 1, Integer::sum);
      }
      recorded.addLast(new RecordedRequest(endpoint, method, uri.getRawPath(), uri.getRawQuery(), headers,
          new String(body, StandardCharsets.UTF_8), nowLocked()));
      while (recorded.size() > MAX_RECORDED) {
        recorded.removeFirst();
      }
    }
  }

  private void dispatch(HttpExchange ex, Route route, String body, Map<String, String> query) throws IOException {
    switch (route.endpoint) {
      case TOKEN -> token(ex, body);
      case CREATE_KEY -> createKey(ex, body);
      case LIST_KEYS -> listKeys(ex, query);
      case GET_KEY -> getKey(ex, route.param);
      case DELETE_KEY -> deleteKey(ex, route.param);
      case GET_DEVICE -> getDevice(ex, route.param, query);
      case DELETE_DEVICE -> deleteDevice(ex, route.param);
      case LIST_DEVICES -> listDevices(ex, query);
      case GET_POLICY -> getPolicy(ex);
      case GET_SERVICE -> getService(ex, route.param);
      case PUT_SERVICE -> putService(ex, route.param, body);
      case DELETE_SERVICE -> deleteService(ex, route.param);
      case LIST_SERVICES -> listServices(ex);
      case GET_DEVICE_ROUTES -> getDeviceRoutes(ex, route.param);
      case SET_DEVICE_ROUTES -> setDeviceRoutes(ex, route.param, body);
      default -> throw new ApiError(404, MSG_NOT_FOUND);
    }
  }

  private void token(HttpExchange ex, String body) throws IOException {
    Map<String, String> form = query(body);
    String grantType = form.get("grant_type");
    if (grantType != null && !grantType.equals("client_credentials")) {
      throw new ApiError(400, "unsupported grant_type " + grantType);
    }
    String secret = null;
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    boolean basic = false;
    if (auth != null && auth.regionMatches(true, 0, "Basic ", 0, 6)) {
      String[] userPass = decodeBasic(auth.substring(6).trim());
      if (userPass != null) {
        basic = true;
        secret = URLDecoder.decode(userPass[1], StandardCharsets.UTF_8);
      }
    }
    if (form.containsKey("client_secret")) {
      if (rejectBody) {
        throw new ApiError(401, MSG_TOKEN_INVALID);
      }
      secret = form.get("client_secret");
    } else if (basic && rejectBasic) {
      throw new ApiError(401, MSG_TOKEN_INVALID);
    }
    if (secret == null || secret.isEmpty()) {
      throw new ApiError(401, MSG_TOKEN_INVALID);
    }
    ObjectNode out = json.createObjectNode();
    synchronized (lock) {
      OAuthClient client = null;
      for (OAuthClient c : clients.values()) {
        if (c.secret().equals(secret)) {
          client = c;
          break;
        }
      }
      if (client == null) {
        throw new ApiError(401, MSG_TOKEN_INVALID);
      }
      String token = "tskey-api-k" + random(10) + "CNTRL-" + random(30);
      Duration lifetime = tokenLifetime;
      tokens.put(token, new TokenState(client.id(), nowLocked().plus(lifetime)));
      out.put("access_token", token);
      out.put("token_type", "Bearer");
      out.put("expires_in", lifetime.toSeconds());
      out.put("scope", String.join(" ", client.scopes()));
      out.put("tags", String.join(" ", client.tags()));
    }
    sendJson(ex, out);
  }

  private void createKey(HttpExchange ex, String body) throws IOException {
    OAuthClient client = authenticate(ex);
    requireScope(client, SCOPE_AUTH_KEYS);
    JsonNode req;
    try {
      req = body.isBlank() ? null : json.readTree(body);
    } catch (JsonProcessingException e) {
      throw new ApiError(400, "invalid JSON request body");
    }
    if (req == null || !req.isObject()) {
      throw new ApiError(400, "invalid JSON request body");
    }
    String keyType = req.path("keyType").asText("");
    if (!keyType.isEmpty() && !keyType.equals("auth")) {
      throw new ApiError(400, "keyType " + keyType + " is not supported by this fake");
    }
    JsonNode create = req.path("capabilities").path("devices").path("create");
    JsonNode tagsNode = create.path("tags");
    List<String> tags = new ArrayList<>();
    if (tagsNode.isArray()) {
      for (JsonNode t : tagsNode) {
        tags.add(t.asText());
      }
    } else if (!tagsNode.isMissingNode() && !tagsNode.isNull()) {
      throw new ApiError(400, "capabilities.devices.create.tags must be an array of strings");
    }
    String description = req.path("description").asText("");
    if (!DESCRIPTION.matcher(description).matches()) {
      throw new ApiError(400,
          "description must be at most 50 characters of letters, digits, hyphens, underscores and spaces");
    }
    long expirySeconds = req.path("expirySeconds").asLong(0);
    if (expirySeconds < 0) {
      throw new ApiError(400, "expirySeconds must not be negative");
    }
    Duration expiry = expirySeconds == 0 ? DEFAULT_KEY_EXPIRY : Duration.ofSeconds(expirySeconds);
    boolean reusable = create.path("reusable").asBoolean(false);
    boolean ephemeral = create.path("ephemeral").asBoolean(false);
    synchronized (lock) {
      List<String> refused = refusedTagsLocked(client, tags);
      if (tags.isEmpty() || !refused.isEmpty()) {
        throw new ApiError(400, "requested tags [" + String.join(" ", refused) + "] are invalid or not permitted");
      }
    }
    String external = keySecrets.secret(List.copyOf(tags), reusable, ephemeral, expiry).orElse(null);
    ObjectNode out;
    synchronized (lock) {
      KeyState k = newKeyLocked(tags, reusable, ephemeral, create.path("preauthorized").asBoolean(false), description,
          expiry, client.id(), external);
      out = keyJson(k);
      out.put("key", k.secret);
    }
    sendJson(ex, out);
  }

  private void listKeys(HttpExchange ex, Map<String, String> query) throws IOException {
    OAuthClient client = authenticate(ex);
    requireScope(client, SCOPE_AUTH_KEYS + ":read");
    boolean all = "true".equals(query.get("all"));
    ObjectNode out = json.createObjectNode();
    ArrayNode arr = out.putArray("keys");
    synchronized (lock) {
      Instant now = nowLocked();
      for (KeyState k : keys.values()) {
        if (all || (k.revoked == null && now.isBefore(k.expires))) {
          arr.addObject().put("id", k.id); // the list names the keys; GET /keys/{id} tells the rest
        }
      }
    }
    sendJson(ex, out);
  }

  private void getKey(HttpExchange ex, String id) throws IOException {
    OAuthClient client = authenticate(ex);
    requireScope(client, SCOPE_AUTH_KEYS + ":read");
    ObjectNode out;
    synchronized (lock) {
      KeyState k = keys.get(id);
      if (k == null) {
        throw new ApiError(404, MSG_NOT_FOUND);
      }
      out = keyJson(k);
    }
    sendJson(ex, out);
  }

  private void deleteKey(HttpExchange ex, String id) throws IOException {
    OAuthClient client = authenticate(ex);
    requireScope(client, SCOPE_AUTH_KEYS);
    synchronized (lock) {
      KeyState k = keys.get(id);
      if (k == null) {
        throw new ApiError(404, MSG_NOT_FOUND);
      }
      if (k.revoked == null) {
        k.revoked = nowLocked();
      }
    }
    sendEmpty(ex);
  }

  private void getDevice(HttpExchange ex, String id, Map<String, String> query) throws IOException {
    OAuthClient client = authenticate(ex);
    requireScope(client, SCOPE_DEVICES_CORE + ":read");
    boolean all = "all".equals(query.get("fields"));
    ObjectNode out;
    synchronized (lock) {
      DeviceState d = findDeviceLocked(id);
      if (d == null) {
        throw new ApiError(404, MSG_NO_DEVICE);
      }
      out = deviceJson(d, all, nowLocked());
    }
    sendJson(ex, out);
  }

  private void deleteDevice(HttpExchange ex, String id) throws IOException {
    OAuthClient client = authenticate(ex);
    requireScope(client, SCOPE_DEVICES_CORE);
    synchronized (lock) {
      DeviceState d = findDeviceLocked(id);
      if (d == null) {
        throw new ApiError(404, MSG_NO_DEVICE);
      }
      devices.remove(d.nodeId);
    }
    sendEmpty(ex);
  }

  private void listDevices(HttpExchange ex, Map<String, String> query) throws IOException {
    OAuthClient client = authenticate(ex);
    requireScope(client, SCOPE_DEVICES_CORE + ":read");
    boolean all = "all".equals(query.get("fields"));
    ObjectNode out = json.createObjectNode();
    ArrayNode arr = out.putArray("devices");
    synchronized (lock) {
      Instant now = nowLocked();
      for (DeviceState d : devices.values()) {
        arr.add(deviceJson(d, all, now));
      }
    }
    sendJson(ex, out);
  }

  private void getService(HttpExchange ex, String name) throws IOException {
    OAuthClient client = authenticate(ex);
    requireScope(client, SCOPE_SERVICES + ":read");
    ObjectNode out;
    synchronized (lock) {
      out = services.get(name).orElseThrow(() -> new ApiError(404, MSG_NOT_FOUND));
    }
    sendJson(ex, out);
  }

  private void putService(HttpExchange ex, String name, String body) throws IOException {
    OAuthClient client = authenticate(ex);
    requireScope(client, SCOPE_SERVICES);
    JsonNode req;
    try {
      req = body.isBlank() ? null : json.readTree(body);
    } catch (JsonProcessingException e) {
      throw new ApiError(400, "invalid JSON request body");
    }
    ObjectNode out;
    synchronized (lock) {
      try {
        out = services.put(name, req);
      } catch (IllegalArgumentException e) {
        throw new ApiError(400, e.getMessage());
      }
    }
    sendJson(ex, out);
  }

  private void deleteService(HttpExchange ex, String name) throws IOException {
    OAuthClient client = authenticate(ex);
    requireScope(client, SCOPE_SERVICES);
    synchronized (lock) {
      if (!services.delete(name)) {
        throw new ApiError(404, MSG_NOT_FOUND);
      }
    }
    sendEmpty(ex);
  }

  private void listServices(HttpExchange ex) throws IOException {
    OAuthClient client = authenticate(ex);
    requireScope(client, SCOPE_SERVICES + ":read");
    ObjectNode out = json.createObjectNode();
    ArrayNode arr = out.putArray("vipServices");
    synchronized (lock) {
      services.list().forEach(arr::add);
    }
    sendJson(ex, out);
  }

  private void getPolicy(HttpExchange ex) throws IOException {
    OAuthClient client = authenticate(ex);
    requireScope(client, SCOPE_POLICY_READ);
    String accept = Optional.ofNullable(ex.getRequestHeaders().getFirst("Accept")).orElse("");
    boolean wantsHuJson = policyIgnoresAccept || accept.toLowerCase(Locale.ROOT).contains("application/hujson");
    String text;
    synchronized (lock) {
      if (wantsHuJson) {
        text = policyHuJson != null ? policyHuJson : policy.toPrettyString();
      } else {
        text = policy.toString();
      }
    }
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("ETag", "\"" + Integer.toHexString(text.hashCode()) + "\"");
    send(ex, 200, bytes, wantsHuJson ? "application/hujson" : "application/json", null);
  }

  private void getDeviceRoutes(HttpExchange ex, String id) throws IOException {
    OAuthClient client = authenticate(ex);
    requireScope(client, SCOPE_DEVICES_ROUTES + ":read");
    ObjectNode out;
    synchronized (lock) {
      DeviceState d = findDeviceLocked(id);
      if (d == null) {
        throw new ApiError(404, MSG_NO_DEVICE);
      }
      out = routesJson(d);
    }
    sendJson(ex, out);
  }

  /** {@code POST /device/{id}/routes} {@code {"routes":[...]}}: the enabled routes become exactly these. */
  private void setDeviceRoutes(HttpExchange ex, String id, String body) throws IOException {
    OAuthClient client = authenticate(ex);
    requireScope(client, SCOPE_DEVICES_ROUTES);
    JsonNode req;
    try {
      req = body.isBlank() ? null : json.readTree(body);
    } catch (JsonProcessingException e) {
      throw new ApiError(400, "invalid JSON request body");
    }
    if (req == null || !req.isObject() || !req.path("routes").isArray()) {
      throw new ApiError(400, "routes must be an array of CIDR prefixes");
    }
    List<String> routes = new ArrayList<>();
    for (JsonNode r : req.path("routes")) {
      if (!r.isTextual() || FakeRoutes.parse(r.asText()) == null) {
        throw new ApiError(400, "invalid route " + r);
      }
      routes.add(r.asText());
    }
    ObjectNode out;
    synchronized (lock) {
      DeviceState d = findDeviceLocked(id);
      if (d == null) {
        throw new ApiError(404, MSG_NO_DEVICE);
      }
      d.enabledRoutes = List.copyOf(routes);
      out = routesJson(d);
    }
    sendJson(ex, out);
  }

  private ObjectNode routesJson(DeviceState d) {
    ObjectNode o = json.createObjectNode();
    ArrayNode advertised = o.putArray("advertisedRoutes");
    d.advertisedRoutes.forEach(advertised::add);
    ArrayNode enabled = o.putArray("enabledRoutes");
    d.enabledRoutes.forEach(enabled::add);
    return o;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Auth helpers

  private OAuthClient authenticate(HttpExchange ex) {
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    if (auth == null) {
      throw new ApiError(401, MSG_TOKEN_INVALID);
    }
    String token = null;
    if (auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
      token = auth.substring(7).trim();
    } else if (auth.regionMatches(true, 0, "Basic ", 0, 6)) {
      String[] userPass = decodeBasic(auth.substring(6).trim());
      token = userPass == null ? null : userPass[0];
    }
    synchronized (lock) {
      TokenState t = token == null ? null : tokens.get(token);
      if (t == null || !nowLocked().isBefore(t.expires)) {
        throw new ApiError(401, MSG_TOKEN_INVALID);
      }
      OAuthClient c = clients.get(t.clientId);
      if (c == null) {
        throw new ApiError(401, MSG_TOKEN_INVALID);
      }
      return c;
    }
  }

  private static void requireScope(OAuthClient client, String required) {
    if (!hasScope(client.scopes(), required)) {
      throw new ApiError(403, MSG_FORBIDDEN);
    }
  }

  /** Whether {@code granted} covers {@code required}; a write scope implies its {@code :read} variant. */
  static boolean hasScope(Set<String> granted, String required) {
    if (granted.contains(required) || granted.contains("all")) {
      return true;
    }
    Set<String> expanded = new HashSet<>(granted);
    if (granted.contains("devices")) { // legacy name of devices:core
      expanded.add(SCOPE_DEVICES_CORE);
    }
    if (expanded.contains(required)) {
      return true;
    }
    if (required.endsWith(":read")) {
      String base = required.substring(0, required.length() - ":read".length());
      return expanded.contains(base) || granted.contains("all:read");
    }
    return false;
  }

  private List<String> refusedTagsLocked(OAuthClient client, List<String> requested) {
    Map<String, List<String>> owners = tagOwnersLocked();
    List<String> refused = new ArrayList<>();
    for (String tag : requested) {
      boolean ok = TAG.matcher(tag).matches()
          && (client.tags().contains(tag)
              || owners.getOrDefault(tag, List.of()).stream().anyMatch(client.tags()::contains));
      if (!ok) {
        refused.add(tag);
      }
    }
    return refused;
  }

  private Map<String, List<String>> tagOwnersLocked() {
    Map<String, List<String>> out = new LinkedHashMap<>();
    JsonNode to = policy.path("tagOwners");
    Iterator<Map.Entry<String, JsonNode>> it = to.properties().iterator();
    while (it.hasNext()) {
      Map.Entry<String, JsonNode> e = it.next();
      List<String> owners = new ArrayList<>();
      e.getValue().forEach(n -> owners.add(n.asText()));
      out.put(e.getKey(), List.copyOf(owners));
    }
    return out;
  }

  private static String[] decodeBasic(String b64) {
    try {
      String decoded = new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
      int colon = decoded.indexOf(':');
      return colon < 0 ? new String[] {decoded, ""}
          : new String[] {decoded.substring(0, colon), decoded.substring(colon + 1)};
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  // ---------------------------------------------------------------------------------------------------------------
  // State helpers (call with lock held)

  private Instant nowLocked() {
    return clock.instant().plus(timeOffset);
  }

  private KeyState newKeyLocked(List<String> tags, boolean reusable, boolean ephemeral, boolean preauthorized,
      String description, Duration expiry, String createdBy) {
    return newKeyLocked(tags, reusable, ephemeral, preauthorized, description, expiry, createdBy, null);
  }

  /** As above; {@code secret} null: the fake makes one up. */
  private KeyState newKeyLocked(List<String> tags, boolean reusable, boolean ephemeral, boolean preauthorized,
      String description, Duration expiry, String createdBy, String secret) {
    String id = "k" + random(10) + "CNTRL";
    Instant now = nowLocked().truncatedTo(ChronoUnit.SECONDS);
    KeyState k = new KeyState(id, secret != null ? secret : "tskey-auth-" + id + "-" + random(30), List.copyOf(tags),
        reusable, ephemeral, preauthorized, description, now, now.plus(expiry), createdBy);
    keys.put(id, k);
    return k;
  }

  private DeviceState newDeviceLocked(String hostname, List<String> tags, boolean ephemeral, boolean authorized,
      String keyId, String user) {
    String nodeId;
    do {
      nodeId = "n" + random(10) + "CNTRL";
    } while (devices.containsKey(nodeId));
    String legacyId = Long.toString(ThreadLocalRandom.current().nextLong(1_000_000_000_000_000L,
        9_000_000_000_000_000L));
    int n = nextAddress++;
    String v4 = "100." + (64 + ((n >> 16) & 0x3f)) + "." + ((n >> 8) & 0xff) + "." + (n & 0xff);
    String v6 = "fd7a:115c:a1e0::" + Integer.toHexString(n);
    String label = uniqueLabelLocked(sanitizeLabel(hostname));
    Instant now = nowLocked().truncatedTo(ChronoUnit.SECONDS);
    DeviceState d = new DeviceState(nodeId, legacyId, hostname, label, tailnetDomain, List.of(v4, v6),
        List.copyOf(tags), user, now, ephemeral, authorized, keyId);
    devices.put(nodeId, d);
    return d;
  }

  /**
   * The DNS label the control plane derives from a hostname: the first label, lower case, characters other than
   * {@code a-z0-9-} replaced by {@code -}, leading and trailing hyphens removed, at most 63 characters.
   */
  static String sanitizeLabel(String hostname) {
    String h = hostname == null ? "" : hostname.trim().toLowerCase(Locale.ROOT);
    int dot = h.indexOf('.');
    if (dot >= 0) {
      h = h.substring(0, dot);
    }
    StringBuilder sb = new StringBuilder(h.length());
    for (char c : h.toCharArray()) {
      sb.append((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ? c : '-');
    }
    String label = trimHyphens(sb.toString());
    if (label.length() > 63) {
      label = trimHyphens(label.substring(0, 63));
    }
    return label.isEmpty() ? "device" : label;
  }

  private static String trimHyphens(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && s.charAt(start) == '-') {
      start++;
    }
    while (end > start && s.charAt(end - 1) == '-') {
      end--;
    }
    return s.substring(start, end);
  }

  private String uniqueLabelLocked(String base) {
    Set<String> taken = new HashSet<>();
    devices.values().forEach(d -> taken.add(d.label));
    if (!taken.contains(base)) {
      return base;
    }
    for (int i = 1;; i++) {
      String suffix = "-" + i;
      String stem = base.length() + suffix.length() > 63 ? base.substring(0, 63 - suffix.length()) : base;
      String candidate = stem + suffix;
      if (!taken.contains(candidate)) {
        return candidate;
      }
    }
  }

  private DeviceState findDeviceLocked(String id) {
    if (id == null) {
      return null;
    }
    DeviceState d = devices.get(id);
    if (d != null) {
      return d;
    }
    for (DeviceState candidate : devices.values()) {
      if (candidate.legacyId.equals(id)) {
        return candidate;
      }
    }
    return null;
  }

  private DeviceState requireDeviceLocked(String nodeId) {
    DeviceState d = findDeviceLocked(nodeId);
    if (d == null) {
      throw new IllegalArgumentException("no device " + nodeId);
    }
    return d;
  }

  private ObjectNode keyJson(KeyState k) {
    ObjectNode o = json.createObjectNode();
    o.put("id", k.id);
    o.put("keyType", "auth");
    o.put("description", k.description);
    o.put("created", rfc3339(k.created));
    o.put("expires", rfc3339(k.expires));
    o.put("expirySeconds", Duration.between(k.created, k.expires).toSeconds());
    Instant now = nowLocked();
    o.put("invalid", k.revoked != null || !now.isBefore(k.expires) || (!k.reusable && k.uses > 0));
    if (k.revoked != null) {
      o.put("revoked", rfc3339(k.revoked));
    }
    ObjectNode create = o.putObject("capabilities").putObject("devices").putObject("create");
    create.put("reusable", k.reusable);
    create.put("ephemeral", k.ephemeral);
    create.put("preauthorized", k.preauthorized);
    ArrayNode tags = create.putArray("tags");
    k.tags.forEach(tags::add);
    return o;
  }

  private ObjectNode deviceJson(DeviceState d, boolean all, Instant now) {
    ObjectNode o = json.createObjectNode();
    o.put("id", d.legacyId);
    o.put("nodeId", d.nodeId);
    o.put("name", d.label + "." + d.domain);
    o.put("hostname", d.hostname);
    ArrayNode addrs = o.putArray("addresses");
    d.addresses.forEach(addrs::add);
    o.put("user", d.user);
    if (!d.tags.isEmpty()) {
      ArrayNode tags = o.putArray("tags");
      d.tags.forEach(tags::add);
    }
    o.put("authorized", d.authorized);
    o.put("os", "linux");
    o.put("clientVersion", "1.94.2");
    o.put("created", rfc3339(d.created));
    o.put("lastSeen", rfc3339(d.online ? now : d.lastSeen));
    o.put("expires", ZERO_TIME);
    o.put("keyExpiryDisabled", !d.tags.isEmpty());
    o.put("isExternal", false);
    o.put("isEphemeral", d.ephemeral);
    o.put("machineKey", "mkey:" + d.machineKey);
    o.put("nodeKey", "nodekey:" + d.nodeKey);
    o.put("updateAvailable", false);
    o.put("blocksIncomingConnections", false);
    o.put("connectedToControl", d.online);
    if (all) {
      ArrayNode enabled = o.putArray("enabledRoutes");
      d.enabledRoutes.forEach(enabled::add);
      ArrayNode advertised = o.putArray("advertisedRoutes");
      d.advertisedRoutes.forEach(advertised::add);
      ObjectNode cc = o.putObject("clientConnectivity");
      cc.putArray("endpoints");
      cc.put("mappingVariesByDestIP", false);
    }
    return o;
  }

  private static ObjectNode defaultPolicy() {
    ObjectNode p = new ObjectMapper().createObjectNode();
    ObjectNode to = p.putObject("tagOwners");
    to.putArray("tag:k8s-operator");
    to.putArray("tag:k8s").add("tag:k8s-operator");
    to.putArray("tag:k8s-recorder").add("tag:k8s-operator");
    return p;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Routing and I/O

  private record Route(Endpoint endpoint, String param) {
  }

  private static List<String> segments(String rawPath) {
    List<String> out = new ArrayList<>();
    for (String s : rawPath.split("/")) {
      if (!s.isEmpty()) {
        out.add(URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8));
      }
    }
    return out;
  }

  private static Route route(String method, List<String> s) {
    if (s.size() < 3 || !s.get(0).equals("api") || !s.get(1).equals("v2")) {
      return null;
    }
    List<String> r = s.subList(2, s.size());
    String head = r.get(0);
    if (head.equals("oauth") && r.size() == 2 && r.get(1).equals("token")) {
      return method.equals("POST") ? new Route(Endpoint.TOKEN, null) : null;
    }
    if (head.equals("device") && r.size() == 3 && r.get(2).equals("routes")) {
      return switch (method) {
        case "GET" -> new Route(Endpoint.GET_DEVICE_ROUTES, r.get(1));
        case "POST" -> new Route(Endpoint.SET_DEVICE_ROUTES, r.get(1));
        default -> null;
      };
    }
    if (head.equals("device") && r.size() == 2) {
      return switch (method) {
        case "GET" -> new Route(Endpoint.GET_DEVICE, r.get(1));
        case "DELETE" -> new Route(Endpoint.DELETE_DEVICE, r.get(1));
        default -> null;
      };
    }
    if (head.equals("tailnet") && r.size() >= 3 && r.get(1).equals("-")) {
      String what = r.get(2);
      if (r.size() == 3) {
        return switch (what + " " + method) {
          case "keys POST" -> new Route(Endpoint.CREATE_KEY, null);
          case "keys GET" -> new Route(Endpoint.LIST_KEYS, null);
          case "devices GET" -> new Route(Endpoint.LIST_DEVICES, null);
          case "acl GET" -> new Route(Endpoint.GET_POLICY, null);
          default -> null;
        };
      }
      if (what.equals("vip-services") && r.size() <= 4) {
        if (r.size() == 3) {
          return method.equals("GET") ? new Route(Endpoint.LIST_SERVICES, null) : null;
        }
        return switch (method) {
          case "GET" -> new Route(Endpoint.GET_SERVICE, r.get(3));
          case "PUT" -> new Route(Endpoint.PUT_SERVICE, r.get(3));
          case "DELETE" -> new Route(Endpoint.DELETE_SERVICE, r.get(3));
          default -> null;
        };
      }
      if (r.size() == 4 && what.equals("keys")) {
        return switch (method) {
          case "GET" -> new Route(Endpoint.GET_KEY, r.get(3));
          case "DELETE" -> new Route(Endpoint.DELETE_KEY, r.get(3));
          default -> null;
        };
      }
    }
    return null;
  }

  private static ApiError unknownRoute(String method, List<String> segments) {
    for (String m : List.of("GET", "POST", "PUT", "DELETE")) {
      if (!m.equals(method) && route(m, segments) != null) {
        return new ApiError(405, "method not allowed");
      }
    }
    return new ApiError(404, MSG_NOT_FOUND);
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      String k = eq < 0 ? pair : pair.substring(0, eq);
      String v = eq < 0 ? "" : pair.substring(eq + 1);
      out.putIfAbsent(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
    }
    return out;
  }

  private void sendJson(HttpExchange ex, JsonNode body) throws IOException {
    send(ex, 200, json.writeValueAsBytes(body), "application/json", null);
  }

  private static void sendEmpty(HttpExchange ex) throws IOException {
    send(ex, 200, new byte[0], null, null);
  }

  private void sendError(HttpExchange ex, int status, String message, String retryAfter) throws IOException {
    ObjectNode body = json.createObjectNode();
    body.put("message", message);
    send(ex, status, json.writeValueAsBytes(body), "application/json", retryAfter);
  }

  private static void send(HttpExchange ex, int status, byte[] body, String contentType, String retryAfter)
      throws IOException {
    if (contentType != null) {
      ex.getResponseHeaders().set("Content-Type", contentType);
    }
    if (retryAfter != null) {
      ex.getResponseHeaders().set("Retry-After", retryAfter);
    }
    ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
    if (body.length > 0) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    }
  }

  private static String rfc3339(Instant t) {
    return DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
  }

  private static String random(int n) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    StringBuilder sb = new StringBuilder(n);
    for (int i = 0; i < n; i++) {
      sb.append(ALNUM.charAt(r.nextInt(ALNUM.length())));
    }
    return sb.toString();
  }

  private static String hex(int bytes) {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    StringBuilder sb = new StringBuilder(bytes * 2);
    for (int i = 0; i < bytes; i++) {
      sb.append(String.format("%02x", r.nextInt(256)));
    }
    return sb.toString();
  }

  /** An error answered as {@code {"message": ...}}. */
  private static final class ApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final int status;

    ApiError(int status, String message) {
      super(message, null, false, false);
      this.status = status;
    }
  }

  private record TokenState(String clientId, Instant expires) {
  }

  private static final class KeyState {
    final String id;
    final String secret;
    final List<String> tags;
    final boolean reusable;
    final boolean ephemeral;
    final boolean preauthorized;
    final String description;
    final Instant created;
    final Instant expires;
    final String createdBy;
    int uses;
    Instant revoked;

    KeyState(String id, String secret, List<String> tags, boolean reusable, boolean ephemeral,
        boolean preauthorized, String description, Instant created, Instant expires, String createdBy) {
      this.id = id;
      this.secret = secret;
      this.tags = tags;
      this.reusable = reusable;
      this.ephemeral = ephemeral;
      this.preauthorized = preauthorized;
      this.description = description;
      this.created = created;
      this.expires = expires;
      this.createdBy = createdBy;
    }

    FakeAuthKey snapshot() {
      return new FakeAuthKey(id, secret, tags, reusable, ephemeral, preauthorized, description, created, expires,
          uses, revoked != null, createdBy);
    }
  }

  private static final class DeviceState {
    final String nodeId;
    final String legacyId;
    final String hostname;
    String label;
    String domain;
    final List<String> addresses;
    final List<String> tags;
    final String user;
    final Instant created;
    Instant lastSeen;
    boolean online = true;
    final boolean ephemeral;
    final boolean authorized;
    final String keyId;
    final String machineKey = hex(32);
    final String nodeKey = hex(32);
    /** What the device's tailscaled advertises, in its order. */
    List<String> advertisedRoutes = List.of();
    /** What the tailnet approved (enabled): by autoApprovers, the admin console or the API. */
    List<String> enabledRoutes = List.of();

    DeviceState(String nodeId, String legacyId, String hostname, String label, String domain, List<String> addresses,
        List<String> tags, String user, Instant created, boolean ephemeral, boolean authorized, String keyId) {
      this.nodeId = nodeId;
      this.legacyId = legacyId;
      this.hostname = hostname;
      this.label = label;
      this.domain = domain;
      this.addresses = addresses;
      this.tags = tags;
      this.user = user;
      this.created = created;
      this.lastSeen = created;
      this.ephemeral = ephemeral;
      this.authorized = authorized;
      this.keyId = keyId;
    }

    FakeDevice snapshot(Instant now) {
      return new FakeDevice(nodeId, legacyId, label + "." + domain, hostname, addresses, tags, user, created,
          online ? now : lastSeen, online, ephemeral, authorized, keyId);
    }
  }
}
