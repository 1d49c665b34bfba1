package io.tailops.controlplane;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Parameters of a new auth key. The operator always asks for single-use, preauthorized keys; {@code ephemeral} is
 * the opt-in for devices that the control plane removes once they go offline.
 *
 * @param tags ACL tags the device gets (sent as given, after trimming)
 * @param ephemeral whether the device is ephemeral
 * @param description optional human-readable description (at most 50 characters of letters, digits, '-', '_', ' ')
 * @param expiry optional key lifetime (sent as {@code expirySeconds}); null leaves the control plane's default (90 days
 *     for Tailscale)
 */
public record AuthKeyRequest(List<String> tags, boolean reusable, boolean ephemeral, boolean preauthorized,
    String description, Duration expiry) {
  public AuthKeyRequest {
    tags = List.copyOf(Objects.requireNonNull(tags, "tags"));
    if (expiry != null && (expiry.isNegative() || expiry.isZero())) {
      throw new IllegalArgumentException("expiry must be positive: " + expiry);
    }
  }

  /** A request with the control plane's default expiry. */
  public AuthKeyRequest(List<String> tags, boolean reusable, boolean ephemeral, boolean preauthorized,
      String description) {
    this(tags, reusable, ephemeral, preauthorized, description, null);
  }

  /** This request with a different expiry (null for the default). */
  public AuthKeyRequest withExpiry(Duration newExpiry) {
    return new AuthKeyRequest(tags, reusable, ephemeral, preauthorized, description, newExpiry);
  }

  /** A single-use, preauthorized key with the given tags, as the official operator mints for proxies. */
  public static AuthKeyRequest forProxy(List<String> tags, boolean ephemeral, String description) {
    return new AuthKeyRequest(tags, false, ephemeral, true, description);
  }
}
