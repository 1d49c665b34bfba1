package io.tailops.controlplane.tailscale;

import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * The HTTP settings both control-plane clients (Tailscale API v2 and headscale) take in their builders: timeouts, the
 * retry policy, a call listener, the clock, the User-Agent and an optional preconfigured {@link HttpClient}.
 *
 * @param <B> the concrete builder, returned by every setter
 */
public abstract class HttpClientSettings<B extends HttpClientSettings<B>> {
  /** User-Agent of the official operator's API client. */
  public static final String USER_AGENT = "tailscale-k8s-operator";
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);

  /** The settings as a client uses them; {@code http} is the given client or a new one with the connect timeout. */
  public record Settings(HttpClient http, Duration requestTimeout, RetryPolicy retryPolicy, ApiCallListener listener,
      Clock clock, String userAgent) {
  }

  private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
  private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
  private RetryPolicy retryPolicy = RetryPolicy.defaults();
  private ApiCallListener listener = ApiCallListener.NONE;
  private Clock clock = Clock.systemUTC();
  private String userAgent = USER_AGENT;
  private HttpClient httpClient;

  protected abstract B self();

  public B connectTimeout(Duration d) {
    this.connectTimeout = requirePositive(d, "connectTimeout");
    return self();
  }

  /** Timeout of each attempt, from sending the request until the response headers arrive. */
  public B requestTimeout(Duration d) {
    this.requestTimeout = requirePositive(d, "requestTimeout");
    return self();
  }

  public B retryPolicy(RetryPolicy p) {
    this.retryPolicy = Objects.requireNonNull(p, "retryPolicy");
    return self();
  }

  public B listener(ApiCallListener l) {
    this.listener = l == null ? ApiCallListener.NONE : l;
    return self();
  }

  /** Clock for token and key expiry and HTTP-date {@code Retry-After} values. */
  public B clock(Clock c) {
    this.clock = Objects.requireNonNull(c, "clock");
    return self();
  }

  public B userAgent(String ua) {
    this.userAgent = Objects.requireNonNull(ua, "userAgent");
    return self();
  }

  /** A preconfigured HTTP client (then {@link #connectTimeout(Duration)} is ignored). */
  public B httpClient(HttpClient client) {
    this.httpClient = client;
    return self();
  }

  /** What was set, with an HTTP/1.1 client that follows no redirects unless one was given. */
  public Settings settings() {
    HttpClient http = httpClient != null ? httpClient
        : HttpClient.newBuilder()
            .connectTimeout(connectTimeout)
            .version(HttpClient.Version.HTTP_1_1)
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
    return new Settings(http, requestTimeout, retryPolicy, listener, clock, userAgent);
  }

  protected static Duration requirePositive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException(name + " must be positive: " + d);
    }
    return d;
  }
}
