package io.tailops.controlplane.headscale;

import io.tailops.controlplane.ControlPlaneException;
import java.nio.file.Path;

/**
 * Where the headscale client gets its API key ({@code hskey-api-…}, created with {@code headscale apikeys create}).
 * The client asks before every call, so a rotated key is picked up without a restart.
 */
public interface ApiKeySource {

  /**
   * The current key.
   *
   * @throws ControlPlaneException of kind {@link ControlPlaneException.Kind#CREDENTIALS_UNAVAILABLE} with a one-line
   *     message naming what is missing and how to fix it (never containing the key)
   */
  String current() throws ControlPlaneException;

  /** A one-line, non-secret description of the key's state for status pages and logs. */
  String describe();

  /** The key read from a file (e.g. a mounted Secret); see {@link FileApiKeySource} for the reading rules. */
  static FileApiKeySource fromFile(Path file) {
    return new FileApiKeySource(file);
  }

  /** A fixed key (tests, or a value passed on the command line). */
  static ApiKeySource of(String apiKey) {
    if (apiKey == null || apiKey.isBlank()) {
      throw new IllegalArgumentException("empty headscale API key");
    }
    String hint = FileApiKeySource.hint(apiKey);
    return new ApiKeySource() {
      @Override
      public String current() {
        return apiKey;
      }

      @Override
      public String describe() {
        return "headscale API key " + hint + " (fixed)";
      }

      @Override
      public String toString() {
        return describe();
      }
    };
  }
}
