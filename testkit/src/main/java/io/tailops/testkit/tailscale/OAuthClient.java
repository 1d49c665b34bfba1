package io.tailops.testkit.tailscale;

import java.util.List;
import java.util.Set;

/**
 * An OAuth client known to {@link FakeTailscaleApi}. {@link #toString()} never shows the secret.
 *
 * @param id client ID, e.g. {@code kAbC123CNTRL}
 * @param secret client secret, {@code tskey-client-<id>-<random>}
 * @param scopes granted scopes, e.g. {@code auth_keys}, {@code devices:core}, {@code policy_file:read}
 * @param tags the client's tags, e.g. {@code tag:k8s-operator}
 */
public record OAuthClient(String id, String secret, Set<String> scopes, List<String> tags) {
  public OAuthClient {
    scopes = Set.copyOf(scopes);
    tags = List.copyOf(tags);
  }

  @Override
  public String toString() {
    return "OAuthClient[id=" + id + ", scopes=" + scopes + ", tags=" + tags + "]";
  }
}
