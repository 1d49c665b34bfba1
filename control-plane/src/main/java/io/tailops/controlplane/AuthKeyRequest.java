package io.tailops.controlplane;

import java.util.List;
import java.util.Objects;

/**
 * Parameters of a new auth key. The operator always asks for single-use, preauthorized keys; {@code ephemeral} is
 * the opt-in for devices that the control plane removes once they go offline.
 *
 * @param tags ACL tags the device gets (sent as given, after trimming)
 * @param ephemeral whether the device is ephemeral
 * @param description optional human-readable description (at most 50 characters of letters, digits, '-', '_', ' ')
 */
public record AuthKeyRequest(List<String> tags, boolean reusable, boolean ephemeral, boolean preauthorized,
    String description) {
  public AuthKeyRequest {
    tags = List.copyOf(Objects.requireNonNull(tags, "tags"));
  }

  /** A single-use, preauthorized key with the given tags, as the official operator mints for proxies. */
  public static AuthKeyRequest forProxy(List<String> tags, boolean ephemeral, String description) {
    return new AuthKeyRequest(tags, false, ephemeral, true, description);
  }
}
