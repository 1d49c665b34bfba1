package io.tailops.operator.proxy;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import java.util.Optional;

/**
 * Every name and label value the operator derives from a parent's name, made valid for every valid parent name of
 * every kind. Parent names are DNS subdomains (an Ingress or a Connector may be called {@code grafana.example.com}, up
 * to 253 characters); the objects built from them have stricter rules: a Service name is a DNS-1035 label (no dots, at
 * most 63 characters), a label value has at most 63 characters, a tailnet hostname is a DNS label.
 *
 * <p>The rule, the same everywhere: <b>a derived value that is already valid is kept exactly</b> (so names equal the
 * official operator's wherever the official operator's are valid: the golden files compare them); otherwise every
 * character the target does not allow becomes {@code -}, and a value that is still too long is cut and ends with
 * {@code -} and 5 characters of a hash of the whole original, so two long names that share a prefix stay apart.
 */
public final class DerivedNames {
  /** Maximum length of a label value and of a DNS label. */
  public static final int MAX_LABEL = 63;
  /** The characters Kubernetes uses for generated name suffixes (no vowels: no words). */
  static final String ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
  static final int HASH_CHARS = 5;

  private DerivedNames() {
  }

  /**
   * {@code value} as a DNS label of at most {@code max} characters (lower-case letters, digits and {@code -},
   * alphanumeric at both ends): unchanged when it is one.
   */
  public static String dnsLabel(String value, int max) {
    if (isDnsLabel(value, max)) {
      return value;
    }
    StringBuilder b = new StringBuilder(value.length());
    for (char c : value.toLowerCase(Locale.ROOT).toCharArray()) {
      b.append(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ? c : '-');
    }
    String s = trimDashes(b.toString());
    if (s.length() <= max && !s.isEmpty()) {
      return s;
    }
    return shorten(s, value, max);
  }

  /** {@code value} as a label value (at most 63 characters of {@code [-_.A-Za-z0-9]}, alphanumeric ends). */
  public static String labelValue(String value) {
    if (value == null || value.isEmpty() || isLabelValue(value)) {
      return value;
    }
    StringBuilder b = new StringBuilder(value.length());
    for (char c : value.toCharArray()) {
      b.append(alnum(c) || c == '-' || c == '_' || c == '.' ? c : '-');
    }
    String s = b.toString();
    int start = 0;
    int end = s.length();
    while (start < end && !alnum(s.charAt(start))) {
      start++;
    }
    while (end > start && !alnum(s.charAt(end - 1))) {
      end--;
    }
    s = s.substring(start, end);
    if (s.length() <= MAX_LABEL && !s.isEmpty()) {
      return s;
    }
    return shorten(s, value, MAX_LABEL);
  }

  /** Whether a label value derived from {@code name} differs from it (the name is too long or has other characters). */
  public static boolean labelValueDiffers(String name) {
    return name != null && !name.equals(labelValue(name));
  }

  /**
   * A default tailnet hostname derived from names (not given by the user): the official form when it is a valid DNS
   * label, else a valid one built from it by the rule above.
   *
   * @param officialForm the hostname as the official operator derives it ({@code <namespace>-<name>} for a Service)
   * @param source where it comes from, for the message ("the Service's namespace and name")
   * @param override what the user sets to choose another hostname
   */
  public static DerivedHostname hostname(String officialForm, String source, String override) {
    Optional<String> error = Validation.dnsLabelError(officialForm);
    if (error.isEmpty()) {
      return new DerivedHostname(officialForm, null);
    }
    String valid = dnsLabel(officialForm, MAX_LABEL);
    return new DerivedHostname(valid, "the default hostname " + Validation.quote(officialForm) + " (from " + source
        + ") is not a valid DNS label (" + error.get() + "), so the proxy uses " + Validation.quote(valid)
        + "; set " + override + " to choose another");
  }

  /**
   * A default hostname and, when it is not the official form, why (the text of a Normal event).
   *
   * @param adjusted null when the hostname is the official form
   */
  public record DerivedHostname(String hostname, String adjusted) {
  }

  /** 5 characters of the alphabet from a SHA-256 of {@code identity}. */
  public static String hash(String identity) {
    byte[] digest;
    try {
      digest = MessageDigest.getInstance("SHA-256").digest(identity.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    StringBuilder b = new StringBuilder(HASH_CHARS);
    for (int i = 0; i < HASH_CHARS; i++) {
      b.append(ALPHABET.charAt((digest[i] & 0xff) % ALPHABET.length()));
    }
    return b.toString();
  }

  /** The first characters of {@code s}, then {@code -} and the hash of {@code original}: exactly {@code max} or less. */
  private static String shorten(String s, String original, int max) {
    String head = s.length() > max - HASH_CHARS - 1 ? s.substring(0, max - HASH_CHARS - 1) : s;
    head = trimTrailing(head);
    return head.isEmpty() ? hash(original) : head + "-" + hash(original);
  }

  static boolean isDnsLabel(String s, int max) {
    if (s == null || s.isEmpty() || s.length() > max) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0 && i < s.length() - 1;
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  static boolean isLabelValue(String s) {
    if (s.length() > MAX_LABEL || !alnum(s.charAt(0)) || !alnum(s.charAt(s.length() - 1))) {
      return false;
    }
    for (char c : s.toCharArray()) {
      if (!alnum(c) && c != '-' && c != '_' && c != '.') {
        return false;
      }
    }
    return true;
  }

  private static String trimDashes(String s) {
    int start = 0;
    while (start < s.length() && s.charAt(start) == '-') {
      start++;
    }
    return trimTrailing(s.substring(start));
  }

  private static String trimTrailing(String s) {
    int end = s.length();
    while (end > 0 && !alnum(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(0, end);
  }

  private static boolean alnum(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9';
  }
}
