package io.tailops.operator.runtime;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * The operator's own state as users should see it without reading logs: whether its credentials work (and since
 * when they do not), whether it leads, and the last errors. Read by {@code /readyz}, the status page, {@code doctor}
 * and the operator status ConfigMap.
 */
public final class OperatorHealth implements io.tailops.operator.reconcile.RecentErrors {
  /** State of the control-plane credentials. */
  public enum CredentialState {
    UNKNOWN, VALID, INVALID, UNAVAILABLE
  }

  /** A recent error, for the status page. */
  public record RecentError(Instant at, String object, String message) {
  }

  private final Clock clock;
  private volatile CredentialState credentials = CredentialState.UNKNOWN;
  private volatile String credentialMessage = "";
  private volatile Instant credentialsChangedAt;
  private volatile boolean started;
  private volatile boolean leader;
  private final Deque<RecentError> errors = new ConcurrentLinkedDeque<>();
  private final Map<String, String> notes = new ConcurrentHashMap<>();

  public OperatorHealth(Clock clock) {
    this.clock = clock;
    this.credentialsChangedAt = clock.instant();
  }

  /** Records the outcome of a call that needed the credentials; returns true when the state changed. */
  public synchronized boolean credentials(CredentialState state, String message) {
    boolean changed = state != credentials;
    if (changed) {
      credentialsChangedAt = clock.instant();
    }
    credentials = state;
    credentialMessage = message == null ? "" : message;
    return changed;
  }

  public CredentialState credentialState() {
    return credentials;
  }

  public String credentialMessage() {
    return credentialMessage;
  }

  public Instant credentialsChangedAt() {
    return credentialsChangedAt;
  }

  @Override
  public void error(String object, String message) {
    errors.addFirst(new RecentError(clock.instant(), object, message));
    while (errors.size() > 50) {
      errors.removeLast();
    }
  }

  public List<RecentError> recentErrors() {
    return new ArrayList<>(errors);
  }

  public void started(boolean started) {
    this.started = started;
  }

  public boolean isStarted() {
    return started;
  }

  private final List<Runnable> onLeading = new java.util.concurrent.CopyOnWriteArrayList<>();

  public void leader(boolean leader) {
    boolean became = leader && !this.leader;
    this.leader = leader;
    if (became) {
      for (Runnable r : onLeading) {
        try {
          r.run();
        } catch (RuntimeException e) {
          // a listener's failure must not stop the leader election's callback
        }
      }
    }
  }

  /** Runs {@code r} each time this process becomes the leader (and at once if it is already). */
  public void onLeading(Runnable r) {
    onLeading.add(r);
    if (leader) {
      r.run();
    }
  }

  public boolean isLeader() {
    return leader;
  }

  /** Free-form facts for the status page (e.g. "control plane" → "Tailscale at https://api.tailscale.com"). */
  public Map<String, String> notes() {
    return notes;
  }
}
