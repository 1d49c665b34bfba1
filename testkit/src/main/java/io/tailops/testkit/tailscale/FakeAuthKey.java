package io.tailops.testkit.tailscale;

import java.time.Instant;
import java.util.List;

/**
 * Snapshot of an auth key held by {@link FakeTailscaleApi}. {@link #toString()} never shows the secret.
 *
 * @param id key ID, e.g. {@code kXyZ12CNTRL}
 * @param secret the key, {@code tskey-auth-<id>-<random>}
 * @param tags tags devices registered with this key get
 * @param reusable whether the key may register more than one device
 * @param ephemeral whether devices registered with it are ephemeral
 * @param preauthorized whether devices registered with it are authorized without admin approval
 * @param description description given at creation ("" when none)
 * @param created creation time
 * @param expires expiry time
 * @param uses how many devices registered with it
 * @param revoked whether the key was deleted (revoked) through the API or {@link FakeTailscaleApi#revokeKey(String)}
 * @param createdBy ID of the OAuth client whose token minted it, or null when created by a test directly
 */
public record FakeAuthKey(String id, String secret, List<String> tags, boolean reusable, boolean ephemeral,
    boolean preauthorized, String description, Instant created, Instant expires, int uses, boolean revoked,
    String createdBy) {
  public FakeAuthKey {
    tags = List.copyOf(tags);
  }

  /** Whether at least one device registered with this key. */
  public boolean used() {
    return uses > 0;
  }

  @Override
  public String toString() {
    return "FakeAuthKey[id=" + id + ", tags=" + tags + ", reusable=" + reusable + ", ephemeral=" + ephemeral
        + ", preauthorized=" + preauthorized + ", description=" + description + ", created=" + created
        + ", expires=" + expires + ", uses=" + uses + ", revoked=" + revoked + ", createdBy=" + createdBy + "]";
  }
}
