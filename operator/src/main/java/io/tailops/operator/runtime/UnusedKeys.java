package io.tailops.operator.runtime;

import io.tailops.controlplane.AuthKeyInfo;
import io.tailops.operator.proxy.AuthKeys;
import java.time.Duration;
import java.time.Instant;
import java.util.Set;

/**
 * Which auth keys the key sweep revokes: keys this operator minted that no Secret holds and no device used, once they
 * are certainly not on their way from the mint to a Secret. That is a key lost when the operator died between minting
 * it and storing it (docs/reliability.md, "lost keys"); nobody holds its secret, and until now it stayed valid until it
 * expired.
 *
 * <p>A key is revoked only when all of these hold; the first that does not gives the verdict:
 *
 * <ol>
 *   <li>no Secret in the operator namespace names it ({@code tailscale.com/auth-key-id}): a Secret's key, even one a
 *       proxy has not logged in with yet, is never touched ({@link Verdict#HELD});
 *   <li>its details are known ({@link Verdict#NEEDS_DETAILS}: read the key, then judge again);
 *   <li>this installation minted it: its description ends with this installation's mark ({@link AuthKeys#minted}), no
 *       user minted it (the Tailscale API's {@code userId} is empty for keys of an OAuth client) and it is single-use,
 *       as every key the operator mints ({@link Verdict#FOREIGN});
 *   <li>no device used it (headscale says so; the Tailscale API does not, but a key nobody stored was never given to a
 *       device) ({@link Verdict#USED});
 *   <li>it can still be used: not revoked, not expired ({@link Verdict#INVALID}: nothing to revoke);
 *   <li>it was minted at least the grace period ago ({@code OPERATOR_UNUSED_KEY_GRACE_PERIOD}, longer than any mint
 *       takes to reach its Secret) ({@link Verdict#YOUNG}).
 * </ol>
 */
public final class UnusedKeys {
  /** What the sweep does with a key. */
  public enum Verdict {
    REVOKE, HELD, NEEDS_DETAILS, FOREIGN, USED, INVALID, YOUNG
  }

  private UnusedKeys() {
  }

  /**
   * @param held IDs of the keys that Secrets in the operator namespace name
   * @param keys how this operator mints keys (its mark)
   * @param now the operator's clock
   * @param grace how old an unheld key must be
   */
  public static Verdict judge(AuthKeyInfo k, Set<String> held, AuthKeys keys, Instant now, Duration grace) {
    if (held.contains(k.id())) {
      return Verdict.HELD;
    }
    if (!k.detailed()) {
      return Verdict.NEEDS_DETAILS;
    }
    if (!keys.minted(k.description()) || (k.userId() != null && !k.userId().isEmpty()) || k.reusable()) {
      return Verdict.FOREIGN;
    }
    if (Boolean.TRUE.equals(k.used())) {
      return Verdict.USED;
    }
    if (Boolean.TRUE.equals(k.invalid()) || (k.expires() != null && !now.isBefore(k.expires()))) {
      return Verdict.INVALID;
    }
    if (k.created() == null || now.isBefore(k.created().plus(grace))) {
      return Verdict.YOUNG;
    }
    return Verdict.REVOKE;
  }
}
