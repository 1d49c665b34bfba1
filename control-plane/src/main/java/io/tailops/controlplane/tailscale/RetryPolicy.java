package io.tailops.controlplane.tailscale;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * Bounded retries with exponential backoff and full jitter, for 429, 5xx (except 501) and transport errors. Immutable;
 * every part (attempts, delays, sleeper, randomness) can be replaced so tests run without real waiting.
 *
 * <p>The delay before retry number {@code n} (after {@code n} failed attempts) is uniformly random in
 * {@code [0, min(maxDelay, baseDelay * 2^(n-1))]} ("full jitter"). A 429 with a {@code Retry-After} header (seconds or
 * HTTP date) waits exactly that long instead when it is at most {@code maxRetryAfter}; a longer hint is not waited out
 * within the call (see {@code Transport}).
 */
public final class RetryPolicy {
  /** Sleeps; replaceable in tests. */
  @FunctionalInterface
  public interface Sleeper {
    /** The real {@link Thread#sleep(long)}. */
    Sleeper SYSTEM = d -> Thread.sleep(d.toMillis(), d.toNanosPart() % 1_000_000);

    void sleep(Duration duration) throws InterruptedException;
  }

  private final int maxAttempts;
  private final Duration baseDelay;
  private final Duration maxDelay;
  private final Duration maxRetryAfter;
  private final Sleeper sleeper;
  private final DoubleSupplier random;

  private RetryPolicy(int maxAttempts, Duration baseDelay, Duration maxDelay, Duration maxRetryAfter, Sleeper sleeper,
      DoubleSupplier random) {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1: " + maxAttempts);
    }
    requirePositiveOrZero(baseDelay, "baseDelay");
    requirePositiveOrZero(maxDelay, "maxDelay");
    requirePositiveOrZero(maxRetryAfter, "maxRetryAfter");
    this.maxAttempts = maxAttempts;
    this.baseDelay = baseDelay;
    this.maxDelay = maxDelay;
    this.maxRetryAfter = maxRetryAfter;
    this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
    this.random = Objects.requireNonNull(random, "random");
  }

  /**
   * 4 attempts, 500 ms base delay, 10 s maximum backoff; a {@code Retry-After} up to 10 s is waited out within the
   * call, a longer one ends it (the caller reschedules).
   */
  public static RetryPolicy defaults() {
    return new RetryPolicy(4, Duration.ofMillis(500), Duration.ofSeconds(10), Duration.ofSeconds(10), Sleeper.SYSTEM,
        () -> ThreadLocalRandom.current().nextDouble());
  }

  /** One attempt, no retries. */
  public static RetryPolicy noRetries() {
    return defaults().withMaxAttempts(1);
  }

  /** Total attempts including the first (1 = no retries). */
  public RetryPolicy withMaxAttempts(int n) {
    return new RetryPolicy(n, baseDelay, maxDelay, maxRetryAfter, sleeper, random);
  }

  public RetryPolicy withBaseDelay(Duration d) {
    return new RetryPolicy(maxAttempts, d, maxDelay, maxRetryAfter, sleeper, random);
  }

  public RetryPolicy withMaxDelay(Duration d) {
    return new RetryPolicy(maxAttempts, baseDelay, d, maxRetryAfter, sleeper, random);
  }

  /**
   * The longest server-provided {@code Retry-After} waited out within one call; a longer one ends the call with the
   * hint in the exception.
   */
  public RetryPolicy withMaxRetryAfter(Duration d) {
    return new RetryPolicy(maxAttempts, baseDelay, maxDelay, d, sleeper, random);
  }

  public RetryPolicy withSleeper(Sleeper s) {
    return new RetryPolicy(maxAttempts, baseDelay, maxDelay, maxRetryAfter, s, random);
  }

  /** Source of uniformly distributed values in {@code [0, 1)} for the jitter. */
  public RetryPolicy withRandom(DoubleSupplier r) {
    return new RetryPolicy(maxAttempts, baseDelay, maxDelay, maxRetryAfter, sleeper, r);
  }

  public int maxAttempts() {
    return maxAttempts;
  }

  public Duration baseDelay() {
    return baseDelay;
  }

  public Duration maxDelay() {
    return maxDelay;
  }

  public Duration maxRetryAfter() {
    return maxRetryAfter;
  }

  public Sleeper sleeper() {
    return sleeper;
  }

  /** Full-jitter backoff after {@code failedAttempts} (≥ 1) failures. */
  public Duration backoff(int failedAttempts) {
    int shift = Math.min(Math.max(failedAttempts - 1, 0), 30);
    long capMillis = Math.min(maxDelay.toMillis(), saturatedShift(baseDelay.toMillis(), shift));
    double r = Math.min(Math.max(random.getAsDouble(), 0.0), 1.0);
    return Duration.ofMillis((long) Math.floor(r * capMillis));
  }

  /**
   * Parses a {@code Retry-After} value: delta-seconds ({@code "120"}) or an HTTP date
   * ({@code "Fri, 13 Feb 2026 10:00:00 GMT"}), relative to {@code now}. Dates in the past give zero; anything else is
   * empty.
   */
  public static Optional<Duration> parseRetryAfter(String value, Instant now) {
    if (value == null) {
      return Optional.empty();
    }
    String v = value.trim();
    if (v.isEmpty()) {
      return Optional.empty();
    }
    if (v.chars().allMatch(Character::isDigit)) {
      if (v.length() > 9) { // absurdly large; the cap applies anyway
        return Optional.of(Duration.ofSeconds(999_999_999L));
      }
      return Optional.of(Duration.ofSeconds(Long.parseLong(v)));
    }
    try {
      Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
      Duration d = Duration.between(now, at);
      return Optional.of(d.isNegative() ? Duration.ZERO : d);
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  private static long saturatedShift(long value, int shift) {
    if (value == 0) {
      return 0;
    }
    return value > (Long.MAX_VALUE >> shift) ? Long.MAX_VALUE : value << shift;
  }

  private static void requirePositiveOrZero(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative()) {
      throw new IllegalArgumentException(name + " must not be negative: " + d);
    }
  }

  @Override
  public String toString() {
    return "RetryPolicy[maxAttempts=" + maxAttempts + ", baseDelay=" + baseDelay + ", maxDelay=" + maxDelay
        + ", maxRetryAfter=" + maxRetryAfter + "]";
  }
}
