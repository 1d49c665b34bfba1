package io.tailops.operator.connector;

import java.util.Arrays;
import java.util.Optional;

/**
 * An IPv4 or IPv6 prefix ({@code 10.40.0.0/14}, {@code fd00:10::/64}) as the control plane and tailscaled see it: parsed
 * strictly (no zones, no leading zeros in IPv4 octets, a length in range), written canonically (IPv6 in RFC 5952 form,
 * lower case, the longest run of zero groups compressed), ordered as tailscaled orders advertised routes (shorter
 * prefixes first, then IPv4 before IPv6, then by address).
 *
 * @param address the prefix's address bytes (4 or 16), possibly with bits set beyond the length
 * @param bits the prefix length
 */
public record IpPrefix(byte[] address, int bits) implements Comparable<IpPrefix> {
  /** IPv4 default route, advertised by exit nodes. */
  public static final IpPrefix ALL_IPV4 = parse("0.0.0.0/0").orElseThrow();
  /** IPv6 default route, advertised by exit nodes. */
  public static final IpPrefix ALL_IPV6 = parse("::/0").orElseThrow();
  /** Tailscale's 4via6 range ({@code fd7a:115c:a1e0:b1a::/64}): site ID in bits 64–95, the IPv4 prefix below. */
  public static final IpPrefix VIA_RANGE = parse("fd7a:115c:a1e0:b1a::/64").orElseThrow();

  public IpPrefix {
    address = address.clone();
    if (address.length != 4 && address.length != 16) {
      throw new IllegalArgumentException("an address has 4 or 16 bytes");
    }
    if (bits < 0 || bits > address.length * 8) {
      throw new IllegalArgumentException("prefix length out of range");
    }
  }

  /** Parses {@code address/length}; empty when it is not a prefix (see {@link #parseError(String)} for why). */
  public static Optional<IpPrefix> parse(String text) {
    return Optional.ofNullable(parseOrWhy(text).prefix);
  }

  /** Why {@code text} is not a prefix, empty when it is one. */
  public static Optional<String> parseError(String text) {
    return Optional.ofNullable(parseOrWhy(text).error);
  }

  private record Parsed(IpPrefix prefix, String error) {
  }

  private static Parsed parseOrWhy(String text) {
    if (text == null || text.isEmpty()) {
      return new Parsed(null, "empty");
    }
    int slash = text.indexOf('/');
    if (slash < 0) {
      return new Parsed(null, "no prefix length (expected address/length)");
    }
    String addr = text.substring(0, slash);
    String len = text.substring(slash + 1);
    byte[] bytes = addr.indexOf(':') >= 0 ? parseV6(addr) : parseV4(addr);
    if (bytes == null) {
      return new Parsed(null, "\"" + addr + "\" is not an IP address");
    }
    if (len.isEmpty() || len.length() > 3 || !len.chars().allMatch(c -> c >= '0' && c <= '9')
        || len.length() > 1 && len.charAt(0) == '0') {
      return new Parsed(null, "bad prefix length \"" + len + "\"");
    }
    int bits = Integer.parseInt(len);
    if (bits > bytes.length * 8) {
      return new Parsed(null, "prefix length " + bits + " out of range (at most " + bytes.length * 8 + ")");
    }
    return new Parsed(new IpPrefix(bytes, bits), null);
  }

  private static byte[] parseV4(String s) {
    String[] parts = s.split("\\.", -1);
    if (parts.length != 4) {
      return null;
    }
    byte[] out = new byte[4];
    for (int i = 0; i < 4; i++) {
      String p = parts[i];
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(c -> c >= '0' && c <= '9')
          || p.length() > 1 && p.charAt(0) == '0') {
        return null;
      }
      int v = Integer.parseInt(p);
      if (v > 255) {
        return null;
      }
      out[i] = (byte) v;
    }
    return out;
  }

  private static byte[] parseV6(String s) {
    if (s.indexOf('%') >= 0) {
      return null; // zones are not allowed in prefixes
    }
    byte[] tail4 = null;
    int lastColon = s.lastIndexOf(':');
    if (s.indexOf('.', lastColon) > 0) {
      tail4 = parseV4(s.substring(lastColon + 1));
      if (tail4 == null) {
        return null;
      }
      s = s.substring(0, lastColon + 1) + "0:0"; // placeholder groups for the embedded IPv4 address
    }
    int dbl = s.indexOf("::");
    if (dbl >= 0 && s.indexOf("::", dbl + 1) >= 0) {
      return null;
    }
    String[] head;
    String[] tail;
    if (dbl >= 0) {
      head = s.substring(0, dbl).isEmpty() ? new String[0] : s.substring(0, dbl).split(":", -1);
      tail = s.substring(dbl + 2).isEmpty() ? new String[0] : s.substring(dbl + 2).split(":", -1);
      if (head.length + tail.length > 7) {
        return null;
      }
    } else {
      head = s.split(":", -1);
      tail = new String[0];
      if (head.length != 8) {
        return null;
      }
    }
    int[] groups = new int[8];
    for (int i = 0; i < head.length; i++) {
      Integer g = group(head[i]);
      if (g == null) {
        return null;
      }
      groups[i] = g;
    }
    for (int i = 0; i < tail.length; i++) {
      Integer g = group(tail[i]);
      if (g == null) {
        return null;
      }
      groups[8 - tail.length + i] = g;
    }
    byte[] out = new byte[16];
    for (int i = 0; i < 8; i++) {
      out[2 * i] = (byte) (groups[i] >> 8);
      out[2 * i + 1] = (byte) groups[i];
    }
    if (tail4 != null) {
      System.arraycopy(tail4, 0, out, 12, 4);
    }
    return out;
  }

  private static Integer group(String g) {
    if (g.isEmpty() || g.length() > 4) {
      return null;
    }
    for (char c : g.toCharArray()) {
      if (Character.digit(c, 16) < 0) {
        return null;
      }
    }
    return Integer.parseInt(g, 16);
  }

  public boolean isIpv4() {
    return address.length == 4;
  }

  /** This prefix with every bit beyond the length cleared. */
  public IpPrefix masked() {
    byte[] out = address.clone();
    for (int i = 0; i < out.length; i++) {
      int keep = Math.max(0, Math.min(8, bits - 8 * i));
      out[i] = (byte) (out[i] & (0xff << (8 - keep)));
    }
    return new IpPrefix(out, bits);
  }

  /** Whether no bit beyond the length is set. */
  public boolean isCanonical() {
    return Arrays.equals(address, masked().address);
  }

  /** Whether {@code other} (of the same family) lies within this prefix (equal prefixes contain each other). */
  public boolean contains(IpPrefix other) {
    if (address.length != other.address.length || other.bits < bits) {
      return false;
    }
    return Arrays.equals(masked().address, new IpPrefix(other.address, bits).masked().address);
  }

  /** An exit-node route: {@code 0.0.0.0/0} or {@code ::/0}. */
  public boolean isDefaultRoute() {
    return bits == 0;
  }

  /** Whether this is a 4via6 route (within {@code fd7a:115c:a1e0:b1a::/64}). */
  public boolean isVia() {
    return VIA_RANGE.contains(this);
  }

  /** The 4via6 site ID (bits 64–95); only for {@link #isVia()} prefixes. */
  public long viaSiteId() {
    long id = 0;
    for (int i = 8; i < 12; i++) {
      id = id << 8 | (address[i] & 0xff);
    }
    return id;
  }

  /** The address in canonical text form. */
  public String addressText() {
    if (isIpv4()) {
      return (address[0] & 0xff) + "." + (address[1] & 0xff) + "." + (address[2] & 0xff) + "." + (address[3] & 0xff);
    }
    int[] g = new int[8];
    for (int i = 0; i < 8; i++) {
      g[i] = (address[2 * i] & 0xff) << 8 | address[2 * i + 1] & 0xff;
    }
    boolean mapped = g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff;
    if (mapped) {
      return "::ffff:" + (address[12] & 0xff) + "." + (address[13] & 0xff) + "." + (address[14] & 0xff) + "."
          + (address[15] & 0xff);
    }
    // RFC 5952: compress the longest run (the first of equal ones) of two or more zero groups
    int bestStart = -1;
    int bestLen = 0;
    for (int i = 0; i < 8; ) {
      if (g[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && g[j] == 0) {
        j++;
      }
      if (j - i > bestLen) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    }
    if (bestLen < 2) {
      bestStart = -1;
    }
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        sb.append("::");
        i += bestLen - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(g[i]));
    }
    return sb.toString();
  }

  @Override
  public String toString() {
    return addressText() + "/" + bits;
  }

  /** Shorter prefixes first, then IPv4 before IPv6, then by address (tailscaled's order of advertised routes). */
  @Override
  public int compareTo(IpPrefix o) {
    if (bits != o.bits) {
      return Integer.compare(bits, o.bits);
    }
    if (address.length != o.address.length) {
      return Integer.compare(address.length, o.address.length);
    }
    return Arrays.compareUnsigned(address, o.address);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof IpPrefix p && bits == p.bits && Arrays.equals(address, p.address);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(address) + bits;
  }
}
