package io.tailops.operator.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailops.controlplane.Device;
import io.tailops.operator.proxy.IpAddress;
import io.tailops.operator.proxy.ProxyTarget;
import io.tailops.operator.status.Problem;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class EgressTargetCheckTest {
  private static final Device NAS = device("1", "nas.tailnet-abc.ts.net", true, "100.64.0.10", "fd7a:115c:a1e0::a");
  private static final Device DB = device("2", "db.tailnet-abc.ts.net.", false, "100.64.0.11");
  private static final List<Device> TAILNET = List.of(NAS, DB);

  static Device device(String id, String name, Boolean online, String... addresses) {
    return new Device(id, id, name, name.substring(0, name.indexOf('.')), List.of(addresses), List.of(), null, online,
        null);
  }

  private static Optional<Problem> check(ProxyTarget t, boolean acceptsRoutes) {
    return EgressTargetCheck.check(t, TAILNET, acceptsRoutes);
  }

  @Test
  void aTargetThatIsAnOnlineDeviceIsFine() {
    assertThat(check(new ProxyTarget.TailnetIp("100.64.0.10"), false)).isEmpty();
    assertThat(check(new ProxyTarget.TailnetIp("fd7a:115c:a1e0::a"), false)).isEmpty();
    assertThat(check(new ProxyTarget.TailnetIp("FD7A:115C:A1E0:0::A"), false)).isEmpty();
    assertThat(check(new ProxyTarget.TailnetFqdn("nas.tailnet-abc.ts.net."), false)).isEmpty();
    assertThat(check(new ProxyTarget.TailnetFqdn("NAS.tailnet-abc.ts.net."), false)).isEmpty();
  }

  @Test
  void anAddressNoDeviceHasIsUnknown() {
    Problem p = check(new ProxyTarget.TailnetIp("100.64.0.99"), false).orElseThrow();
    assertThat(p.type()).isEqualTo("Warning");
    assertThat(p.reason()).isEqualTo("TailnetTargetUnknown");
    assertThat(p.message()).isEqualTo("no device in the tailnet has the address 100.64.0.99, so connections through "
        + "the proxy go nowhere; check the address (tailscale status on the device) or use tailscale.com/tailnet-fqdn "
        + "with the device's MagicDNS name");
  }

  @Test
  void aNameNoDeviceHasIsUnknownAndNamesTheTailnetsDomainWhenItDiffers() {
    assertThat(check(new ProxyTarget.TailnetFqdn("printer.tailnet-abc.ts.net."), false).orElseThrow().message())
        .isEqualTo("no device in the tailnet is named printer.tailnet-abc.ts.net, so connections through the proxy "
            + "go nowhere; check the name (tailscale status shows each device's MagicDNS name)");
    Problem other = check(new ProxyTarget.TailnetFqdn("nas.other-tailnet.ts.net."), false).orElseThrow();
    assertThat(other.reason()).isEqualTo("TailnetTargetUnknown");
    assertThat(other.message()).startsWith("no device in the tailnet is named nas.other-tailnet.ts.net (this "
        + "tailnet's devices are named <device>.tailnet-abc.ts.net), so");
  }

  @Test
  void anOfflineDeviceIsReported() {
    Problem p = check(new ProxyTarget.TailnetIp("100.64.0.11"), false).orElseThrow();
    assertThat(p.reason()).isEqualTo("TailnetTargetOffline");
    assertThat(p.message()).isEqualTo("the target device 100.64.0.11 (db.tailnet-abc.ts.net) is offline, so "
        + "connections through the proxy fail until it is back online");
    assertThat(check(new ProxyTarget.TailnetFqdn("db.tailnet-abc.ts.net."), false).orElseThrow().message())
        .startsWith("the target device db.tailnet-abc.ts.net is offline");
  }

  @Test
  void anAddressOutsideTheTailnetNeedsAProxyThatAcceptsRoutes() {
    Problem p = check(new ProxyTarget.TailnetIp("10.20.0.5"), false).orElseThrow();
    assertThat(p.reason()).isEqualTo("TailnetTargetNotRoutable");
    assertThat(p.message()).isEqualTo("10.20.0.5 is not a tailnet address (those are in 100.64.0.0/10 and "
        + "fd7a:115c:a1e0::/48), so the proxy can reach it only through a subnet router, and only if it accepts "
        + "routes, which it does not: set spec.tailscale.acceptRoutes: true in the Service's ProxyClass "
        + "(tailscale.com/proxy-class)");
    assertThat(check(new ProxyTarget.TailnetIp("10.20.0.5"), true)).isEmpty();
  }

  @Test
  void tailnetRanges() throws Exception {
    assertThat(EgressTargetCheck.inTailnetRange(IpAddress.parse("100.64.0.1"))).isTrue();
    assertThat(EgressTargetCheck.inTailnetRange(IpAddress.parse("100.127.255.254"))).isTrue();
    assertThat(EgressTargetCheck.inTailnetRange(IpAddress.parse("100.128.0.1"))).isFalse();
    assertThat(EgressTargetCheck.inTailnetRange(IpAddress.parse("fd7a:115c:a1e0:ab12::1"))).isTrue();
    assertThat(EgressTargetCheck.inTailnetRange(IpAddress.parse("fd7a:115c:a1e1::1"))).isFalse();
    assertThat(EgressTargetCheck.inTailnetRange(IpAddress.parse("::ffff:100.64.0.1"))).isTrue();
  }

  @Test
  void anOnlineStateTheControlPlaneDoesNotKnowIsNotReported() {
    Device unknownState = device("3", "lab.tailnet-abc.ts.net", null, "100.64.0.30");
    assertThat(EgressTargetCheck.check(new ProxyTarget.TailnetIp("100.64.0.30"), List.of(unknownState), false))
        .isEmpty();
  }
}
