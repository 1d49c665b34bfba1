package io.tailops.controlplane.headscale;

import io.tailops.controlplane.JsonSupport;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.tailops.controlplane.AuthKey;
import io.tailops.controlplane.AuthKeyInfo;
import io.tailops.controlplane.AuthKeyRequest;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.ControlPlaneException.Kind;
import io.tailops.controlplane.Device;
import io.tailops.controlplane.DeviceRoutes;
import io.tailops.controlplane.TailnetPolicy;
import io.tailops.controlplane.tailscale.ApiCallListener;
import io.tailops.controlplane.tailscale.HttpClientSettings;
import io.tailops.controlplane.tailscale.RetryPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ControlPlane} over headscale v0.29's REST API ({@code /api/v1}, the grpc-gateway mapping of its gRPC admin
 * service; wire-contracts §7, local-tailnet §1.3–1.5), with an API key ({@code Authorization: Bearer hskey-api-…}).
 *
 * <h2>Mapping</h2>
 *
 * <ul>
 *   <li>{@link #createAuthKey}: {@code POST /api/v1/preauthkey} with {@code aclTags}, {@code reusable},
 *       {@code ephemeral} and <b>always</b> an explicit {@code expiration} (the request's expiry, else
 *       {@link #DEFAULT_KEY_EXPIRY}): without one v0.29 stores Go's zero time and the key is born expired. The key is
 *       owned by no user, so at least one tag is required. headscale keys are always pre-authorized; the request's
 *       {@code preauthorized} and {@code description} have no headscale equivalent and are ignored.</li>
 *   <li>{@link #deleteAuthKey}: {@code POST /api/v1/preauthkey/expire} then {@code DELETE /api/v1/preauthkey?id=}
 *       (both silently succeed for unknown ids in v0.29; non-numeric ids cannot exist and are skipped).</li>
 *   <li>{@link #getDevice}, {@link #listDevices}, {@link #deleteDevice}: {@code /api/v1/node[/{id}]}. The device id is
 *       the decimal node id (headscale's StableID, what containerboot stores as {@code device_id}); name =
 *       {@code <givenName>.<base domain>}. The base domain is not in the API: pass it to the builder
 *       ({@code dns.base_domain} of headscale's config) or let {@link #learnBaseDomain(String)} take it from a device
 *       FQDN (e.g. a proxy's {@code device_fqdn}); until then names are bare given names.</li>
 *   <li>{@link #readPolicy}: {@code GET /api/v1/policy} (the HuJSON text), {@code tagOwners} and {@code nodeAttrs}.
 *       When headscale has no policy (file mode with an empty path, or nothing stored in database mode) this is
 *       {@link Kind#UNSUPPORTED}: everything is allowed and tags need no owners.</li>
 *   <li>{@link #checkCredentials}: {@code GET /api/v1/health} (authenticated, cheap).</li>
 * </ul>
 *
 * <h2>Errors and retries</h2>
 *
 * <ul>
 *   <li>401 (plain-text body {@code Unauthorized}: wrong, expired or deleted key) is {@link Kind#UNAUTHORIZED}. If the
 *       key file changed since the call was sent, the call is repeated once with the new key.</li>
 *   <li>grpc-gateway bodies {@code {"code":<gRPC code>,"message":…}}: 400 (InvalidArgument; {@link
 *       Kind#TAG_NOT_PERMITTED} when the message is about tags), 404 (NotFound), 500 (Unknown: v0.29 returns every
 *       unclassified error so, including deterministic ones such as "auth-key must be either tagged or owned by
 *       user", which map to {@link Kind#BAD_REQUEST} or {@link Kind#UNSUPPORTED} and are not retried).</li>
 *   <li>A 404 whose body is not JSON ({@code 404 page not found}) means the route does not exist: the base URL is
 *       not a headscale v0.29 API. It is an error even where a 404 would mean "already gone".</li>
 *   <li>Retries ({@link RetryPolicy}): 429, 5xx except 501 and the deterministic ones above, and transport errors.
 *       {@code POST /preauthkey} is retried after a transport error only when the request certainly did not reach the
 *       server, so that no second key is minted.</li>
 *   <li>Messages, logs and {@code toString()} never contain the API key or an auth key: server messages are scrubbed
 *       of anything shaped like {@code hskey-…}/{@code tskey-…}.</li>
 * </ul>
 *
 * <p>Thread-safe; one instance per headscale server.
 */
public final class HeadscaleControlPlane implements ControlPlane {
  /** Lifetime of minted keys when the request names none (the Tailscale API's default). */
  public static final Duration DEFAULT_KEY_EXPIRY = Duration.ofDays(90);

  /** Endpoint templates, as reported to {@link ApiCallListener}. */
  public static final String EP_PREAUTHKEY = "/api/v1/preauthkey";
  public static final String EP_PREAUTHKEY_EXPIRE = "/api/v1/preauthkey/expire";
  public static final String EP_NODES = "/api/v1/node";
  public static final String EP_NODE = "/api/v1/node/{id}";
  public static final String EP_NODE_APPROVE_ROUTES = "/api/v1/node/{id}/approve_routes";
  public static final String EP_POLICY = "/api/v1/policy";
  public static final String EP_HEALTH = "/api/v1/health";

  static final int MAX_BODY_BYTES = 10 * 1024 * 1024;
  private static final int MAX_SERVER_MESSAGE_CHARS = 300;
  private static final Pattern KEY_SHAPED = Pattern.compile("\\b(tskey|hskey)-[A-Za-z0-9_-]+");
  private static final Pattern DECIMAL_ID = Pattern.compile("[0-9]{1,20}");

  /** gRPC codes that never change on retry (InvalidArgument, NotFound, AlreadyExists, ...). */
  private static final List<Integer> DETERMINISTIC_GRPC_CODES = List.of(3, 5, 6, 7, 9, 11, 12, 16);
  /** v0.29's gRPC Unknown (HTTP 500) messages that are deterministic: request errors. */
  private static final List<String> UNKNOWN_BAD_REQUEST = List.of("auth-key must be", "user not found",
      "not unique");
  /** v0.29's gRPC Unknown (HTTP 500) messages meaning "no policy configured". */
  private static final List<String> UNKNOWN_NO_POLICY = List.of("reading policy from path", "policy not found",
      "no supported policy mode", "loading acl from database");

  private static final Logger LOG = LoggerFactory.getLogger(HeadscaleControlPlane.class);

  private final String baseUrl;
  private final ApiKeySource keys;
  private final Duration keyExpiry;
  private final Duration requestTimeout;
  private final RetryPolicy retry;
  private final ApiCallListener listener;
  private final Clock clock;
  private final String userAgent;
  private final boolean policyRead;
  private final HttpClient http;
  private final AtomicReference<String> baseDomain;

  private HeadscaleControlPlane(Builder b) {
    this.baseUrl = b.baseUrl;
    this.keys = b.keys;
    this.keyExpiry = b.keyExpiry;
    HttpClientSettings.Settings s = b.settings();
    this.requestTimeout = s.requestTimeout();
    this.retry = s.retryPolicy();
    this.listener = s.listener();
    this.clock = s.clock();
    this.userAgent = s.userAgent();
    this.policyRead = b.policyRead;
    this.baseDomain = new AtomicReference<>(b.baseDomain);
    this.http = s.http();
  }

  /** A builder; the base URL (e.g. {@code http://127.0.0.1:18080}) and the key source are required. */
  public static Builder builder(String baseUrl, ApiKeySource keys) {
    return new Builder(baseUrl, keys);
  }

  /** A client with defaults for the headscale at {@code baseUrl} whose MagicDNS base domain is {@code baseDomain}. */
  public static HeadscaleControlPlane create(String baseUrl, ApiKeySource keys, String baseDomain) {
    return builder(baseUrl, keys).baseDomain(baseDomain).build();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // ControlPlane

  @Override
  public AuthKey createAuthKey(AuthKeyRequest request) throws ControlPlaneException {
    Objects.requireNonNull(request, "request");
    List<String> tags = new ArrayList<>();
    for (String t : request.tags()) {
      String trimmed = t == null ? "" : t.trim();
      if (!trimmed.isEmpty()) {
        tags.add(trimmed);
      }
    }
    if (tags.isEmpty()) {
      throw new HeadscaleApiException(Kind.BAD_REQUEST, 0, null, null,
          "headscale auth keys need at least one tag (keys minted here belong to no user)", null);
    }
    Duration lifetime = request.expiry() != null ? request.expiry() : keyExpiry;
    Instant expiration = clock.instant().plus(lifetime).truncatedTo(ChronoUnit.SECONDS);
    ObjectNode body = JsonSupport.MAPPER.createObjectNode();
    body.put("reusable", request.reusable());
    body.put("ephemeral", request.ephemeral());
    body.put("expiration", expiration.toString());
    ArrayNode aclTags = body.putArray("aclTags");
    tags.forEach(aclTags::add);
    if (!request.preauthorized()) {
      LOG.debug("headscale pre-auth keys are always pre-authorized; preauthorized=false is ignored");
    }
    Exchange ex = call("POST", EP_PREAUTHKEY, EP_PREAUTHKEY, bytes(body), false);
    requireOk(ex);
    JsonNode k = requireObject(ex).path("preAuthKey");
    String id = k.isObject() ? JsonSupport.text(k, "id") : null;
    String key = k.isObject() ? JsonSupport.text(k, "key") : null;
    if (id == null || key == null || key.isEmpty()) {
      throw new HeadscaleApiException(Kind.OTHER, 200, null, null,
          ex.what + ": the response has no preAuthKey id or key", null);
    }
    Instant expires = JsonSupport.time(k.get("expiration"));
    AuthKey result = new AuthKey(id, key, expires != null ? expires : expiration);
    LOG.info("minted headscale pre-auth key {} (tags {}, reusable={}, ephemeral={}, expires {})", id, tags,
        request.reusable(), request.ephemeral(), result.expires());
    return result;
  }

  @Override
  public void deleteAuthKey(String keyId) throws ControlPlaneException {
    String id = requireId(keyId, "key ID");
    if (!DECIMAL_ID.matcher(id).matches()) {
      LOG.debug("auth key id {} is not a headscale key id; nothing to delete", id);
      return;
    }
    ObjectNode body = JsonSupport.MAPPER.createObjectNode();
    body.put("id", id);
    Exchange expired = call("POST", EP_PREAUTHKEY_EXPIRE, EP_PREAUTHKEY_EXPIRE, bytes(body), true);
    if (isObjectNotFound(expired)) {
      LOG.debug("auth key {} was already gone", id);
      return;
    }
    requireOk(expired);
    Exchange deleted = call("DELETE", EP_PREAUTHKEY, EP_PREAUTHKEY + "?id=" + id, null, true);
    if (isObjectNotFound(deleted)) {
      return;
    }
    requireOk(deleted);
    LOG.debug("expired and deleted headscale pre-auth key {}", id);
  }

  /**
   * {@code GET /api/v1/preauthkey}: {@code {"preAuthKeys":[{"id","reusable","ephemeral","used","expiration",
   * "createdAt","aclTags",…}]}}, expired and used keys included. headscale keys have no description, so
   * {@link AuthKeyInfo#description()} is null: nothing tells which client minted a key.
   */
  @Override
  public List<AuthKeyInfo> listAuthKeys() throws ControlPlaneException {
    List<AuthKeyInfo> out = new ArrayList<>();
    for (JsonNode k : listed(EP_PREAUTHKEY, "preAuthKeys")) {
      String id = JsonSupport.text(k, "id");
      if (id == null || id.isEmpty()) {
        continue;
      }
      JsonNode used = k.get("used");
      out.add(new AuthKeyInfo(id, true, null, JsonSupport.time(k.get("createdAt")),
          JsonSupport.time(k.get("expiration")), null, used != null && used.isBoolean() ? used.asBoolean() : null,
          k.path("reusable").asBoolean(false), JsonSupport.strings(k.get("aclTags")), null));
    }
    return out;
  }

  /** The objects in the array {@code field} of the answer to {@code GET endpoint} (none when it has no such array). */
  private List<JsonNode> listed(String endpoint, String field) throws ControlPlaneException {
    Exchange ex = call("GET", endpoint, endpoint, null, true);
    requireOk(ex);
    JsonNode items = requireObject(ex).get(field);
    List<JsonNode> out = new ArrayList<>();
    if (items != null && items.isArray()) {
      for (JsonNode item : items) {
        if (item.isObject()) {
          out.add(item);
        }
      }
    }
    return out;
  }

  @Override
  public Optional<Device> getDevice(String deviceId) throws ControlPlaneException {
    return node(deviceId).map(n -> HeadscaleJson.toDevice(n, baseDomain.get()));
  }

  /** {@code GET /api/v1/node/{id}}'s node; empty when there is no such node (or the id is not a headscale id). */
  private Optional<JsonNode> node(String deviceId) throws ControlPlaneException {
    String id = requireId(deviceId, "device ID");
    if (!DECIMAL_ID.matcher(id).matches()) {
      return Optional.empty(); // e.g. a Tailscale stable id: no such headscale node
    }
    Exchange ex = call("GET", EP_NODE, EP_NODES + "/" + id, null, true);
    if (isObjectNotFound(ex)) {
      return Optional.empty();
    }
    requireOk(ex);
    JsonNode node = requireObject(ex).get("node");
    if (node == null || !node.isObject()) {
      throw new HeadscaleApiException(Kind.OTHER, 200, null, null, ex.what + ": the response has no node", null);
    }
    return Optional.of(node);
  }

  @Override
  public List<Device> listDevices() throws ControlPlaneException {
    String domain = baseDomain.get();
    List<Device> out = new ArrayList<>();
    for (JsonNode n : listed(EP_NODES, "nodes")) {
      out.add(HeadscaleJson.toDevice(n, domain));
    }
    return out;
  }

  @Override
  public boolean deleteDevice(String deviceId) throws ControlPlaneException {
    String id = requireId(deviceId, "device ID");
    if (!DECIMAL_ID.matcher(id).matches()) {
      LOG.debug("device id {} is not a headscale node id; nothing to delete", id);
      return false;
    }
    Exchange ex = call("DELETE", EP_NODE, EP_NODES + "/" + id, null, true);
    if (isObjectNotFound(ex)) {
      LOG.debug("headscale node {} was already gone", id);
      return false;
    }
    requireOk(ex);
    LOG.info("deleted headscale node {}", id);
    return true;
  }

  /** The node's {@code availableRoutes} (announced) and {@code approvedRoutes}, from {@code GET /api/v1/node/{id}}. */
  @Override
  public Optional<DeviceRoutes> getDeviceRoutes(String deviceId) throws ControlPlaneException {
    return node(deviceId).map(HeadscaleJson::toRoutes);
  }

  /**
   * {@code POST /api/v1/node/{id}/approve_routes} with {@code {"routes":[...]}}: replaces the node's approved routes
   * (headscale approves {@code 0.0.0.0/0} and {@code ::/0} together).
   */
  @Override
  public DeviceRoutes setApprovedRoutes(String deviceId, List<String> routes) throws ControlPlaneException {
    String id = requireId(deviceId, "device ID");
    if (!DECIMAL_ID.matcher(id).matches()) {
      throw new HeadscaleApiException(Kind.NOT_FOUND, 404, null, null, "no headscale node " + id, null);
    }
    ObjectNode body = JsonSupport.MAPPER.createObjectNode();
    ArrayNode list = body.putArray("routes");
    routes.forEach(list::add);
    Exchange ex = call("POST", EP_NODE_APPROVE_ROUTES, EP_NODES + "/" + id + "/approve_routes", bytes(body), true);
    // v0.29.2 answers an unknown node with 400 "node no longer exists in NodeStore: <id>"
    String msg = ex.status == 400 ? HeadscaleJson.errorBody(ex.body).message() : null;
    if (isObjectNotFound(ex) || msg != null && msg.contains("no longer exists")) {
      throw new HeadscaleApiException(Kind.NOT_FOUND, 404, null, null, ex.what + ": no headscale node " + id, null);
    }
    requireOk(ex);
    JsonNode node = requireObject(ex).get("node");
    if (node == null || !node.isObject()) {
      throw new HeadscaleApiException(Kind.OTHER, 200, null, null, ex.what + ": the response has no node", null);
    }
    DeviceRoutes result = HeadscaleJson.toRoutes(node);
    LOG.info("approved routes {} of headscale node {}", result.approved(), id);
    return result;
  }

  @Override
  public TailnetPolicy readPolicy() throws ControlPlaneException {
    Exchange ex = call("GET", EP_POLICY, EP_POLICY, null, true);
    if (ex.status != 200) {
      HeadscaleApiException e = httpError(ex);
      if (e.status() >= 500 && e.serverMessage() != null && matchesAny(e.serverMessage(), UNKNOWN_NO_POLICY)) {
        throw new HeadscaleApiException(Kind.UNSUPPORTED, e.status(), e.serverMessage(), e.grpcCode(),
            "headscale has no policy to read (" + e.serverMessage() + "): all traffic is allowed and tags need no"
                + " owners; set policy.path (or store a policy in database mode) to use one", null);
      }
      throw e;
    }
    String text = JsonSupport.text(requireObject(ex), "policy");
    if (text == null || text.isBlank()) {
      throw new HeadscaleApiException(Kind.UNSUPPORTED, 200, null, null,
          "headscale's policy is empty: all traffic is allowed and tags need no owners", null);
    }
    JsonNode policy = JsonSupport.readObject(text, JsonSupport.HUJSON);
    if (policy == null) {
      throw new HeadscaleApiException(Kind.OTHER, 200, null, null,
          ex.what + ": the policy is not a JSON/HuJSON object", null);
    }
    return JsonSupport.toPolicy(policy);
  }

  @Override
  public void checkCredentials() throws ControlPlaneException {
    requireOk(call("GET", EP_HEALTH, EP_HEALTH, null, true));
  }

  @Override
  public Capabilities capabilities() {
    return new Capabilities("headscale", false, false, policyRead, false, false);
  }

  @Override
  public Optional<String> magicDnsDomain() {
    return baseDomain();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Extras

  /** The MagicDNS base domain used for device names, if known. */
  public Optional<String> baseDomain() {
    return Optional.ofNullable(baseDomain.get());
  }

  /**
   * Learns the base domain from a device's MagicDNS name, e.g. a proxy's {@code device_fqdn}
   * ({@code default-web.tailnet.test.} gives {@code tailnet.test}). Does nothing when the base domain is already known
   * or the name has a single label.
   *
   * @return whether the base domain was set by this call
   */
  public boolean learnBaseDomain(String deviceFqdn) {
    if (deviceFqdn == null) {
      return false;
    }
    String f = deviceFqdn.trim();
    if (f.endsWith(".")) {
      f = f.substring(0, f.length() - 1);
    }
    int dot = f.indexOf('.');
    if (dot <= 0 || dot == f.length() - 1) {
      return false;
    }
    String domain = f.substring(dot + 1).toLowerCase(Locale.ROOT);
    if (baseDomain.compareAndSet(null, domain)) {
      LOG.info("headscale MagicDNS base domain learned from {}: {}", deviceFqdn, domain);
      return true;
    }
    return false;
  }

  /** Non-secret description of the API key, e.g. {@code headscale API key hskey-api-AbCd… loaded from …}. */
  public String credentialStatus() {
    return keys.describe();
  }

  public String baseUrl() {
    return baseUrl;
  }

  @Override
  public String toString() {
    return "HeadscaleControlPlane[" + baseUrl + (baseDomain.get() != null ? ", " + baseDomain.get() : "") + "]";
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Plumbing

  /** One logical call's final response. */
  private record Exchange(String what, int status, byte[] body, int attempts, String key) {
  }

  /** Sends a call; on 401 repeats it once if the key source meanwhile has a different key. */
  private Exchange call(String method, String template, String pathAndQuery, byte[] body, boolean replayable)
      throws ControlPlaneException {
    URI uri = URI.create(baseUrl + pathAndQuery);
    String path = pathAndQuery.contains("?") ? pathAndQuery.substring(0, pathAndQuery.indexOf('?')) : pathAndQuery;
    String what = "headscale API " + method + " " + path;
    String key = keys.current();
    Exchange ex = send(method, template, uri, what, body, replayable, key);
    if (ex.status == 401) {
      String now = keys.current();
      if (!now.equals(key)) {
        LOG.info("{}: HTTP 401; the API key changed meanwhile, retrying once with the new key", what);
        ex = send(method, template, uri, what, body, replayable, now);
      }
    }
    return ex;
  }

  private Exchange send(String method, String template, URI uri, String what, byte[] body, boolean replayable,
      String key) throws ControlPlaneException {
    int max = retry.maxAttempts();
    for (int attempt = 1;; attempt++) {
      long start = System.nanoTime();
      int status;
      byte[] bytes;
      try {
        HttpResponse<InputStream> r = http.send(request(method, uri, body, key), HttpResponse.BodyHandlers
            .ofInputStream());
        status = r.statusCode();
        try (InputStream in = r.body()) {
          bytes = in.readNBytes(MAX_BODY_BYTES + 1);
        }
        report(method, template, status, start);
        if (bytes.length > MAX_BODY_BYTES) {
          throw new HeadscaleApiException(Kind.OTHER, status, null, null,
              what + ": response body larger than " + MAX_BODY_BYTES + " bytes", null);
        }
      } catch (InterruptedException e) {
        report(method, template, -1, start);
        Thread.currentThread().interrupt();
        throw new HeadscaleApiException(Kind.TRANSPORT, 0, null, null, what + ": interrupted", e);
      } catch (IOException e) {
        report(method, template, -1, start);
        boolean notDelivered = e instanceof ConnectException || e instanceof HttpConnectTimeoutException;
        boolean mayRetry = replayable || notDelivered;
        String cause = describe(e, key);
        if (mayRetry && attempt < max) {
          Duration d = retry.backoff(attempt);
          LOG.warn("{}: no response ({}); retrying in {} ms (attempt {}/{})", what, cause, d.toMillis(), attempt, max);
          sleep(what, d);
          continue;
        }
        String why = mayRetry ? "gave up after " + attempt + " attempt" + (attempt == 1 ? "" : "s")
            : "not retried because the request may have reached the server and repeating it could mint a second key";
        throw new HeadscaleApiException(Kind.TRANSPORT, 0, null, null, what + ": no response (" + cause + "); " + why,
            e);
      }
      if (attempt < max && isRetriable(status, bytes)) {
        Duration d = retry.backoff(attempt);
        LOG.warn("{}: HTTP {}; retrying in {} ms (attempt {}/{})", what, status, d.toMillis(), attempt, max);
        sleep(what, d);
        continue;
      }
      return new Exchange(what, status, bytes, attempt, key);
    }
  }

  private HttpRequest request(String method, URI uri, byte[] body, String key) {
    HttpRequest.Builder b = HttpRequest.newBuilder(uri)
        .timeout(requestTimeout)
        .header("User-Agent", userAgent)
        .header("Accept", "application/json")
        .header("Authorization", "Bearer " + key);
    if (body != null) {
      b.header("Content-Type", "application/json");
      b.method(method, HttpRequest.BodyPublishers.ofByteArray(body));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return b.build();
  }

  /** 429 and 5xx except 501 and errors that are deterministic (see the class comment). */
  static boolean isRetriable(int status, byte[] body) {
    if (status == 429) {
      return true;
    }
    if (status < 500 || status > 599 || status == 501) {
      return false;
    }
    HeadscaleJson.ErrorBody e = HeadscaleJson.errorBody(body);
    if (e.grpcCode() == null) {
      return true;
    }
    if (DETERMINISTIC_GRPC_CODES.contains(e.grpcCode())) {
      return false;
    }
    return e.grpcCode() != 2 || e.message() == null
        || !(matchesAny(e.message(), UNKNOWN_BAD_REQUEST) || matchesAny(e.message(), UNKNOWN_NO_POLICY));
  }

  /** A 404 about the object (a JSON error body), as opposed to a missing route (plain text). */
  private static boolean isObjectNotFound(Exchange ex) {
    return ex.status == 404 && HeadscaleJson.errorBody(ex.body).json();
  }

  private void requireOk(Exchange ex) throws HeadscaleApiException {
    if (ex.status != 200) {
      HeadscaleApiException e = httpError(ex);
      LOG.debug("{}", e.getMessage());
      throw e;
    }
  }

  /** Maps a non-200 response to a typed exception with the status and the (redacted) server message. */
  private HeadscaleApiException httpError(Exchange ex) {
    HeadscaleJson.ErrorBody body = HeadscaleJson.errorBody(ex.body);
    String serverMessage = redact(body.message(), ex.key);
    if (serverMessage != null && serverMessage.length() > MAX_SERVER_MESSAGE_CHARS) {
      serverMessage = serverMessage.substring(0, MAX_SERVER_MESSAGE_CHARS) + "…";
    }
    Kind kind = kindOf(ex.status, body.grpcCode(), serverMessage);
    StringBuilder msg = new StringBuilder(ex.what).append(": HTTP ").append(ex.status);
    if (serverMessage != null) {
      msg.append(": ").append(serverMessage);
    }
    if (body.grpcCode() != null) {
      msg.append(" (gRPC code ").append(body.grpcCode()).append(')');
    }
    if (ex.status == 404 && !body.json()) {
      msg.append(" (no such route: is ").append(baseUrl).append(" a headscale v0.29 server with /api/v1?)");
    } else if (ex.status == 401) {
      msg.append(" (the API key is wrong, expired or deleted: ").append(keys.describe()).append(')');
    }
    if (ex.attempts > 1) {
      msg.append(" (gave up after ").append(ex.attempts).append(" attempts)");
    }
    return new HeadscaleApiException(kind, ex.status, serverMessage, body.grpcCode(), msg.toString(), null);
  }

  static Kind kindOf(int status, Integer grpcCode, String serverMessage) {
    String m = serverMessage == null ? "" : serverMessage.toLowerCase(Locale.ROOT);
    return switch (status) {
      case 401 -> Kind.UNAUTHORIZED;
      case 403 -> Kind.FORBIDDEN;
      case 400 -> m.contains("tag") ? Kind.TAG_NOT_PERMITTED : Kind.BAD_REQUEST;
      case 404 -> Kind.NOT_FOUND;
      case 409, 422 -> Kind.BAD_REQUEST;
      case 429 -> Kind.RATE_LIMITED;
      case 501 -> Kind.UNSUPPORTED;
      default -> {
        if (status >= 500 && status <= 599) {
          if (grpcCode != null && grpcCode == 2 && matchesAny(m, UNKNOWN_BAD_REQUEST)) {
            yield Kind.BAD_REQUEST;
          }
          if (grpcCode != null && grpcCode == 2 && matchesAny(m, UNKNOWN_NO_POLICY)) {
            yield Kind.UNSUPPORTED;
          }
          yield Kind.SERVER_ERROR;
        }
        yield Kind.OTHER;
      }
    };
  }

  private static boolean matchesAny(String message, List<String> fragments) {
    String m = message.toLowerCase(Locale.ROOT);
    return fragments.stream().anyMatch(m::contains);
  }

  private static JsonNode requireObject(Exchange ex) throws ControlPlaneException {
    JsonNode n = JsonSupport.readObject(ex.body, JsonSupport.MAPPER);
    if (n == null) {
      throw new HeadscaleApiException(Kind.OTHER, ex.status, null, null,
          ex.what + ": the response is not a JSON object", null);
    }
    return n;
  }

  private static String requireId(String id, String what) throws ControlPlaneException {
    if (id == null || id.isBlank()) {
      throw new HeadscaleApiException(Kind.BAD_REQUEST, 0, null, null, "empty " + what, null);
    }
    return id.trim();
  }

  /** Removes the API key and anything key-shaped. */
  static String redact(String text, String key) {
    if (text == null) {
      return null;
    }
    String out = key != null && key.length() >= 4 ? text.replace(key, "<redacted>") : text;
    return KEY_SHAPED.matcher(out).replaceAll("$1-<redacted>");
  }

  private void report(String method, String template, int status, long startNanos) {
    try {
      listener.onRequest(method, template, status, Duration.ofNanos(System.nanoTime() - startNanos));
    } catch (RuntimeException e) {
      LOG.debug("ApiCallListener failed; ignoring", e);
    }
    if (LOG.isDebugEnabled()) {
      LOG.debug("{} {} -> {} in {} ms", method, template, status, (System.nanoTime() - startNanos) / 1_000_000);
    }
  }

  private void sleep(String what, Duration d) throws ControlPlaneException {
    try {
      retry.sleeper().sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HeadscaleApiException(Kind.TRANSPORT, 0, null, null, what + ": interrupted while waiting to retry", e);
    }
  }

  private static String describe(IOException e, String key) {
    String m = e.getMessage();
    String name = e.getClass().getSimpleName();
    return m == null || m.isBlank() ? name : name + ": " + redact(m, key);
  }

  private static byte[] bytes(JsonNode n) {
    try {
      return JsonSupport.MAPPER.writeValueAsBytes(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise request", e);
    }
  }

  static String normaliseBaseUrl(String url) {
    String u = Objects.requireNonNull(url, "baseUrl").trim();
    while (u.endsWith("/")) {
      u = u.substring(0, u.length() - 1);
    }
    try {
      URI parsed = new URI(u);
      String scheme = parsed.getScheme();
      if (scheme == null || !(scheme.equalsIgnoreCase("https") || scheme.equalsIgnoreCase("http"))
          || parsed.getHost() == null) {
        throw new IllegalArgumentException("headscale URL must be an http(s) URL: " + url);
      }
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("headscale URL is not a valid URL: " + url, e);
    }
    return u;
  }

  /** Configuration of a {@link HeadscaleControlPlane}. */
  public static final class Builder extends HttpClientSettings<Builder> {
    private final String baseUrl;
    private final ApiKeySource keys;
    private String baseDomain;
    private Duration keyExpiry = DEFAULT_KEY_EXPIRY;
    private boolean policyRead = true;

    private Builder(String baseUrl, ApiKeySource keys) {
      this.baseUrl = normaliseBaseUrl(baseUrl);
      this.keys = Objects.requireNonNull(keys, "keys");
    }

    /**
     * The MagicDNS base domain ({@code dns.base_domain} in headscale's config), e.g. {@code tailnet.test}; null leaves
     * it to {@link HeadscaleControlPlane#learnBaseDomain(String)}.
     */
    public Builder baseDomain(String domain) {
      if (domain != null) {
        String d = domain.trim();
        while (d.startsWith(".")) {
          d = d.substring(1);
        }
        while (d.endsWith(".")) {
          d = d.substring(0, d.length() - 1);
        }
        this.baseDomain = d.isEmpty() ? null : d.toLowerCase(Locale.ROOT);
      } else {
        this.baseDomain = null;
      }
      return this;
    }

    /** Lifetime of keys whose request names none (default {@link HeadscaleControlPlane#DEFAULT_KEY_EXPIRY}). */
    public Builder keyExpiry(Duration d) {
      this.keyExpiry = requirePositive(d, "keyExpiry");
      return this;
    }

    /**
     * What {@link HeadscaleControlPlane#capabilities()} reports as {@code policyRead} (default true: v0.29 serves
     * {@code GET /api/v1/policy}; {@link HeadscaleControlPlane#readPolicy()} still reports {@code UNSUPPORTED} when no
     * policy is configured).
     */
    public Builder policyRead(boolean on) {
      this.policyRead = on;
      return this;
    }

    @Override
    protected Builder self() {
      return this;
    }

    public HeadscaleControlPlane build() {
      return new HeadscaleControlPlane(this);
    }
  }
}
