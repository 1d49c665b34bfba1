package io.tailops.testkit.headscale;

import java.time.Instant;
import java.util.List;

/**
 * A headscale pre-auth key. {@link #toString()} never shows the key itself.
 *
 * @param id decimal key id
 * @param key the secret ({@code hskey-auth-<prefix>-<secret>}); shown only when the key is created
 * @param tags ACL tags a node registered with this key gets (it then is a tagged node, owned by no user)
 * @param reusable whether more than one node may register with it
 * @param ephemeral whether nodes registered with it are removed after going offline
 * @param expiration when the key stops working
 */
public record PreAuthKey(String id, String key, List<String> tags, boolean reusable, boolean ephemeral,
    Instant expiration) {
  public PreAuthKey {
    tags = tags == null ? List.of() : List.copyOf(tags);
  }

  @Override
  public String toString() {
    return "PreAuthKey[id=" + id + ", tags=" + tags + ", reusable=" + reusable + ", ephemeral=" + ephemeral
        + ", expiration=" + expiration + "]";
  }
}
