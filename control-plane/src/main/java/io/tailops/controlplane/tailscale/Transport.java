package io.tailops.controlplane.tailscale;

import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.CrashPoints;
import io.tailops.controlplane.ControlPlaneException.Kind;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends one logical request with bounded retries and maps failures to {@link ControlPlaneException}. Shared by the
 * token source and the API client.
 */
final class Transport {
  /** Responses above this size are rejected, as the Go client does. */
  static final int MAX_BODY_BYTES = 10 * 1024 * 1024;
  private static final int MAX_SERVER_MESSAGE_CHARS = 300;
  private static final Logger LOG = LoggerFactory.getLogger(TailscaleApiClient.class);

  private final HttpClient http;
  private final String userAgent;
  private final Duration requestTimeout;
  private final RetryPolicy retry;
  private final ApiCallListener listener;
  private final Clock clock;
  /**
   * Until when the server asked us not to call (the latest 429's {@code Retry-After}); null when it has not. Shared by
   * every caller of this client, so one proxy's rate limit also holds back the next reconcile, the next proxy and the
   * token refresh instead of each finding out with a request of its own.
   */
  private final AtomicReference<Instant> quietUntil = new AtomicReference<>();

  Transport(HttpClient http, String userAgent, Duration requestTimeout, RetryPolicy retry, ApiCallListener listener,
      Clock clock) {
    this.http = http;
    this.userAgent = userAgent;
    this.requestTimeout = requestTimeout;
    this.retry = retry;
    this.listener = listener;
    this.clock = clock;
  }

  /**
   * A request.
   *
   * @param what human description for messages, e.g. {@code Tailscale API GET /api/v2/device/n123}
   * @param replayable whether the request may be sent again after a failure that happened after it may have reached
   *     the server (timeout, reset connection); false for {@code POST /keys}, where each success mints a secret
   */
  record Request(String method, String template, URI uri, String what, byte[] body, String contentType,
      Map<String, String> headers, boolean replayable) {
  }

  /**
   * A response (any status) and how many attempts it took; {@code retryAfter} is the server's wait hint of a final
   * 429, or null.
   */
  record Response(int status, byte[] body, HttpHeaders headers, int attempts, Duration retryAfter) {
  }

  /**
   * Sends {@code req}, retrying 429, 5xx (except 501) and transport errors per the retry policy. Returns the last
   * response whatever its status; throws only when no response arrived, or without sending anything while an earlier
   * 429's {@code Retry-After} still holds.
   *
   * <p>A {@code Retry-After} up to the policy's {@code maxRetryAfter} is waited out within this call; a longer one
   * ends the call at once with the hint in the exception, so that the caller reschedules instead of holding a thread.
   */
  Response execute(Request req, Supplier<Collection<String>> secrets) throws ControlPlaneException {
    Instant until = quietUntil.get();
    if (until != null) {
      Duration left = Duration.between(clock.instant(), until);
      if (left.isNegative() || left.isZero()) {
        quietUntil.compareAndSet(until, null);
      } else {
        LOG.debug("{}: not sent; the API asked to wait {} ms more (Retry-After)", req.what(), left.toMillis());
        throw new ControlPlaneException(Kind.RATE_LIMITED, 429, null, req.what() + ": not sent; the Tailscale API "
            + "rate-limited this client and asked it to wait " + seconds(left) + " more (Retry-After)", null, left);
      }
    }
    int max = retry.maxAttempts();
    for (int attempt = 1;; attempt++) {
      long start = System.nanoTime();
      HttpResponse<byte[]> hr;
      boolean crashPoint = CrashPoints.ENABLED && !"GET".equals(req.method()); // test-only, see CrashPoints
      if (crashPoint) {
        CrashPoints.before(req.method() + " " + req.template(), req.uri().getPath());
      }
      try {
        hr = http.send(build(req), info -> new LimitedBodySubscriber(MAX_BODY_BYTES));
        if (crashPoint) {
          CrashPoints.after(req.method() + " " + req.template(), req.uri().getPath(), hr.statusCode());
        }
      } catch (InterruptedException e) {
        report(req, -1, start);
        Thread.currentThread().interrupt();
        throw new ControlPlaneException(Kind.TRANSPORT, 0, null, req.what() + ": interrupted", e);
      } catch (IOException e) {
        report(req, -1, start);
        if (isTooLarge(e)) {
          throw new ControlPlaneException(Kind.OTHER, 0, null,
              req.what() + ": response body larger than " + MAX_BODY_BYTES + " bytes");
        }
        boolean notDelivered = e instanceof ConnectException || e instanceof HttpConnectTimeoutException;
        boolean mayRetry = req.replayable() || notDelivered;
        String cause = describe(e, secrets.get());
        if (mayRetry && attempt < max) {
          Duration d = retry.backoff(attempt);
          LOG.warn("{}: no response ({}); retrying in {} ms (attempt {}/{})", req.what(), cause, d.toMillis(),
              attempt, max);
          sleep(req, d);
          continue;
        }
        String why = mayRetry ? "gave up after " + attempt + " attempt" + (attempt == 1 ? "" : "s")
            : "not retried because the request may have reached the server and repeating it could mint a second key";
        throw new ControlPlaneException(Kind.TRANSPORT, 0, null,
            req.what() + ": no response (" + cause + "); " + why, e);
      }
      report(req, hr.statusCode(), start);
      Duration hint = hr.statusCode() != 429 ? null
          : RetryPolicy.parseRetryAfter(hr.headers().firstValue("Retry-After").orElse(null), clock.instant())
              .orElse(null);
      if (hint != null && !hint.isZero()) {
        Instant next = clock.instant().plus(hint);
        quietUntil.accumulateAndGet(next, (a, b) -> a == null || b.isAfter(a) ? b : a);
      }
      Response r = new Response(hr.statusCode(), hr.body(), hr.headers(), attempt, hint);
      boolean hintTooLong = hint != null && hint.compareTo(retry.maxRetryAfter()) > 0;
      if (isRetriable(r.status()) && attempt < max && !hintTooLong) {
        Duration d = hint != null ? hint : retry.backoff(attempt);
        LOG.warn("{}: HTTP {}; retrying in {} ms (attempt {}/{})", req.what(), r.status(), d.toMillis(), attempt,
            max);
        sleep(req, d);
        continue;
      }
      return r;
    }
  }

  /** Maps a non-200 response to a typed exception carrying the status and the (redacted) server message. */
  static ControlPlaneException httpError(Request req, Response r, Collection<String> secrets) {
    String serverMessage = Redactor.redact(ApiJson.errorMessage(r.body()), secrets);
    if (serverMessage != null && serverMessage.length() > MAX_SERVER_MESSAGE_CHARS) {
      serverMessage = serverMessage.substring(0, MAX_SERVER_MESSAGE_CHARS) + "…";
    }
    int s = r.status();
    Kind kind = kindOf(s, serverMessage);
    StringBuilder msg = new StringBuilder(req.what()).append(": HTTP ").append(s);
    if (serverMessage != null) {
      msg.append(": ").append(serverMessage);
    } else {
      msg.append(" (response body was not a Tailscale JSON error)");
    }
    if (r.attempts() > 1) {
      msg.append(" (gave up after ").append(r.attempts()).append(" attempts)");
    }
    if (r.retryAfter() != null) {
      msg.append(" (the API asked to wait ").append(seconds(r.retryAfter())).append(")");
    }
    String scope = kind == Kind.FORBIDDEN ? ApiScopes.required(req.method(), req.template()).orElse(null) : null;
    return new ControlPlaneException(kind, s, serverMessage, msg.toString(), null, r.retryAfter(), scope);
  }

  static Kind kindOf(int status, String serverMessage) {
    return switch (status) {
      case 401 -> Kind.UNAUTHORIZED;
      case 403 -> Kind.FORBIDDEN;
      case 400 -> serverMessage != null && serverMessage.toLowerCase(Locale.ROOT).contains("tag")
          ? Kind.TAG_NOT_PERMITTED : Kind.BAD_REQUEST;
      case 422 -> Kind.BAD_REQUEST;
      case 404 -> Kind.NOT_FOUND;
      case 429 -> Kind.RATE_LIMITED;
      default -> status >= 500 && status <= 599 ? Kind.SERVER_ERROR : Kind.OTHER;
    };
  }

  /** 429 and 5xx other than 501 (Not Implemented, e.g. "cannot delete devices outside of your tailnet"). */
  static boolean isRetriable(int status) {
    return status == 429 || (status >= 500 && status <= 599 && status != 501);
  }

  private HttpRequest build(Request req) {
    HttpRequest.Builder b = HttpRequest.newBuilder(req.uri())
        .timeout(requestTimeout)
        .header("User-Agent", userAgent);
    req.headers().forEach(b::header);
    if (req.body() != null) {
      if (req.contentType() != null) {
        b.header("Content-Type", req.contentType());
      }
      b.method(req.method(), HttpRequest.BodyPublishers.ofByteArray(req.body()));
    } else {
      b.method(req.method(), HttpRequest.BodyPublishers.noBody());
    }
    return b.build();
  }

  private void report(Request req, int status, long startNanos) {
    try {
      listener.onRequest(req.method(), req.template(), status, Duration.ofNanos(System.nanoTime() - startNanos));
    } catch (RuntimeException e) {
      LOG.debug("ApiCallListener failed; ignoring", e);
    }
    if (LOG.isDebugEnabled()) {
      LOG.debug("{} {} -> {} in {} ms", req.method(), req.template(), status,
          (System.nanoTime() - startNanos) / 1_000_000);
    }
  }

  private void sleep(Request req, Duration d) throws ControlPlaneException {
    try {
      retry.sleeper().sleep(d);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ControlPlaneException(Kind.TRANSPORT, 0, null, req.what() + ": interrupted while waiting to retry",
          e);
    }
  }

  private static String seconds(Duration d) {
    return (d.toMillis() + 999) / 1000 + " s"; // rounded up: never suggests calling too early
  }

  private static String describe(IOException e, Collection<String> secrets) {
    String m = e.getMessage();
    String name = e.getClass().getSimpleName();
    return m == null || m.isBlank() ? name : name + ": " + Redactor.redact(m, secrets);
  }

  private static boolean isTooLarge(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ResponseTooLargeException) {
        return true;
      }
    }
    return false;
  }

  /** Thrown by {@link LimitedBodySubscriber} when a body exceeds the limit. */
  static final class ResponseTooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    ResponseTooLargeException(int limit) {
      super("response body larger than " + limit + " bytes");
    }
  }

  /** Collects a body into a byte array, failing (and cancelling the stream) past a size limit. */
  static final class LimitedBodySubscriber implements HttpResponse.BodySubscriber<byte[]> {
    private final int limit;
    private final CompletableFuture<byte[]> result = new CompletableFuture<>();
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private Flow.Subscription subscription;

    LimitedBodySubscriber(int limit) {
      this.limit = limit;
    }

    @Override
    public CompletionStage<byte[]> getBody() {
      return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      this.subscription = s;
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (result.isDone()) {
        return;
      }
      for (ByteBuffer b : items) {
        if (buffer.size() + b.remaining() > limit) {
          subscription.cancel();
          result.completeExceptionally(new ResponseTooLargeException(limit));
          return;
        }
        byte[] chunk = new byte[b.remaining()];
        b.get(chunk);
        buffer.write(chunk, 0, chunk.length);
      }
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onComplete() {
      result.complete(buffer.toByteArray());
    }
  }
}
