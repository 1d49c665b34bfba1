package io.tailops.controlplane.tailscale;

import io.tailops.controlplane.JsonSupport;

import com.fasterxml.jackson.databind.JsonNode;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.ControlPlaneException.Kind;
import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OAuth 2.0 client-credentials tokens from {@code <base>/api/v2/oauth/token} (wire-contracts §1.2), cached until
 * shortly before expiry.
 *
 * <ul>
 *   <li>Credential style: HTTP Basic first; on a non-transient failure (an HTTP answer other than 429/5xx) the other
 *       style (form body {@code client_id}/{@code client_secret}) is tried once. The style that worked is remembered
 *       and tried first next time. Transient failures are retried with the same style by the retry policy; they say
 *       nothing about the style.
 *   <li>Caching: a token is reused until less than {@code refreshMargin} (default 60 s, at most half the token's
 *       lifetime) remains. The credentials are re-read before every use; when they changed the token is dropped.
 *   <li>{@link #invalidate(Token)} drops a token the API rejected with 401.
 * </ul>
 */
final class OAuthTokenSource {
  private static final Logger LOG = LoggerFactory.getLogger(TailscaleApiClient.class);
  static final String TOKEN_TEMPLATE = "/api/v2/oauth/token";
  private static final Duration DEFAULT_LIFETIME = Duration.ofHours(1);

  enum Style {
    BASIC,
    BODY
  }

  /** An access token; {@link #toString()} never shows it. */
  static final class Token {
    final String value;
    final Instant expires;
    final Instant refreshAt;
    final OAuthCredentials credentials;

    Token(String value, Instant expires, Instant refreshAt, OAuthCredentials credentials) {
      this.value = value;
      this.expires = expires;
      this.refreshAt = refreshAt;
      this.credentials = credentials;
    }

    @Override
    public String toString() {
      return "Token[expires=" + expires + "]";
    }
  }

  private final Transport transport;
  private final URI tokenUri;
  private final CredentialSource credentials;
  private final Clock clock;
  private final Duration refreshMargin;

  // Written under this; volatile so that secrets() can read them without waiting for a token request.
  private volatile Token cached;
  private volatile OAuthCredentials lastCredentials;
  // Guarded by this.
  private Style preferred;
  private int fetches;

  OAuthTokenSource(Transport transport, URI tokenUri, CredentialSource credentials, Clock clock,
      Duration refreshMargin) {
    this.transport = transport;
    this.tokenUri = tokenUri;
    this.credentials = credentials;
    this.clock = clock;
    this.refreshMargin = refreshMargin;
  }

  /** A valid token, fetching one when there is none, it is about to expire, or the credentials changed. */
  synchronized Token get() throws ControlPlaneException {
    OAuthCredentials creds = credentials.current();
    if (lastCredentials != null && !creds.equals(lastCredentials)) {
      LOG.info("OAuth credentials changed (client ID {}); dropping the cached access token", creds.clientIdHint());
      cached = null;
      preferred = null;
    }
    lastCredentials = creds;
    if (cached != null && clock.instant().isBefore(cached.refreshAt)) {
      return cached;
    }
    cached = fetch(creds);
    return cached;
  }

  /** Drops {@code token} if it is still the cached one (the API answered 401 to it). */
  synchronized void invalidate(Token token) {
    if (cached == token) {
      cached = null;
    }
  }

  /** Drops whatever token is cached. */
  synchronized void invalidateAll() {
    cached = null;
  }

  /** How many token requests succeeded (for status pages and tests). */
  synchronized int fetches() {
    return fetches;
  }

  synchronized Style preferredStyle() {
    return preferred;
  }

  /** Secrets that must never appear in messages: the client secret and the cached token. Never blocks. */
  Collection<String> secrets() {
    List<String> out = new ArrayList<>(2);
    OAuthCredentials creds = lastCredentials;
    Token token = cached;
    if (creds != null) {
      out.add(creds.clientSecret());
    }
    if (token != null) {
      out.add(token.value);
    }
    return out;
  }

  private Token fetch(OAuthCredentials creds) throws ControlPlaneException {
    Style first = preferred != null ? preferred : Style.BASIC;
    Token t;
    try {
      t = request(creds, first);
      preferred = first;
    } catch (ControlPlaneException e) {
      if (e.isTransient() || e.status() == 0) {
        throw e;
      }
      Style second = first == Style.BASIC ? Style.BODY : Style.BASIC;
      LOG.debug("OAuth token request with credentials in {} failed (HTTP {}); trying {}", first, e.status(), second);
      t = request(creds, second);
      preferred = second;
    }
    fetches++;
    return t;
  }

  private Token request(OAuthCredentials creds, Style style) throws ControlPlaneException {
    StringBuilder form = new StringBuilder("grant_type=client_credentials");
    Map<String, String> headers = new HashMap<>();
    if (style == Style.BASIC) {
      String userPass = enc(creds.clientId()) + ":" + enc(creds.clientSecret());
      headers.put("Authorization",
          "Basic " + Base64.getEncoder().encodeToString(userPass.getBytes(StandardCharsets.UTF_8)));
    } else {
      form.append("&client_id=").append(enc(creds.clientId()))
          .append("&client_secret=").append(enc(creds.clientSecret()));
    }
    Transport.Request req = new Transport.Request("POST", TOKEN_TEMPLATE, tokenUri,
        "Tailscale OAuth token request to " + tokenUri, form.toString().getBytes(StandardCharsets.UTF_8),
        "application/x-www-form-urlencoded", headers, true);
    Collection<String> secrets = List.of(creds.clientSecret());
    Instant sentAt = clock.instant();
    Transport.Response r = transport.execute(req, () -> secrets);
    if (r.status() != 200) {
      throw Transport.httpError(req, r, secrets);
    }
    return parse(req, r.body(), sentAt, creds);
  }

  /**
   * Parses the token response. JSON is expected; a form-encoded body (which the Go library also accepts) is tolerated.
   * Parse failures never include the body or the parser's message, since both may contain the token.
   */
  private Token parse(Transport.Request req, byte[] body, Instant sentAt, OAuthCredentials creds)
      throws ControlPlaneException {
    String token = null;
    long expiresIn = 0;
    JsonNode n = JsonSupport.readObject(body, JsonSupport.MAPPER);
    if (n != null) {
      JsonNode at = n.get("access_token");
      token = at != null && at.isTextual() ? at.asText() : null;
      JsonNode ei = n.get("expires_in");
      expiresIn = ei != null && (ei.isNumber() || ei.isTextual()) ? ei.asLong(0) : 0;
    } else if (body != null && body.length > 0) {
      for (String pair : new String(body, StandardCharsets.UTF_8).split("&")) {
        int eq = pair.indexOf('=');
        if (eq > 0) {
          String k = URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8);
          String v = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
          if (k.equals("access_token")) {
            token = v;
          } else if (k.equals("expires_in")) {
            try {
              expiresIn = Long.parseLong(v.trim());
            } catch (NumberFormatException e) {
              expiresIn = 0;
            }
          }
        }
      }
    }
    if (token == null || token.isBlank()) {
      throw new ControlPlaneException(Kind.OTHER, 200, null,
          req.what() + ": the response has no access_token");
    }
    Duration lifetime = expiresIn > 0 ? Duration.ofSeconds(expiresIn) : DEFAULT_LIFETIME;
    Duration margin = refreshMargin.compareTo(lifetime.dividedBy(2)) > 0 ? lifetime.dividedBy(2) : refreshMargin;
    Instant expires = sentAt.plus(lifetime);
    LOG.debug("obtained an OAuth access token for client ID {} (expires in {} s)", creds.clientIdHint(),
        lifetime.toSeconds());
    return new Token(token, expires, expires.minus(margin), creds);
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
