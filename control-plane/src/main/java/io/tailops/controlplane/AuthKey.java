package io.tailops.controlplane;

import java.time.Instant;

/**
 * A minted auth key. {@link #toString()} never reveals the secret.
 *
 * @param id key ID (safe to log)
 * @param secret the key itself ({@code tskey-auth-…}); never log it
 * @param expires when the key expires, if known
 */
public record AuthKey(String id, String secret, Instant expires) {
  @Override
  public String toString() {
    return "AuthKey[id=" + id + ", expires=" + expires + "]";
  }
}
