package io.tailops.controlplane.headscale;

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
 * A headscale API key read from a file, for example a Secret mounted by the Helm chart.
 *
 * <p><b>Hot reload.</b> The file is read again on every {@link #current()} call, which the client makes before every
 * request (a few bytes: microseconds), so a key rotated by kubelet's atomic symlink swap is used on the next call.
 *
 * <p><b>Reading rules</b> (the same as the Tailscale client's {@code FileCredentialSource}): the contents are used
 * verbatim except that one trailing line break ({@code \n} or {@code \r\n}) is removed. A missing, unreadable, empty
 * or blank file, or the chart placeholder {@code REPLACE_ME}, is {@link Kind#CREDENTIALS_UNAVAILABLE} with a message
 * that names the file and the fix, never the contents.
 */
public final class FileApiKeySource implements ApiKeySource {
  /** Placeholder value that means "not configured". */
  public static final String PLACEHOLDER = "REPLACE_ME";

  private static final Logger LOG = LoggerFactory.getLogger(FileApiKeySource.class);

  private final Path file;
  private final Clock clock;

  // Guarded by this.
  private String last;
  private Instant loadedAt;
  private String lastError;
  private int changes;

  public FileApiKeySource(Path file) {
    this(file, Clock.systemUTC());
  }

  public FileApiKeySource(Path file, Clock clock) {
    this.file = Objects.requireNonNull(file, "file");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  @Override
  public synchronized String current() throws ControlPlaneException {
    String now;
    try {
      now = read();
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
        LOG.info("headscale API key changed (now {}, read from {}); the next calls use it", hint(now), file);
      } else if (lastError != null) {
        LOG.info("headscale API key available again ({})", hint(now));
      }
      last = now;
      loadedAt = clock.instant();
    }
    lastError = null;
    return now;
  }

  /** E.g. {@code headscale API key hskey-api-AbCdEfGh… loaded from /headscale/api-key at 2026-…}. */
  @Override
  public synchronized String describe() {
    if (lastError != null) {
      return "headscale API key unavailable: " + lastError;
    }
    if (last == null) {
      return "headscale API key not loaded yet (file " + file + ")";
    }
    return "headscale API key " + hint(last) + " loaded from " + file + " at " + loadedAt
        + (changes > 0 ? " (changed " + changes + " time" + (changes == 1 ? "" : "s") + " since start)" : "");
  }

  public Path file() {
    return file;
  }

  @Override
  public String toString() {
    return "FileApiKeySource[" + file + "]";
  }

  /**
   * A non-secret hint: {@code hskey-api-} plus the first 4 characters of the key's public 12-character prefix, or just
   * the first 4 characters of a key in another format.
   */
  static String hint(String key) {
    String p = "hskey-api-";
    if (key.startsWith(p) && key.length() > p.length() + 4) {
      return p + key.substring(p.length(), p.length() + 4) + "…";
    }
    return key.length() <= 8 ? "…" : key.substring(0, 4) + "…";
  }

  private String read() throws ControlPlaneException {
    String fix = "put an API key from `headscale apikeys create --expiration 90d` into it";
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw unavailable("headscale API key file " + file + " does not exist: " + fix);
    } catch (AccessDeniedException e) {
      throw unavailable("headscale API key file " + file + " is not readable (permission denied): check the "
          + "volume's defaultMode and the pod's user");
    } catch (IOException e) {
      throw unavailable("headscale API key file " + file + " cannot be read (" + e.getClass().getSimpleName()
          + "): " + fix);
    }
    String value = stripOneLineBreak(new String(bytes, StandardCharsets.UTF_8));
    if (value.isBlank()) {
      throw unavailable("headscale API key file " + file + " is empty: " + fix);
    }
    if (value.equals(PLACEHOLDER)) {
      throw unavailable("headscale API key file " + file + " still contains the placeholder " + PLACEHOLDER
          + ": " + fix);
    }
    return value;
  }

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
