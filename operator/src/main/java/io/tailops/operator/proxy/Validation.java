package io.tailops.operator.proxy;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Hostname and tag rules, with the official operator's wording (tailscale's dnsname.ValidLabel and CheckTag). */
public final class Validation {
  public static final int MAX_LABEL = 63;

  private Validation() {
  }

  /** Why {@code label} is not a valid DNS label (1–63 bytes, letters/digits/'-', alphanumeric ends), or empty. */
  public static Optional<String> dnsLabelError(String label) {
    if (label == null || label.isEmpty()) {
      return Optional.of("empty DNS label");
    }
    if (label.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_LABEL) {
      return Optional.of(quote(label) + " is too long, max length is " + MAX_LABEL + " bytes");
    }
    if (!alnum(label.charAt(0))) {
      return Optional.of(quote(label) + " is not a valid DNS label: must start with a letter or number");
    }
    if (!alnum(label.charAt(label.length() - 1))) {
      return Optional.of(quote(label) + " is not a valid DNS label: must end with a letter or number");
    }
    for (int i = 1; i < label.length() - 1; i++) {
      char c = label.charAt(i);
      if (!alnum(c) && c != '-') {
        return Optional.of(quote(label) + " is not a valid DNS label: contains invalid character " + quote(
            String.valueOf(c)));
      }
    }
    return Optional.empty();
  }

  /** Why {@code tag} is not a valid ACL tag ({@code tag:} + a letter + letters, digits or '-'), or empty. */
  public static Optional<String> tagError(String tag) {
    if (!tag.startsWith("tag:")) {
      return Optional.of("tags must start with 'tag:'");
    }
    String name = tag.substring(4);
    if (name.isEmpty()) {
      return Optional.of("tag names must not be empty");
    }
    if (!alpha(name.charAt(0))) {
      return Optional.of("tag names must start with a letter, after 'tag:'");
    }
    for (char c : name.toCharArray()) {
      if (!alnum(c) && c != '-') {
        return Optional.of("tag names can only contain numbers, letters, or dashes");
      }
    }
    return Optional.empty();
  }

  /** Violations of a comma-separated tag list, worded as upstream: {@code invalid tag "x": <reason>}. */
  public static List<String> tagViolations(String commaSeparated) {
    List<String> out = new ArrayList<>();
    if (commaSeparated == null) {
      return out;
    }
    for (String t : commaSeparated.split(",", -1)) {
      String tag = t.trim();
      tagError(tag).ifPresent(e -> out.add("invalid tag " + quote(tag) + ": " + e));
    }
    return out;
  }

  /** Splits a tag annotation into trimmed, non-empty tags (upstream does not trim; this operator does). */
  public static List<String> splitTags(String commaSeparated) {
    List<String> out = new ArrayList<>();
    for (String t : commaSeparated.split(",")) {
      if (!t.trim().isEmpty()) {
        out.add(t.trim());
      }
    }
    return out;
  }

  /** Go's %q for simple strings. */
  public static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }

  private static boolean alpha(char c) {
    return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
  }

  private static boolean alnum(char c) {
    return alpha(c) || c >= '0' && c <= '9';
  }
}
