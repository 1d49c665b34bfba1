package io.tailops.operator.recorder;

import io.fabric8.kubernetes.api.model.Secret;
import io.tailops.operator.proxy.ProxySecrets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Optional;

/**
 * What happens to the auth key of one Recorder replica, decided from its auth-key Secret ({@code <name>-auth-<i>},
 * whose annotations name the key and its expiry: {@link ProxySecrets#AUTH_KEY_ID},
 * {@link ProxySecrets#AUTH_KEY_EXPIRES}) and its state Secret ({@code <name>-<i>}, where tsrecorder's tailscaled keeps its profile once it logged in). The key
 * is <em>unused</em> while the state Secret names no device. Keys are minted as for proxies (short-lived, with the
 * installation mark in their description, {@code AuthKeys}), so that a key lost between its mint and its Secret is
 * revoked by the key sweep; these decisions cover the keys that did reach a Secret:
 *
 * <ul>
 *   <li>an unused key that has expired can no longer log the replica in: a fresh one replaces it, the old one is
 *       revoked and the pod restarted ({@link #unusedKeyExpired});
 *   <li>until then the Recorder is looked at again when the key expires ({@link #recheckAfter});
 *   <li>a replica that goes (Recorder deleted, scaled down) takes its unused key with it ({@link #revokeOnRemoval});
 *       a used one is left alone (single-use, it can log nothing else in).
 * </ul>
 *
 * <p>An auth-key Secret written before keys were recorded (by an earlier version, or by the official operator) names
 * no key: nothing is decided for it, as before.
 */
public final class RecorderKeys {
  private RecorderKeys() {
  }

  /** Whether replica's key is recorded, unused and expired at {@code now}: then it is replaced. */
  public static boolean unusedKeyExpired(Secret auth, Secret state, Instant now) {
    Optional<Instant> expires = expires(auth);
    return keyId(auth).isPresent() && expires.isPresent() && !now.isBefore(expires.get()) && !loggedIn(state);
  }

  /**
   * How long until the replica's unused key expires (when it must be looked at again); empty when its key is not
   * recorded, has no expiry, is used, or has expired already (replaced now).
   */
  public static Optional<Duration> recheckAfter(Secret auth, Secret state, Instant now) {
    Optional<Instant> expires = expires(auth);
    if (keyId(auth).isEmpty() || expires.isEmpty() || !now.isBefore(expires.get()) || loggedIn(state)) {
      return Optional.empty();
    }
    return Optional.of(Duration.between(now, expires.get()));
  }

  /** The ID of the key to revoke when the replica is removed: its recorded key, if the replica never logged in. */
  public static Optional<String> revokeOnRemoval(Secret auth, Secret state) {
    return loggedIn(state) ? Optional.empty() : keyId(auth);
  }

  /** The key ID the auth-key Secret records. */
  public static Optional<String> keyId(Secret auth) {
    String id = annotation(auth, ProxySecrets.AUTH_KEY_ID);
    return id == null || id.isBlank() ? Optional.empty() : Optional.of(id.trim());
  }

  /** When the recorded key expires; empty when not recorded or not a time. */
  public static Optional<Instant> expires(Secret auth) {
    String v = annotation(auth, ProxySecrets.AUTH_KEY_EXPIRES);
    try {
      return v == null ? Optional.empty() : Optional.of(Instant.parse(v.trim()));
    } catch (DateTimeParseException e) {
      return Optional.empty();
    }
  }

  /**
   * Whether the replica logged in: its state Secret names a device. A profile that cannot be read counts as logged in
   * (tailscaled wrote it, so the key was used; the reconcile reports the broken profile).
   */
  static boolean loggedIn(Secret state) {
    try {
      return RecorderDeviceInfo.of(state).isPresent();
    } catch (IllegalArgumentException e) {
      return true;
    }
  }

  private static String annotation(Secret s, String key) {
    Map<String, String> a = s == null || s.getMetadata() == null ? null : s.getMetadata().getAnnotations();
    return a == null ? null : a.get(key);
  }
}
