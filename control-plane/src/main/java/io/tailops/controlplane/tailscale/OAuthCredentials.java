package io.tailops.controlplane.tailscale;

import java.util.Objects;

/**
 * An OAuth client ID and secret. Equality compares both values (so a rotated secret is a different credential);
 * {@link #toString()} never shows the secret.
 */
public final class OAuthCredentials {
  private final String clientId;
  private final String clientSecret;

  public OAuthCredentials(String clientId, String clientSecret) {
    this.clientId = Objects.requireNonNull(clientId, "clientId");
    this.clientSecret = Objects.requireNonNull(clientSecret, "clientSecret");
  }

  public String clientId() {
    return clientId;
  }

  /** The secret; never log it. */
  public String clientSecret() {
    return clientSecret;
  }

  /** The client ID shortened for status pages and logs, e.g. {@code k123…}. */
  public String clientIdHint() {
    return clientId.length() <= 4 ? clientId : clientId.substring(0, 4) + "…";
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof OAuthCredentials other && clientId.equals(other.clientId)
        && clientSecret.equals(other.clientSecret);
  }

  @Override
  public int hashCode() {
    return Objects.hash(clientId, clientSecret);
  }

  @Override
  public String toString() {
    return "OAuthCredentials[clientId=" + clientIdHint() + ", clientSecret=<redacted>]";
  }
}
