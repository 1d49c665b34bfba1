package io.tailops.operator.proxy;

import java.util.Optional;

/**
 * An IP address read as the official operator reads {@code tailscale.com/tailnet-ip}: with the rules of Go's
 * {@code net/netip.ParseAddr} (dotted-quad IPv4 without leading zeros; IPv6 with at most one {@code ::}, an embedded
 * IPv4 tail and an optional {@code %zone}), so that the same strings are accepted and a refused one gets the same
 * explanation ({@code ParseAddr("10.0.0.256"): IPv4 field has value >255}). Never looks anything up.
 *
 * @param bytes 4 bytes for IPv4, 16 for IPv6
 * @param zone the IPv6 zone, or empty
 */
public record IpAddress(byte[] bytes, String zone) {

  /** Go's netip.ParseAddr wording of why a string is not an address. */
  public static final class ParseException extends Exception {
    ParseException(String input, String message, String at) {
      super("ParseAddr(" + goQuote(input) + "): " + message + (at == null ? "" : " (at " + goQuote(at) + ")"));
    }
  }

  /** Parses {@code s}; the exception's message is Go's. */
  public static IpAddress parse(String s) throws ParseException {
    for (int i = 0; i < s.length(); i++) {
      switch (s.charAt(i)) {
        case '.':
          return new IpAddress(ipv4(s, 0, s.length()), "");
        case ':':
          return ipv6(s);
        case '%':
          throw new ParseException(s, "missing IPv6 address", null);
        default:
          break;
      }
    }
    throw new ParseException(s, "unable to parse IP", null);
  }

  /** {@link #parse(String)} without the reason. */
  public static Optional<IpAddress> tryParse(String s) {
    try {
      return Optional.of(parse(s));
    } catch (ParseException e) {
      return Optional.empty();
    }
  }

  public boolean isIpv4() {
    return bytes.length == 4;
  }

  /** An IPv4-mapped IPv6 address ({@code ::ffff:a.b.c.d}) as its IPv4 address, anything else as it is. */
  public IpAddress unmapped() {
    if (bytes.length != 16) {
      return this;
    }
    for (int i = 0; i < 10; i++) {
      if (bytes[i] != 0) {
        return this;
      }
    }
    if (bytes[10] != (byte) 0xff || bytes[11] != (byte) 0xff) {
      return this;
    }
    return new IpAddress(new byte[] {bytes[12], bytes[13], bytes[14], bytes[15]}, "");
  }

  /** Whether the first {@code bits} bits equal those of {@code prefix} (same family). */
  public boolean within(IpAddress prefix, int bits) {
    if (prefix.bytes.length != bytes.length) {
      return false;
    }
    for (int i = 0; i < bits; i++) {
      int mask = 0x80 >> (i % 8);
      if ((bytes[i / 8] & mask) != (prefix.bytes[i / 8] & mask)) {
        return false;
      }
    }
    return true;
  }

  public boolean isUnspecified() {
    for (byte b : bytes) {
      if (b != 0) {
        return false;
      }
    }
    return true;
  }

  public boolean isLoopback() {
    return isIpv4() ? (bytes[0] & 0xff) == 127 : within(literal("::1"), 128);
  }

  public boolean isMulticast() {
    return isIpv4() ? (bytes[0] & 0xf0) == 0xe0 : (bytes[0] & 0xff) == 0xff;
  }

  public boolean isLinkLocal() {
    return isIpv4() ? (bytes[0] & 0xff) == 169 && (bytes[1] & 0xff) == 254
        : (bytes[0] & 0xff) == 0xfe && (bytes[1] & 0xc0) == 0x80;
  }

  public boolean isBroadcast() {
    return isIpv4() && (bytes[0] & bytes[1] & bytes[2] & bytes[3] & 0xff) == 0xff;
  }

  private static byte[] ipv4(String in, int from, int to) throws ParseException {
    byte[] out = new byte[4];
    int value = 0;
    int field = 0;
    int digits = 0;
    for (int i = from; i < to; i++) {
      char c = in.charAt(i);
      if (c >= '0' && c <= '9') {
        if (digits == 1 && value == 0) {
          throw new ParseException(in, "IPv4 field has octet with leading zero", null);
        }
        value = value * 10 + (c - '0');
        digits++;
        if (value > 255) {
          throw new ParseException(in, "IPv4 field has value >255", null);
        }
      } else if (c == '.') {
        if (i == from || i == to - 1 || in.charAt(i - 1) == '.') {
          throw new ParseException(in, "IPv4 field must have at least one digit", in.substring(i, to));
        }
        if (field == 3) {
          throw new ParseException(in, "IPv4 address too long", null);
        }
        out[field++] = (byte) value;
        value = 0;
        digits = 0;
      } else {
        throw new ParseException(in, "unexpected character", in.substring(i, to));
      }
    }
    if (field < 3) {
      throw new ParseException(in, "IPv4 address too short", null);
    }
    out[3] = (byte) value;
    return out;
  }

  private static IpAddress ipv6(String in) throws ParseException {
    String s = in;
    String zone = "";
    int percent = s.indexOf('%');
    if (percent >= 0) {
      zone = s.substring(percent + 1);
      s = s.substring(0, percent);
      if (zone.isEmpty()) {
        throw new ParseException(in, "zone must be a non-empty string", null);
      }
    }
    byte[] ip = new byte[16];
    int ellipsis = -1;
    if (s.startsWith("::")) {
      ellipsis = 0;
      s = s.substring(2);
      if (s.isEmpty()) {
        return new IpAddress(ip, zone);
      }
    }
    int filled = 0;
    while (filled < 16) {
      int digits = 0;
      int group = 0;
      for (; digits < s.length(); digits++) {
        int d = hexDigit(s.charAt(digits));
        if (d < 0) {
          break;
        }
        group = (group << 4) + d;
        if (digits > 3) {
          throw new ParseException(in, "each group must have 4 or less digits", s);
        }
      }
      if (digits == 0) {
        throw new ParseException(in, "each colon-separated field must have at least one digit", s);
      }
      if (digits < s.length() && s.charAt(digits) == '.') {
        if (ellipsis < 0 && filled != 12) {
          throw new ParseException(in, "embedded IPv4 address must replace the final 2 fields of the address", s);
        }
        if (filled + 4 > 16) {
          throw new ParseException(in, "too many hex fields to fit an embedded IPv4 at the end of the address", s);
        }
        int end = in.length() - (zone.isEmpty() ? 0 : zone.length() + 1);
        byte[] v4 = ipv4(in, end - s.length(), end);
        System.arraycopy(v4, 0, ip, filled, 4);
        s = "";
        filled += 4;
        break;
      }
      ip[filled] = (byte) (group >> 8);
      ip[filled + 1] = (byte) group;
      filled += 2;
      s = s.substring(digits);
      if (s.isEmpty()) {
        break;
      }
      if (s.charAt(0) != ':') {
        throw new ParseException(in, "unexpected character, want colon", s);
      } else if (s.length() == 1) {
        throw new ParseException(in, "colon must be followed by more characters", s);
      }
      s = s.substring(1);
      if (s.charAt(0) == ':') {
        if (ellipsis >= 0) {
          throw new ParseException(in, "multiple :: in address", s);
        }
        ellipsis = filled;
        s = s.substring(1);
        if (s.isEmpty()) {
          break;
        }
      }
    }
    if (!s.isEmpty()) {
      throw new ParseException(in, "trailing garbage after address", s);
    }
    if (filled < 16) {
      if (ellipsis < 0) {
        throw new ParseException(in, "address string too short", null);
      }
      int shift = 16 - filled;
      for (int j = filled - 1; j >= ellipsis; j--) {
        ip[j + shift] = ip[j];
      }
      for (int j = ellipsis; j < ellipsis + shift; j++) {
        ip[j] = 0;
      }
    } else if (ellipsis >= 0) {
      throw new ParseException(in, "the :: must expand to at least one field of zeros", null);
    }
    return new IpAddress(ip, zone);
  }

  private static int hexDigit(char c) {
    if (c >= '0' && c <= '9') {
      return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
      return c - 'a' + 10;
    }
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
  }

  /** A literal known to parse (constants). */
  public static IpAddress literal(String s) {
    try {
      return parse(s);
    } catch (ParseException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /** Go's {@code strconv.Quote} for the printable ASCII of annotation values; other characters as {@code \\u}. */
  public static String goQuote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\t' -> b.append("\\t");
        case '\r' -> b.append("\\r");
        default -> {
          if (c < 0x20 || c == 0x7f) {
            b.append(String.format("\\x%02x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IpAddress a && java.util.Arrays.equals(bytes, a.bytes) && zone.equals(a.zone);
  }

  @Override
  public int hashCode() {
    return java.util.Arrays.hashCode(bytes) * 31 + zone.hashCode();
  }

  @Override
  public String toString() {
    return "IpAddress[" + java.util.HexFormat.of().formatHex(bytes) + (zone.isEmpty() ? "" : "%" + zone) + "]";
  }
}
