package io.tailops.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

class LeaseGuardTest {
  static final Instant T0 = Instant.parse("2026-12-07T12:00:00Z");

  static final class MutableClock extends Clock {
    Instant now = T0;

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }

    void advance(Duration d) {
      now = now.plus(d);
    }
  }

  final MutableClock clock = new MutableClock();
  final LeaseGuard guard = new LeaseGuard("pod-a", Duration.ofSeconds(10), clock);

  @Test
  void aStandbyNeverLoses() {
    clock.advance(Duration.ofMinutes(5));
    guard.observed("pod-b", T0);
    assertThat(guard.lost()).isNull();
  }

  @Test
  void renewalsSeenKeepTheLeaderLeading() {
    guard.startedLeading();
    for (int i = 1; i <= 20; i++) {
      clock.advance(Duration.ofSeconds(2));
      guard.observed("pod-a", clock.instant().minusMillis(300));
      assertThat(guard.lost()).isNull();
    }
  }

  @Test
  void noRenewalSeenForTheRenewDeadlineLosesWithoutWaitingForAnyRequest() {
    guard.startedLeading();
    clock.advance(Duration.ofSeconds(2));
    guard.observed("pod-a", clock.instant());
    // The API server stops answering: no more reads succeed.
    clock.advance(Duration.ofSeconds(10));
    assertThat(guard.lost()).isNull();
    clock.advance(Duration.ofMillis(1));
    assertThat(guard.lost()).startsWith("no renewal of the Lease seen for 10001 ms");
  }

  @Test
  void theDeadlineCountsFromTheRenewalNotFromTheRead() {
    guard.startedLeading();
    clock.advance(Duration.ofSeconds(9));
    // A read that answers now, showing a renewal sent 8 s ago (the renewals since then hang).
    guard.observed("pod-a", T0.plusSeconds(1));
    clock.advance(Duration.ofSeconds(2));
    assertThat(guard.lost()).isNull(); // 10 s after the renewal
    clock.advance(Duration.ofMillis(1));
    assertThat(guard.lost()).isNotNull();
  }

  @Test
  void aStaleReadDoesNotMoveTheDeadlineBack() {
    guard.startedLeading();
    clock.advance(Duration.ofSeconds(4));
    guard.observed("pod-a", T0.plusSeconds(4));
    guard.observed("pod-a", T0.plusSeconds(1)); // an older answer arriving late
    clock.advance(Duration.ofSeconds(10));
    assertThat(guard.lost()).isNull();
  }

  @Test
  void theLeaseHeldByAnotherLosesAtOnce() {
    guard.startedLeading();
    clock.advance(Duration.ofSeconds(1));
    guard.observed("pod-b", clock.instant());
    assertThat(guard.lost()).isEqualTo("the Lease is held by pod-b");
  }

  @Test
  void leadingAgainStartsAFreshDeadline() {
    guard.startedLeading();
    guard.observed("pod-b", T0);
    guard.stoppedLeading();
    assertThat(guard.lost()).isNull();
    clock.advance(Duration.ofMinutes(1));
    guard.startedLeading();
    assertThat(guard.lost()).isNull();
  }
}
