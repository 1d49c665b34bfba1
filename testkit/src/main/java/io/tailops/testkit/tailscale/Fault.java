package io.tailops.testkit.tailscale;

import java.time.Duration;
import java.util.Objects;

/**
 * A fault that {@link FakeTailscaleApi} injects instead of (or before) normal processing. Immutable; build one with
 * {@link #status(int)}, {@link #delay(Duration)} or {@link #hang()} and register it with
 * {@link FakeTailscaleApi#inject(Fault)}.
 *
 * <pre>{@code
 * fake.inject(Fault.status(429).retryAfter("2")).on(Endpoint.CREATE_KEY).times(1);
 * fake.inject(Fault.status(500)).everywhere().always();
 * fake.inject(Fault.delay(Duration.ofSeconds(2))).on(Endpoint.GET_DEVICE).times(3);
 * fake.inject(Fault.hang()).on(Endpoint.CREATE_KEY).times(1);
 * }</pre>
 */
public final class Fault {
  private final int status;
  private final String message;
  private final String retryAfter;
  private final Duration delay;
  private final boolean hang;

  private Fault(int status, String message, String retryAfter, Duration delay, boolean hang) {
    this.status = status;
    this.message = message;
    this.retryAfter = retryAfter;
    this.delay = delay;
    this.hang = hang;
  }

  /**
   * Answers with {@code status} and a JSON error body carrying the message the real API uses for that status
   * (wire-contracts §1.6), e.g. 401 {@code API token invalid}.
   */
  public static Fault status(int status) {
    return status(status, defaultMessage(status));
  }

  /** Answers with {@code status} and {@code {"message": message}}. */
  public static Fault status(int status, String message) {
    if (status < 100 || status > 599) {
      throw new IllegalArgumentException("not an HTTP status: " + status);
    }
    return new Fault(status, Objects.requireNonNull(message, "message"), null, Duration.ZERO, false);
  }

  /** Waits {@code delay} and then processes the request normally (a slow server). */
  public static Fault delay(Duration delay) {
    return new Fault(0, null, null, requireNonNegative(delay), false);
  }

  /**
   * Never answers: the request is held until {@link FakeTailscaleApi#releaseHangs()} or {@link FakeTailscaleApi#close()},
   * then the connection is dropped without a response and the request is not processed. Use it to provoke client
   * timeouts.
   */
  public static Fault hang() {
    return new Fault(0, null, null, Duration.ZERO, true);
  }

  /** Adds a {@code Retry-After} header with this exact value (seconds or an HTTP date). */
  public Fault retryAfter(String headerValue) {
    requireStatus();
    return new Fault(status, message, Objects.requireNonNull(headerValue, "headerValue"), delay, hang);
  }

  /** Adds {@code Retry-After: <seconds>}. */
  public Fault retryAfterSeconds(long seconds) {
    return retryAfter(Long.toString(seconds));
  }

  /** Waits {@code delay} before answering with this fault's status. */
  public Fault afterDelay(Duration delay) {
    requireStatus();
    return new Fault(status, message, retryAfter, requireNonNegative(delay), hang);
  }

  /** Status to answer with, or 0 when the request is processed normally after {@link #delay()}. */
  public int status() {
    return status;
  }

  /** Error message sent in the body, or null. */
  public String message() {
    return message;
  }

  /** {@code Retry-After} header value, or null. */
  public String retryAfter() {
    return retryAfter;
  }

  /** Delay before answering (zero for none). */
  public Duration delay() {
    return delay;
  }

  /** Whether the request is held without an answer. */
  public boolean isHang() {
    return hang;
  }

  @Override
  public String toString() {
    if (hang) {
      return "Fault[hang]";
    }
    StringBuilder sb = new StringBuilder("Fault[");
    if (status != 0) {
      sb.append("status=").append(status);
      if (retryAfter != null) {
        sb.append(", retryAfter=").append(retryAfter);
      }
      if (!delay.isZero()) {
        sb.append(", ");
      }
    }
    if (!delay.isZero()) {
      sb.append("delay=").append(delay);
    }
    return sb.append(']').toString();
  }

  private void requireStatus() {
    if (status == 0) {
      throw new IllegalStateException("only status faults can carry this option");
    }
  }

  private static Duration requireNonNegative(Duration d) {
    Objects.requireNonNull(d, "delay");
    if (d.isNegative()) {
      throw new IllegalArgumentException("negative delay: " + d);
    }
    return d;
  }

  static String defaultMessage(int status) {
    return switch (status) {
      case 400 -> "bad request";
      case 401 -> FakeTailscaleApi.MSG_TOKEN_INVALID;
      case 403 -> FakeTailscaleApi.MSG_FORBIDDEN;
      case 404 -> "not found";
      case 429 -> "too many requests";
      case 500 -> "internal server error";
      case 502 -> "bad gateway";
      case 503 -> "service unavailable";
      default -> "injected fault (HTTP " + status + ")";
    };
  }
}
