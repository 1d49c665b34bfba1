package io.tailops.controlplane.tailscale;

import java.util.Collection;
import java.util.regex.Pattern;

/** Removes credentials from text that goes into exception messages or logs. */
final class Redactor {
  /** Tailscale ({@code tskey-auth-…}, {@code tskey-client-…}, {@code tskey-api-…}) and headscale key formats. */
  private static final Pattern KEY = Pattern.compile("\\b(tskey|hskey)-[A-Za-z0-9_-]+");
  static final String REDACTED = "<redacted>";

  private Redactor() {
  }

  /** Replaces every known secret and every key-shaped token by {@value #REDACTED}. Null stays null. */
  static String redact(String text, Collection<String> secrets) {
    if (text == null) {
      return null;
    }
    String out = text;
    for (String s : secrets) {
      if (s != null && s.length() >= 4) {
        out = out.replace(s, REDACTED);
      }
    }
    return KEY.matcher(out).replaceAll("$1-" + REDACTED);
  }
}
