package io.tailops.controlplane;

import java.time.Instant;
import java.util.List;

/**
 * What the control plane says about an auth key it lists or reads (never its secret).
 *
 * @param id key ID
 * @param detailed whether the fields below were in the answer: the Tailscale API's key list may carry only IDs, then
 *     {@link ControlPlane#getAuthKey} reads the rest
 * @param description the description given at mint time (empty when none; null when the control plane has none, as
 *     headscale)
 * @param created when it was minted (control-plane clock), or null
 * @param expires when it expires, or null
 * @param invalid whether the control plane says it can no longer be used (revoked, expired; Tailscale's
 *     {@code invalid}), null when not said
 * @param used whether a device registered with it (headscale's {@code used}), null when the control plane does not say
 * @param reusable whether it may register several devices
 * @param tags the tags a device registered with it gets
 * @param userId the user who minted it; empty for keys minted by an OAuth client (Tailscale), null when not said
 */
public record AuthKeyInfo(String id, boolean detailed, String description, Instant created, Instant expires,
    Boolean invalid, Boolean used, boolean reusable, List<String> tags, String userId) {
  public AuthKeyInfo {
    tags = tags == null ? List.of() : List.copyOf(tags);
  }

  /** A key known by its ID only. */
  public static AuthKeyInfo idOnly(String id) {
    return new AuthKeyInfo(id, false, null, null, null, null, null, false, List.of(), null);
  }
}
