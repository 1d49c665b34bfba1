package io.tailops.testkit.tailscale;

/**
 * Thrown by {@link FakeTailscaleApi#registerDevice(String, String)} when the control plane would refuse the login:
 * unknown, expired, revoked or already-used single-use auth key. The message never contains the key's secret.
 */
public class RegistrationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why the registration was refused. */
  public enum Reason {
    /** No key with this secret exists. */
    UNKNOWN_KEY,
    /** The key's expiry time has passed. */
    EXPIRED,
    /** The key was deleted/revoked. */
    REVOKED,
    /** A single-use key was already used by another device. */
    ALREADY_USED
  }

  private final Reason reason;

  public RegistrationException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
