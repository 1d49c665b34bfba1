package io.tailops.operator.runtime;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Whether this replica may still act as the leader, judged by what it can prove: the newest renewal of the Lease by
 * this replica that it has seen on the API server. The leader election library checks its renew deadline only between
 * attempts, so a renewal that hangs (the API server unreachable, requests never answered) keeps the replica "leading"
 * past the moment a standby may take the Lease. This guard does not wait for any request: the leader must stop when
 * it has not seen its own renewal for the renew deadline, which is shorter than the lease duration a standby waits
 * after the last renewal it saw (a renewal's {@code renewTime} is this replica's clock when it sent it, so the standby
 * can only see it later).
 *
 * <p>Plain state; {@link OperatorRuntime} feeds it from a periodic read of the Lease and checks it on a timer.
 */
public final class LeaseGuard {
  /** The lease settings (documented in docs/reliability.md, "Leader fail-over"). */
  public static final Duration LEASE_DURATION = Duration.ofSeconds(15);
  public static final Duration RENEW_DEADLINE = Duration.ofSeconds(10);
  public static final Duration RETRY_PERIOD = Duration.ofSeconds(2);

  private final String identity;
  private final Duration renewDeadline;
  private final Clock clock;
  private boolean leading;
  private Instant confirmed;
  private String lostReason;

  public LeaseGuard(String identity, Duration renewDeadline, Clock clock) {
    this.identity = identity;
    this.renewDeadline = renewDeadline;
    this.clock = clock;
  }

  /** This replica has just acquired the Lease (the election's callback). */
  public synchronized void startedLeading() {
    leading = true;
    lostReason = null;
    confirmed = clock.instant();
  }

  public synchronized void stoppedLeading() {
    leading = false;
  }

  /** A successful read of the Lease: its holder and {@code renewTime}. */
  public synchronized void observed(String holder, Instant renewTime) {
    if (!leading) {
      return;
    }
    if (!identity.equals(holder)) {
      lostReason = "the Lease is held by " + holder;
      return;
    }
    if (renewTime != null && renewTime.isAfter(confirmed)) {
      confirmed = renewTime;
    }
  }

  /**
   * Why this replica must stop leading now, or null while it may go on: it leads and either saw the Lease held by
   * another, or has not seen its own renewal for longer than the renew deadline.
   */
  public synchronized String lost() {
    if (!leading) {
      return null;
    }
    if (lostReason != null) {
      return lostReason;
    }
    Duration since = Duration.between(confirmed, clock.instant());
    if (since.compareTo(renewDeadline) > 0) {
      return "no renewal of the Lease seen for " + since.toMillis() + " ms (renew deadline "
          + renewDeadline.toMillis() + " ms)";
    }
    return null;
  }
}
