package io.tailops.controlplane.tailscale;

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
import io.tailops.controlplane.TailscaleService;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ControlPlane} over the Tailscale API v2 with OAuth client credentials (wire-contracts §1–2), on
 * {@link java.net.http.HttpClient} and Jackson.
 *
 * <h2>Wire behaviour</h2>
 *
 * <ul>
 *   <li>Tokens from {@code <tokenBase>/api/v2/oauth/token} (see {@link OAuthTokenSource}: Basic first, form-body
 *       fallback, cached until 60 s before expiry, dropped when the credentials change). A 401 from an API call drops
 *       the token and repeats the call once with a fresh one.
 *   <li>API calls to {@code <apiBase>/api/v2/...}, tailnet path element {@code -}, {@code Authorization: Bearer},
 *       {@code User-Agent: tailscale-k8s-operator}, {@code Content-Type: application/json} on JSON bodies only. HTTP/1.1,
 *       redirects not followed. Success is exactly 200; responses above 10 MiB are rejected.
 *   <li>Retries ({@link RetryPolicy}): 429 (honouring {@code Retry-After}), 5xx except 501, and transport errors.
 *       {@code POST /keys} is retried after a transport error only when the request certainly did not reach the
 *       server (connection refused or connect timeout): after a request timeout or a reset it fails with
 *       {@link Kind#TRANSPORT} instead of risking a second minted key. 429/5xx answers are retried for every call.
 *   <li>Errors are {@link ControlPlaneException}s classified by {@link Kind}, with the HTTP status and the server's
 *       {@code message}. Messages, logs and {@code toString()} never contain the client secret, access tokens or auth
 *       keys: server messages are additionally scrubbed of anything shaped like {@code tskey-…}.
 * </ul>
 *
 * <p>{@link #checkCredentials()} obtains a token and lists the tailnet's auth keys ({@code GET
 * /api/v2/tailnet/-/keys}): the cheapest authenticated call, and it needs {@code auth_keys}, the one scope without
 * which the operator can do nothing.
 *
 * <p>Thread-safe; one instance per credential set.
 */
public final class TailscaleApiClient implements ControlPlane {
  /** REST API host of Tailscale's SaaS. */
  public static final String DEFAULT_API_BASE_URL = "https://api.tailscale.com";
  /** OAuth token host of Tailscale's SaaS (the control host, wire-contracts §1.1). */
  public static final String DEFAULT_TOKEN_BASE_URL = "https://controlplane.tailscale.com";
  /** A cached token is replaced when less than this remains. */
  public static final Duration DEFAULT_TOKEN_REFRESH_MARGIN = Duration.ofSeconds(60);

  /** Endpoint templates, as reported to {@link ApiCallListener}. */
  public static final String EP_KEYS = "/api/v2/tailnet/-/keys";
  public static final String EP_KEY = "/api/v2/tailnet/-/keys/{id}";
  public static final String EP_DEVICE = "/api/v2/device/{id}";
  public static final String EP_DEVICES = "/api/v2/tailnet/-/devices";
  public static final String EP_DEVICE_ROUTES = "/api/v2/device/{id}/routes";
  public static final String EP_POLICY = "/api/v2/tailnet/-/acl";
  public static final String EP_SERVICE = "/api/v2/tailnet/-/vip-services/{name}";
  public static final String EP_TOKEN = OAuthTokenSource.TOKEN_TEMPLATE;

  private static final Logger LOG = LoggerFactory.getLogger(TailscaleApiClient.class);

  private final String apiBaseUrl;
  private final String tokenBaseUrl;
  private final CredentialSource credentials;
  private final Transport transport;
  private final OAuthTokenSource tokens;

  private TailscaleApiClient(Builder b) {
    this.apiBaseUrl = b.apiBaseUrl;
    this.tokenBaseUrl = b.tokenBaseUrl;
    this.credentials = b.credentials;
    HttpClientSettings.Settings s = b.settings();
    this.transport = new Transport(s.http(), s.userAgent(), s.requestTimeout(), s.retryPolicy(), s.listener(),
        s.clock());
    this.tokens = new OAuthTokenSource(transport, URI.create(tokenBaseUrl + EP_TOKEN), credentials, s.clock(),
        b.tokenRefreshMargin);
  }

  /** A builder; credentials are required, everything else has defaults. */
  public static Builder builder(CredentialSource credentials) {
    return new Builder(credentials);
  }

  /**
   * A client as the operator configures it: with {@code loginServer} (env {@code OPERATOR_LOGIN_SERVER}) set, both
   * tokens and API calls go there; when null or blank, to Tailscale's SaaS hosts.
   */
  public static TailscaleApiClient create(CredentialSource credentials, String loginServer) {
    return builder(credentials).loginServer(loginServer).build();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // ControlPlane

  @Override
  public AuthKey createAuthKey(AuthKeyRequest request) throws ControlPlaneException {
    Objects.requireNonNull(request, "request");
    ObjectNode body = JsonSupport.MAPPER.createObjectNode();
    ObjectNode create = body.putObject("capabilities").putObject("devices").putObject("create");
    create.put("reusable", request.reusable());
    create.put("ephemeral", request.ephemeral());
    create.put("preauthorized", request.preauthorized());
    ArrayNode tags = create.putArray("tags");
    for (String t : request.tags()) {
      String trimmed = t == null ? "" : t.trim();
      if (!trimmed.isEmpty()) {
        tags.add(trimmed);
      }
    }
    if (request.expiry() != null) {
      body.put("expirySeconds", Math.max(1, request.expiry().toSeconds()));
    }
    if (request.description() != null) {
      body.put("description", request.description());
    }
    Exchange ex = call("POST", EP_KEYS, EP_KEYS, bytes(body), false, Map.of());
    requireOk(ex);
    JsonNode n = JsonSupport.readObject(ex.response.body(), JsonSupport.MAPPER);
    String id = n == null ? null : JsonSupport.text(n, "id");
    String key = n == null ? null : JsonSupport.text(n, "key");
    if (id == null || key == null || key.isEmpty()) {
      throw new ControlPlaneException(Kind.OTHER, 200, null,
          ex.request.what() + ": the response has no key id or secret");
    }
    AuthKey result = new AuthKey(id, key, JsonSupport.time(n.get("expires")));
    LOG.info("minted Tailscale auth key {} (tags {}, ephemeral={}, expires {})", id, tags, request.ephemeral(),
        result.expires());
    return result;
  }

  @Override
  public void deleteAuthKey(String keyId) throws ControlPlaneException {
    String path = EP_KEYS + "/" + segment(requireId(keyId, "key ID"));
    Exchange ex = call("DELETE", EP_KEY, path, null, true, Map.of());
    if (ex.response.status() == 404) {
      LOG.debug("auth key {} was already gone", keyId);
      return;
    }
    requireOk(ex);
  }

  /**
   * {@code GET /api/v2/tailnet/-/keys}: {@code {"keys":[{"id":…}, …]}}. The list holds the active keys; an entry with
   * no {@code created} field is known by its ID only (the Go clients read nothing else from it), see
   * {@link #getAuthKey}.
   */
  @Override
  public List<AuthKeyInfo> listAuthKeys() throws ControlPlaneException {
    Exchange ex = call("GET", EP_KEYS, EP_KEYS, null, true, Map.of());
    requireOk(ex);
    JsonNode keys = requireObject(ex).get("keys");
    List<AuthKeyInfo> out = new ArrayList<>();
    if (keys != null && keys.isArray()) {
      for (JsonNode k : keys) {
        String id = k.isObject() ? JsonSupport.text(k, "id") : null;
        if (id != null && !id.isEmpty()) {
          out.add(k.has("created") ? toKeyInfo(id, k) : AuthKeyInfo.idOnly(id));
        }
      }
    }
    return out;
  }

  /**
   * {@code GET /api/v2/tailnet/-/keys/{id}}: {@code id}, {@code description}, {@code created}, {@code expires},
   * {@code invalid} (revoked or expired), {@code capabilities.devices.create}, {@code userId} (empty for keys minted
   * by an OAuth client). Empty on 404.
   */
  @Override
  public Optional<AuthKeyInfo> getAuthKey(String keyId) throws ControlPlaneException {
    String path = EP_KEYS + "/" + segment(requireId(keyId, "key ID"));
    Exchange ex = call("GET", EP_KEY, path, null, true, Map.of());
    if (ex.response.status() == 404) {
      return Optional.empty();
    }
    requireOk(ex);
    JsonNode n = requireObject(ex);
    String id = JsonSupport.text(n, "id");
    return Optional.of(toKeyInfo(id == null || id.isEmpty() ? keyId : id, n));
  }

  private static AuthKeyInfo toKeyInfo(String id, JsonNode k) {
    JsonNode create = k.path("capabilities").path("devices").path("create");
    JsonNode invalid = k.get("invalid");
    String description = JsonSupport.text(k, "description");
    String userId = JsonSupport.text(k, "userId");
    return new AuthKeyInfo(id, true, description == null ? "" : description, JsonSupport.time(k.get("created")),
        JsonSupport.time(k.get("expires")), invalid != null && invalid.isBoolean() ? invalid.asBoolean() : null, null,
        create.path("reusable").asBoolean(false), JsonSupport.strings(create.get("tags")),
        userId == null ? "" : userId);
  }

  @Override
  public Optional<Device> getDevice(String deviceId) throws ControlPlaneException {
    String path = "/api/v2/device/" + segment(requireId(deviceId, "device ID"));
    Exchange ex = call("GET", EP_DEVICE, path + "?fields=all", null, true, Map.of());
    if (ex.response.status() == 404) {
      return Optional.empty();
    }
    requireOk(ex);
    return Optional.of(ApiJson.toDevice(requireObject(ex)));
  }

  @Override
  public List<Device> listDevices() throws ControlPlaneException {
    Exchange ex = call("GET", EP_DEVICES, EP_DEVICES + "?fields=all", null, true, Map.of());
    requireOk(ex);
    JsonNode devices = requireObject(ex).get("devices");
    List<Device> out = new ArrayList<>();
    if (devices != null && devices.isArray()) {
      for (JsonNode d : devices) {
        if (d.isObject()) {
          out.add(ApiJson.toDevice(d));
        }
      }
    }
    return out;
  }

  @Override
  public boolean deleteDevice(String deviceId) throws ControlPlaneException {
    String path = "/api/v2/device/" + segment(requireId(deviceId, "device ID"));
    Exchange ex = call("DELETE", EP_DEVICE, path, null, true, Map.of());
    if (ex.response.status() == 404) {
      LOG.debug("device {} was already gone", deviceId);
      return false;
    }
    requireOk(ex);
    LOG.info("deleted Tailscale device {}", deviceId);
    return true;
  }

  @Override
  public Optional<TailscaleService> getService(String name) throws ControlPlaneException {
    Exchange ex = call("GET", EP_SERVICE, servicePath(name), null, true, Map.of());
    if (ex.response.status() == 404) {
      return Optional.empty();
    }
    requireOk(ex);
    return Optional.of(ApiJson.toService(requireObject(ex)));
  }

  @Override
  public void putService(TailscaleService service) throws ControlPlaneException {
    Exchange ex = call("PUT", EP_SERVICE, servicePath(service.name()), bytes(ApiJson.serviceJson(service)), true,
        Map.of());
    requireOk(ex);
    LOG.info("wrote Tailscale Service {} (ports {}, tags {})", service.name(), service.ports(), service.tags());
  }

  @Override
  public boolean deleteService(String name) throws ControlPlaneException {
    Exchange ex = call("DELETE", EP_SERVICE, servicePath(name), null, true, Map.of());
    if (ex.response.status() == 404) {
      LOG.debug("Tailscale Service {} was already gone", name);
      return false;
    }
    requireOk(ex);
    LOG.info("deleted Tailscale Service {}", name);
    return true;
  }

  /** {@code /api/v2/tailnet/-/vip-services/svc:name}: the name as Go's path escaping sends it (':' unescaped). */
  private static String servicePath(String name) throws ControlPlaneException {
    return "/api/v2/tailnet/-/vip-services/" + segment(requireId(name, "Tailscale Service name"));
  }

  /** {@code GET /api/v2/device/{id}/routes}: {@code {"advertisedRoutes":[...],"enabledRoutes":[...]}}. */
  @Override
  public Optional<DeviceRoutes> getDeviceRoutes(String deviceId) throws ControlPlaneException {
    String path = "/api/v2/device/" + segment(requireId(deviceId, "device ID")) + "/routes";
    Exchange ex = call("GET", EP_DEVICE_ROUTES, path, null, true, Map.of());
    if (ex.response.status() == 404) {
      return Optional.empty();
    }
    requireOk(ex);
    return Optional.of(ApiJson.toRoutes(requireObject(ex)));
  }

  /** {@code POST /api/v2/device/{id}/routes} with {@code {"routes":[...]}}; answers as the GET does. */
  @Override
  public DeviceRoutes setApprovedRoutes(String deviceId, List<String> routes) throws ControlPlaneException {
    String path = "/api/v2/device/" + segment(requireId(deviceId, "device ID")) + "/routes";
    ObjectNode body = JsonSupport.MAPPER.createObjectNode();
    ArrayNode list = body.putArray("routes");
    routes.forEach(list::add);
    Exchange ex = call("POST", EP_DEVICE_ROUTES, path, bytes(body), true, Map.of());
    requireOk(ex);
    DeviceRoutes result = ApiJson.toRoutes(requireObject(ex));
    LOG.info("approved routes {} of Tailscale device {}", result.approved(), deviceId);
    return result;
  }

  /**
   * Reads the policy with {@code Accept: application/json}. Should the server answer HuJSON anyway, comments and
   * trailing commas are accepted.
   */
  @Override
  public TailnetPolicy readPolicy() throws ControlPlaneException {
    Exchange ex = call("GET", EP_POLICY, EP_POLICY, null, true, Map.of("Accept", "application/json"));
    requireOk(ex);
    JsonNode n = JsonSupport.readObject(ex.response.body(), JsonSupport.HUJSON);
    if (n == null) {
      throw new ControlPlaneException(Kind.OTHER, 200, null,
          ex.request.what() + ": the policy is not a JSON/HuJSON object");
    }
    return JsonSupport.toPolicy(n);
  }

  /** Obtains a token (cached or new) and lists the tailnet's auth keys; see the class comment. */
  @Override
  public void checkCredentials() throws ControlPlaneException {
    requireOk(call("GET", EP_KEYS, EP_KEYS, null, true, Map.of()));
  }

  @Override
  public Capabilities capabilities() {
    return Capabilities.tailscale();
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Extras

  /** Non-secret description of the credentials, e.g. {@code OAuth client ID k123… loaded from /oauth/client_id at …}. */
  public String credentialStatus() {
    return credentials.describe();
  }

  /** Drops the cached access token; the next call fetches a new one. */
  public void invalidateToken() {
    tokens.invalidateAll();
  }

  /** How many access tokens were obtained so far. */
  public int tokensObtained() {
    return tokens.fetches();
  }

  public String apiBaseUrl() {
    return apiBaseUrl;
  }

  public String tokenBaseUrl() {
    return tokenBaseUrl;
  }

  @Override
  public String toString() {
    return "TailscaleApiClient[api=" + apiBaseUrl + ", token=" + tokenBaseUrl + "]";
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Plumbing

  private record Exchange(Transport.Request request, Transport.Response response) {
  }

  /** Sends an authenticated API call; on 401 drops the token and repeats once with a fresh one. */
  private Exchange call(String method, String template, String pathAndQuery, byte[] body, boolean replayable,
      Map<String, String> extraHeaders) throws ControlPlaneException {
    URI uri = URI.create(apiBaseUrl + pathAndQuery);
    String path = pathAndQuery.contains("?") ? pathAndQuery.substring(0, pathAndQuery.indexOf('?')) : pathAndQuery;
    String what = "Tailscale API " + method + " " + path;
    boolean refreshed = false;
    while (true) {
      OAuthTokenSource.Token token = tokens.get();
      Map<String, String> headers = new HashMap<>(extraHeaders);
      headers.put("Authorization", "Bearer " + token.value);
      Transport.Request req = new Transport.Request(method, template, uri, what, body,
          body == null ? null : "application/json", headers, replayable);
      Transport.Response r = transport.execute(req, tokens::secrets);
      if (r.status() == 401 && !refreshed) {
        LOG.info("{}: HTTP 401 with a cached access token; fetching a new token and retrying once", what);
        tokens.invalidate(token);
        refreshed = true;
        continue;
      }
      return new Exchange(req, r);
    }
  }

  private void requireOk(Exchange ex) throws ControlPlaneException {
    if (ex.response.status() != 200) {
      ControlPlaneException e = Transport.httpError(ex.request, ex.response, tokens.secrets());
      LOG.debug("{}", e.getMessage());
      throw e;
    }
  }

  private static JsonNode requireObject(Exchange ex) throws ControlPlaneException {
    JsonNode n = JsonSupport.readObject(ex.response.body(), JsonSupport.MAPPER);
    if (n == null) {
      throw new ControlPlaneException(Kind.OTHER, 200, null,
          ex.request.what() + ": the response is not a JSON object");
    }
    return n;
  }

  private static String requireId(String id, String what) throws ControlPlaneException {
    if (id == null || id.isBlank()) {
      throw new ControlPlaneException(Kind.BAD_REQUEST, 0, null, "empty " + what);
    }
    return id.trim();
  }

  private static byte[] bytes(JsonNode n) {
    try {
      return JsonSupport.MAPPER.writeValueAsBytes(n);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot serialise request", e);
    }
  }

  /** Percent-encodes a path segment, leaving RFC 3986 unreserved characters and sub-delims, ':' and '@' alone. */
  static String segment(String s) {
    StringBuilder sb = new StringBuilder(s.length());
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || "-._~!$&'()*+,;=:@".indexOf(c) >= 0) {
        sb.append((char) c);
      } else {
        sb.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
            .append(Character.toUpperCase(Character.forDigit(c & 0xf, 16)));
      }
    }
    return sb.toString();
  }

  static String normaliseBaseUrl(String url, String what) {
    String u = Objects.requireNonNull(url, what).trim();
    if (u.endsWith("/")) {
      u = u.substring(0, u.length() - 1);
    }
    try {
      URI parsed = new URI(u);
      String scheme = parsed.getScheme();
      if (scheme == null || !(scheme.equalsIgnoreCase("https") || scheme.equalsIgnoreCase("http"))
          || parsed.getHost() == null) {
        throw new IllegalArgumentException(what + " must be an http(s) URL: " + url);
      }
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(what + " is not a valid URL: " + url, e);
    }
    return u;
  }

  /** Configuration of a {@link TailscaleApiClient}. */
  public static final class Builder extends HttpClientSettings<Builder> {
    private final CredentialSource credentials;
    private String apiBaseUrl = DEFAULT_API_BASE_URL;
    private String tokenBaseUrl = DEFAULT_TOKEN_BASE_URL;
    private Duration tokenRefreshMargin = DEFAULT_TOKEN_REFRESH_MARGIN;

    private Builder(CredentialSource credentials) {
      this.credentials = Objects.requireNonNull(credentials, "credentials");
    }

    /** Base URL of REST calls (default {@value #DEFAULT_API_BASE_URL}); one trailing '/' is removed. */
    public Builder apiBaseUrl(String url) {
      this.apiBaseUrl = normaliseBaseUrl(url, "API base URL");
      return this;
    }

    /** Base URL of the token endpoint (default {@value #DEFAULT_TOKEN_BASE_URL}). */
    public Builder tokenBaseUrl(String url) {
      this.tokenBaseUrl = normaliseBaseUrl(url, "token base URL");
      return this;
    }

    /**
     * {@code OPERATOR_LOGIN_SERVER}: when non-blank, both the API and the token base URL become this URL (one trailing
     * '/' removed), as in the official operator. Null or blank leaves the defaults.
     */
    public Builder loginServer(String loginServer) {
      if (loginServer != null && !loginServer.isBlank()) {
        String u = normaliseBaseUrl(loginServer, "login server");
        this.apiBaseUrl = u;
        this.tokenBaseUrl = u;
      }
      return this;
    }

    /** A cached token is replaced when less than this remains (capped at half the token's lifetime). */
    public Builder tokenRefreshMargin(Duration d) {
      this.tokenRefreshMargin = Objects.requireNonNull(d, "tokenRefreshMargin");
      return this;
    }

    @Override
    protected Builder self() {
      return this;
    }

    public TailscaleApiClient build() {
      return new TailscaleApiClient(this);
    }
  }
}
