package io.tailops.testkit.tailscale;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;

/**
 * A device's subnet routes in {@link FakeTailscaleApi}: what its tailscaled advertises and what the tailnet approved
 * (the API's {@code advertisedRoutes} and {@code enabledRoutes}).
 */
public record FakeRoutes(List<String> advertised, List<String> enabled) {
  public FakeRoutes {
    advertised = List.copyOf(advertised);
    enabled = List.copyOf(enabled);
  }

  /** An IP prefix, enough to tell whether one route lies within another. */
  record Prefix(byte[] address, int bits) {
    boolean contains(Prefix other) {
      if (address.length != other.address.length || other.bits < bits) {
        return false;
      }
      for (int i = 0; i < bits; i++) {
        int mask = 0x80 >> (i % 8);
        if ((address[i / 8] & mask) != (other.address[i / 8] & mask)) {
          return false;
        }
      }
      return true;
    }
  }

  /** {@code address/bits} with an IP literal (never a name), or null. */
  static Prefix parse(String route) {
    int slash = route.indexOf('/');
    if (slash < 0) {
      return null;
    }
    String addr = route.substring(0, slash);
    boolean v6 = addr.indexOf(':') >= 0 && addr.chars().allMatch(c -> Character.digit(c, 16) >= 0 || c == '.'
        || c == ':');
    boolean v4 = addr.matches("[0-9]{1,3}(\\.[0-9]{1,3}){3}");
    if (!v4 && !v6) {
      return null; // a literal only: no name lookups
    }
    try {
      byte[] bytes = InetAddress.getByName(addr).getAddress();
      int bits = Integer.parseInt(route.substring(slash + 1));
      return bits < 0 || bits > bytes.length * 8 ? null : new Prefix(bytes, bits);
    } catch (UnknownHostException | NumberFormatException e) {
      return null;
    }
  }
}
