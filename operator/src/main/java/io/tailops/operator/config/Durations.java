package io.tailops.operator.config;

import java.time.Duration;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses durations written the way Kubernetes users write them: {@code 500ms}, {@code 30s}, {@code 10m}, {@code 24h}, {@code 7d}. */
public final class Durations {
  private static final Pattern PART = Pattern.compile("(\\d+)(ms|s|m|h|d)");

  private Durations() {
  }

  public static Optional<Duration> parse(String text) {
    if (text == null || text.isBlank()) {
      return Optional.empty();
    }
    String t = text.trim();
    Matcher m = PART.matcher(t);
    Duration total = Duration.ZERO;
    int pos = 0;
    while (m.find()) {
      if (m.start() != pos) {
        return Optional.empty();
      }
      long n = Long.parseLong(m.group(1));
      total = total.plus(switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(n);
        case "s" -> Duration.ofSeconds(n);
        case "m" -> Duration.ofMinutes(n);
        case "h" -> Duration.ofHours(n);
        default -> Duration.ofDays(n);
      });
      pos = m.end();
    }
    return pos == t.length() && pos > 0 ? Optional.of(total) : Optional.empty();
  }

  /** Formats a duration compactly, e.g. {@code 1h30m}. */
  public static String format(Duration d) {
    long s = d.getSeconds();
    if (s == 0) {
      return d.toMillis() + "ms";
    }
    StringBuilder b = new StringBuilder();
    long days = s / 86400;
    long h = (s % 86400) / 3600;
    long m = (s % 3600) / 60;
    long sec = s % 60;
    if (days > 0) {
      b.append(days).append('d');
    }
    if (h > 0) {
      b.append(h).append('h');
    }
    if (m > 0) {
      b.append(m).append('m');
    }
    if (sec > 0) {
      b.append(sec).append('s');
    }
    return b.toString();
  }
}
