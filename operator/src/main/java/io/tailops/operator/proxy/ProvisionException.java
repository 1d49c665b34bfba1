package io.tailops.operator.proxy;

/**
 * Provisioning could not complete. The message is meant for users (condition message and event) and never contains
 * a secret.
 */
public class ProvisionException extends Exception {
  private static final long serialVersionUID = 1L;
  private final boolean transientFailure;
  private final String eventReason;

  public ProvisionException(String message, String eventReason, boolean transientFailure, Throwable cause) {
    super(message, cause);
    this.eventReason = eventReason;
    this.transientFailure = transientFailure;
  }

  /** Whether retrying without a user change may succeed (API outage, conflict) rather than needing a fix. */
  public boolean isTransient() {
    return transientFailure;
  }

  /** Reason of the Warning event to record. */
  public String eventReason() {
    return eventReason;
  }
}
