package io.tailops.controlplane.tailscale;

import io.tailops.controlplane.ControlPlaneException;
import java.nio.file.Path;

/**
 * Where the Tailscale API client gets its OAuth client credentials. The client asks for them before every API call
 * (so a rotated Secret is picked up without a restart) and drops its cached access token when they change.
 */
public interface CredentialSource {

  /**
   * The current credentials.
   *
   * @throws ControlPlaneException of kind {@link ControlPlaneException.Kind#CREDENTIALS_UNAVAILABLE} with a one-line
   *     message naming what is missing and how to fix it (never containing a secret)
   */
  OAuthCredentials current() throws ControlPlaneException;

  /** A one-line, non-secret description of the credential state for status pages and logs. */
  String describe();

  /**
   * Credentials read from two files, e.g. {@code /oauth/client_id} and {@code /oauth/client_secret} as mounted from
   * Secret {@code operator-oauth}. See {@link FileCredentialSource} for the reading rules.
   */
  static FileCredentialSource fromFiles(Path clientIdFile, Path clientSecretFile) {
    return new FileCredentialSource(clientIdFile, clientSecretFile);
  }

  /** Fixed credentials (tests, or values passed on the command line). */
  static CredentialSource of(String clientId, String clientSecret) {
    OAuthCredentials credentials = new OAuthCredentials(clientId, clientSecret);
    return new CredentialSource() {
      @Override
      public OAuthCredentials current() {
        return credentials;
      }

      @Override
      public String describe() {
        return "OAuth client ID " + credentials.clientIdHint() + " (fixed credentials)";
      }

      @Override
      public String toString() {
        return describe();
      }
    };
  }
}
