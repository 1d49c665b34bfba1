package io.tailops.operator.proxy;

import io.tailops.controlplane.AuthKeyRequest;
import io.tailops.controlplane.ControlPlane;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * How the operator mints auth keys: single-use and preauthorized as upstream, ephemeral as configured, and, unlike
 * upstream (the control plane's default, 90 days on Tailscale), short-lived ({@code OPERATOR_AUTH_KEY_EXPIRY}, 30 minutes
 * by default): a key lost between minting and storing (a crash) is useless soon, and a key still unused when it
 * expires is replaced by a fresh one and revoked. Each key's description names this operator instance and what it is
 * for, so that keys are recognisable in the admin console, and ends with this installation's {@link #mark()}, so that
 * the key sweep ({@code UnusedKeys}) can tell the keys this operator minted from any other client's.
 *
 * @param expiry the lifetime of every key minted
 * @param owner the operator instance (its device's hostname, {@code OPERATOR_HOSTNAME})
 * @param mark this installation's mark ({@link #markOf(String)}), or empty: then descriptions carry none and no key is
 *     recognised as this operator's
 */
public record AuthKeys(Duration expiry, String owner, String mark) {
  /** The longest key description the control plane accepts. */
  public static final int MAX_DESCRIPTION = 50;
  public static final Duration DEFAULT_EXPIRY = Duration.ofMinutes(30);
  public static final AuthKeys DEFAULT = new AuthKeys(DEFAULT_EXPIRY, "tailscale-operator");
  /** Prefix of a mark: {@code op} and ten hex digits. */
  private static final String MARK_PREFIX = "op";

  public AuthKeys {
    mark = mark == null ? "" : mark;
  }

  /** Without a mark. */
  public AuthKeys(Duration expiry, String owner) {
    this(expiry, owner, "");
  }

  /**
   * The mark of the installation whose namespace has UID {@code namespaceUid}: {@code op} and the first 10 hex digits of
   * its SHA-256 (one installation per namespace; a namespace UID is unique). Empty for an empty UID.
   */
  public static String markOf(String namespaceUid) {
    if (namespaceUid == null || namespaceUid.isBlank()) {
      return "";
    }
    try {
      byte[] h = MessageDigest.getInstance("SHA-256").digest(namespaceUid.trim().getBytes(StandardCharsets.UTF_8));
      return MARK_PREFIX + HexFormat.of().formatHex(h).substring(0, 10);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A key for {@code purpose}, e.g. {@code proxy ts-web-abcde} or {@code proxy reauth ts-web-abcde}. */
  public AuthKeyRequest forProxy(List<String> tags, boolean ephemeral, String purpose) {
    return AuthKeyRequest.forProxy(tags, ephemeral, description(purpose)).withExpiry(expiry);
  }

  /**
   * {@code <owner> <purpose> <mark>}, reduced to what the control plane accepts (letters, digits, '-', '_', ' '; at most
   * 50 characters): owner and purpose are shortened, the mark is always whole.
   */
  public String description(String purpose) {
    String d = (owner + " " + purpose).replaceAll("[^A-Za-z0-9 _-]", "-");
    int room = mark.isEmpty() ? MAX_DESCRIPTION : MAX_DESCRIPTION - mark.length() - 1;
    d = d.length() > room ? d.substring(0, room) : d;
    return mark.isEmpty() ? d : d + " " + mark;
  }

  /**
   * Why the key sweep ({@code UnusedKeySweep}) can revoke no key on a control plane with {@code caps}, or empty when it
   * can. On one whose keys keep no description (headscale) no key can be recognised as this operator's: a key lost
   * between its mint and its Secret then stays valid until it expires.
   */
  public static Optional<String> sweepOff(ControlPlane.Capabilities caps) {
    if (caps.keyDescriptions()) {
      return Optional.empty();
    }
    return Optional.of(caps.name() + " keeps no description with an auth key, so the keys this operator minted cannot "
        + "be told from anybody else's: the unused-key sweep revokes none, and a key lost between its mint and its "
        + "Secret (an operator crash) stays valid until it expires (OPERATOR_AUTH_KEY_EXPIRY)");
  }

  /** {@link #sweepOff(ControlPlane.Capabilities)}, or else this installation's missing mark. */
  public Optional<String> sweepOffHere(ControlPlane.Capabilities caps) {
    Optional<String> off = sweepOff(caps);
    if (off.isPresent() || !mark.isEmpty()) {
      return off;
    }
    return Optional.of("the keys this operator mints carry no installation mark (the operator namespace's UID could "
        + "not be read at start-up), so none can be told from anybody else's: the unused-key sweep revokes none");
  }

  /** Whether {@code description} is that of a key minted with this mark (never without a mark). */
  public boolean minted(String description) {
    return !mark.isEmpty() && description != null && description.endsWith(" " + mark);
  }
}
