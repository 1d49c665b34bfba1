package io.tailops.operator.proxy;

import io.tailops.controlplane.AuthKeyRequest;
import java.time.Duration;
import java.util.List;

/**
 * How the operator mints auth keys: single-use and preauthorized as upstream, ephemeral as configured, and, unlike
 * upstream (the control plane's default, 90 days on Tailscale), short-lived ({@code OPERATOR_AUTH_KEY_EXPIRY}, 30 minutes
 * by default): a key lost between minting and storing (a crash) is useless soon, and a key still unused when it
 * expires is replaced by a fresh one and revoked. Each key's description names this operator instance and what it is
 * for, so that keys are recognisable in the admin console.
 *
 * @param expiry the lifetime of every key minted
 * @param owner the operator instance (its device's hostname, {@code OPERATOR_HOSTNAME})
 */
public record AuthKeys(Duration expiry, String owner) {
  /** The longest key description the control plane accepts. */
  public static final int MAX_DESCRIPTION = 50;
  public static final Duration DEFAULT_EXPIRY = Duration.ofMinutes(30);
  public static final AuthKeys DEFAULT = new AuthKeys(DEFAULT_EXPIRY, "tailscale-operator");

  /** A key for {@code purpose}, e.g. {@code proxy ts-web-abcde} or {@code proxy reauth ts-web-abcde}. */
  public AuthKeyRequest forProxy(List<String> tags, boolean ephemeral, String purpose) {
    return AuthKeyRequest.forProxy(tags, ephemeral, description(purpose)).withExpiry(expiry);
  }

  /**
   * {@code <owner> <purpose>}, reduced to what the control plane accepts (letters, digits, '-', '_', ' '; at most 50
   * characters).
   */
  public String description(String purpose) {
    String d = (owner + " " + purpose).replaceAll("[^A-Za-z0-9 _-]", "-");
    return d.length() > MAX_DESCRIPTION ? d.substring(0, MAX_DESCRIPTION) : d;
  }
}
