package io.tailops.controlplane.tailscale;

import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.ControlPlaneException.Kind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * OAuth client credentials read from two files ({@code CLIENT_ID_FILE} and {@code CLIENT_SECRET_FILE}; the Helm chart
 * mounts Secret {@code operator-oauth} at {@code /oauth/client_id} and {@code /oauth/client_secret}).
 *
 * <p><b>Hot reload.</b> Both files are read again on every {@link #current()} call, which the API client makes before
 * every request. They are a few bytes each, so this costs microseconds, and it means a Secret rotated by kubelet (an
 * atomic symlink swap) is picked up on the next call without restarting the operator. When the contents change, the
 * new credentials compare unequal to the old ones and the API client drops its cached access token.
 *
 * <p><b>Reading rules.</b> Contents are used verbatim except that <em>one</em> trailing line break ({@code \n} or
 * {@code \r\n}) is removed. <em>Deliberate difference from the official operator</em>, which uses the bytes as they
 * are: creating the Secret from a file written with {@code echo} (without {@code -n}) is the most common way to end up
 * with a newline inside the secret, and the result is an opaque 401. No other whitespace is touched. An empty (or
 * blank) file, a missing or unreadable file, or the literal chart placeholder {@code REPLACE_ME} are reported as
 * {@link Kind#CREDENTIALS_UNAVAILABLE} with a message that names the file and the fix, never the file's contents.
 */
public final class FileCredentialSource implements CredentialSource {
  /** Placeholder value that means "not configured". */
  public static final String PLACEHOLDER = "REPLACE_ME";

  private static final Logger LOG = LoggerFactory.getLogger(FileCredentialSource.class);

  private final Path clientIdFile;
  private final Path clientSecretFile;
  private final Clock clock;

  // Guarded by this.
  private OAuthCredentials last;
  private Instant loadedAt;
  private String lastError;
  private int changes;

  public FileCredentialSource(Path clientIdFile, Path clientSecretFile) {
    this(clientIdFile, clientSecretFile, Clock.systemUTC());
  }

  public FileCredentialSource(Path clientIdFile, Path clientSecretFile, Clock clock) {
    this.clientIdFile = Objects.requireNonNull(clientIdFile, "clientIdFile");
    this.clientSecretFile = Objects.requireNonNull(clientSecretFile, "clientSecretFile");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public synchronized OAuthCredentials current() throws ControlPlaneException {
    OAuthCredentials now;
    try {
      String id = read(clientIdFile, "client ID", "client_id");
      String secret = read(clientSecretFile, "client secret", "client_secret");
      now = new OAuthCredentials(id, secret);
    } catch (ControlPlaneException e) {
      if (!e.getMessage().equals(lastError)) {
        LOG.warn("{}", e.getMessage());
      }
      lastError = e.getMessage();
      throw e;
    }
    if (!now.equals(last)) {
      if (last != null) {
        changes++;
        LOG.info("OAuth credentials changed (client ID {}, read from {}); new access tokens will use them",
            now.clientIdHint(), clientIdFile);
      } else if (lastError != null) {
        LOG.info("OAuth credentials available again (client ID {})", now.clientIdHint());
      }
      last = now;
      loadedAt = clock.instant();
    }
    lastError = null;
    return now;
  }

  /** E.g. {@code OAuth client ID k123… loaded from /oauth/client_id at 2026-02-13T10:00:00Z}. */
  @Override
  public synchronized String describe() {
    if (lastError != null) {
      return "OAuth credentials unavailable: " + lastError;
    }
    if (last == null) {
      return "OAuth credentials not loaded yet (files " + clientIdFile + ", " + clientSecretFile + ")";
    }
    return "OAuth client ID " + last.clientIdHint() + " loaded from " + clientIdFile + " at " + loadedAt
        + (changes > 0 ? " (changed " + changes + " time" + (changes == 1 ? "" : "s") + " since start)" : "");
  }

  public Path clientIdFile() {
    return clientIdFile;
  }

  public Path clientSecretFile() {
    return clientSecretFile;
  }

  @Override
  public String toString() {
    return "FileCredentialSource[" + clientIdFile + ", " + clientSecretFile + "]";
  }

  private static String read(Path file, String what, String secretKey) throws ControlPlaneException {
    String hint = "(Helm: Secret operator-oauth, key " + secretKey + ")";
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw unavailable("OAuth " + what + " file " + file + " does not exist: mount the OAuth client's " + what
          + " there " + hint);
    } catch (AccessDeniedException e) {
      throw unavailable("OAuth " + what + " file " + file + " is not readable (permission denied): check the "
          + "volume's defaultMode and the pod's user " + hint);
    } catch (IOException e) {
      throw unavailable("OAuth " + what + " file " + file + " cannot be read (" + e.getClass().getSimpleName()
          + "): mount the OAuth client's " + what + " there " + hint);
    }
    String value = stripOneLineBreak(new String(bytes, StandardCharsets.UTF_8));
    if (value.isBlank()) {
      throw unavailable("OAuth " + what + " file " + file + " is empty: put the OAuth client's " + what
          + " into it " + hint);
    }
    if (value.equals(PLACEHOLDER)) {
      throw unavailable("OAuth " + what + " file " + file + " still contains the placeholder " + PLACEHOLDER
          + ": replace it with the OAuth client's " + what + " " + hint);
    }
    return value;
  }

  /** Removes one trailing {@code \n} or {@code \r\n}, nothing else. */
  static String stripOneLineBreak(String s) {
    if (s.endsWith("\r\n")) {
      return s.substring(0, s.length() - 2);
    }
    if (s.endsWith("\n")) {
      return s.substring(0, s.length() - 1);
    }
    return s;
  }

  private static ControlPlaneException unavailable(String message) {
    return new ControlPlaneException(Kind.CREDENTIALS_UNAVAILABLE, 0, null, message);
  }
}
