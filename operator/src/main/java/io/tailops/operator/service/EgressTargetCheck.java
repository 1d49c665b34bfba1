package io.tailops.operator.service;

import io.tailops.operator.proxy.IpAddress;
import io.tailops.controlplane.Device;
import io.tailops.operator.proxy.ProxyTarget;
import io.tailops.operator.status.Problem;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Whether an egress proxy's target can be reached, judged from the tailnet's device list (which the operator reads
 * anyway for its device sweep): a tailnet address or MagicDNS name that no device has, a device that is offline, or an
 * address outside the tailnet's ranges that the proxy cannot route to. Upstream provisions such a proxy and reports it
 * ready; connections through it then fail or hang with nothing said. Pure: the caller supplies the devices.
 *
 * <p>An address outside the tailnet's ranges (behind a subnet router) is not checked against the routes (the device
 * list carries none); only the proxy's own side is: it must accept routes.
 */
public final class EgressTargetCheck {
  public static final String REASON_UNKNOWN = "TailnetTargetUnknown";
  public static final String REASON_OFFLINE = "TailnetTargetOffline";
  public static final String REASON_NOT_ROUTABLE = "TailnetTargetNotRoutable";

  /** The tailnet's IPv4 range (CGNAT, where Tailscale and headscale allocate device addresses). */
  static final IpAddress TAILNET_V4 = IpAddress.literal("100.64.0.0");
  static final int TAILNET_V4_BITS = 10;
  /** The tailnet's IPv6 range (Tailscale's ULA prefix, also headscale's default). */
  static final IpAddress TAILNET_V6 = IpAddress.literal("fd7a:115c:a1e0::");
  static final int TAILNET_V6_BITS = 48;

  private EgressTargetCheck() {
  }

  /** Whether {@code ip} is in the tailnet's ranges (100.64.0.0/10, fd7a:115c:a1e0::/48). */
  public static boolean inTailnetRange(IpAddress ip) {
    IpAddress a = ip.unmapped();
    return a.isIpv4() ? a.within(TAILNET_V4, TAILNET_V4_BITS) : a.within(TAILNET_V6, TAILNET_V6_BITS);
  }

  /**
   * What stands between the proxy and its target, or empty.
   *
   * @param devices every device of the tailnet
   * @param acceptsRoutes whether the proxy accepts subnet routes (its ProxyClass's {@code tailscale.acceptRoutes})
   */
  public static Optional<Problem> check(ProxyTarget target, List<Device> devices, boolean acceptsRoutes) {
    if (target instanceof ProxyTarget.TailnetIp t) {
      Optional<IpAddress> ip = IpAddress.tryParse(t.ip());
      if (ip.isEmpty()) {
        return Optional.empty(); // the planner refuses it
      }
      if (!inTailnetRange(ip.get())) {
        return acceptsRoutes ? Optional.empty() : Optional.of(Problem.warning(REASON_NOT_ROUTABLE, t.ip()
            + " is not a tailnet address (those are in 100.64.0.0/10 and fd7a:115c:a1e0::/48), so the proxy can "
            + "reach it only through a subnet router, and only if it accepts routes, which it does not: set "
            + "spec.tailscale.acceptRoutes: true in the Service's ProxyClass (tailscale.com/proxy-class)"));
      }
      IpAddress want = ip.get().unmapped();
      Optional<Device> device = devices.stream()
          .filter(d -> d.addresses().stream().anyMatch(a -> IpAddress.tryParse(a).map(IpAddress::unmapped)
              .map(want::equals).orElse(false)))
          .findFirst();
      if (device.isEmpty()) {
        return Optional.of(Problem.warning(REASON_UNKNOWN, "no device in the tailnet has the address " + t.ip()
            + ", so connections through the proxy go nowhere; check the address (tailscale status on the device) or "
            + "use tailscale.com/tailnet-fqdn with the device's MagicDNS name"));
      }
      return offline(device.get(), t.ip());
    }
    if (target instanceof ProxyTarget.TailnetFqdn t) {
      String name = t.fqdn().endsWith(".") ? t.fqdn().substring(0, t.fqdn().length() - 1) : t.fqdn();
      Optional<Device> device = devices.stream()
          .filter(d -> d.name() != null && stripDot(d.name()).equalsIgnoreCase(name)).findFirst();
      if (device.isEmpty()) {
        String domains = devices.stream().map(d -> d.name() == null ? "" : stripDot(d.name()))
            .filter(n -> n.contains(".")).map(n -> n.substring(n.indexOf('.') + 1).toLowerCase(Locale.ROOT))
            .distinct().sorted().reduce((a, b) -> a + ", " + b).orElse("");
        String hint = domains.isEmpty() || domains.contains(",") || name.toLowerCase(Locale.ROOT).endsWith("." + domains)
            ? "" : " (this tailnet's devices are named <device>." + domains + ")";
        return Optional.of(Problem.warning(REASON_UNKNOWN, "no device in the tailnet is named " + name + hint
            + ", so connections through the proxy go nowhere; check the name (tailscale status shows each device's "
            + "MagicDNS name)"));
      }
      return offline(device.get(), name);
    }
    return Optional.empty();
  }

  private static Optional<Problem> offline(Device d, String target) {
    if (!Boolean.FALSE.equals(d.online())) {
      return Optional.empty();
    }
    String who = d.name() == null || stripDot(d.name()).equalsIgnoreCase(target) ? "" : " (" + stripDot(d.name())
        + ")";
    return Optional.of(Problem.warning(REASON_OFFLINE, "the target device " + target + who + " is offline, so "
        + "connections through the proxy fail until it is back online"));
  }

  private static String stripDot(String s) {
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }
}
