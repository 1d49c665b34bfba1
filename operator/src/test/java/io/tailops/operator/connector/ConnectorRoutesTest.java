package io.tailops.operator.connector;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ConnectorRoutesTest {

  @Test
  void advertisedRoutesAreDeduplicatedAndSortedAsTheOfficialOperatorWritesThem() {
    ConnectorRoutes r = ConnectorRoutes.of(List.of("192.168.10.0/24", "fd00:10:40::/64", "10.40.0.0/14"), false);
    assertThat(r.errors()).isEmpty();
    assertThat(r.warnings()).isEmpty();
    assertThat(r.advertisedText()).containsExactly("10.40.0.0/14", "192.168.10.0/24", "fd00:10:40::/64");
  }

  @Test
  void anExitNodeAddsBothDefaultRoutesFirst() {
    assertThat(ConnectorRoutes.of(List.of("10.50.0.0/16"), true).advertisedText())
        .containsExactly("0.0.0.0/0", "::/0", "10.50.0.0/16");
    assertThat(ConnectorRoutes.of(List.of(), true).advertisedText()).containsExactly("0.0.0.0/0", "::/0");
    assertThat(ConnectorRoutes.of(List.of(), false).advertisedText()).isEmpty();
  }

  @Test
  void hostBitsAreRefusedInTheOfficialWording() {
    assertThat(ConnectorRoutes.of(List.of("1.2.3.4/5"), false).errors())
        .containsExactly("route 1.2.3.4/5 has non-address bits set; expected 0.0.0.0/5");
  }

  @Test
  void malformedRoutesAreNamedWithWhy() {
    assertThat(ConnectorRoutes.of(List.of("10.0.0.0/33", "bogus", "10.1.0.0/16"), false).errors()).containsExactly(
        "route 10.0.0.0/33 is invalid: prefix length 33 out of range (at most 32)",
        "route bogus is invalid: no prefix length (expected address/length)");
  }

  @Test
  void halfADefaultRouteIsAnError() {
    assertThat(ConnectorRoutes.of(List.of("0.0.0.0/0"), false).errors()).containsExactly(
        "0.0.0.0/0 advertised without its IPv6 counterpart, please also advertise ::/0 (or set exitNode: true "
            + "instead)");
    assertThat(ConnectorRoutes.of(List.of("::/0"), false).errors()).containsExactly(
        "::/0 advertised without its IPv4 counterpart, please also advertise 0.0.0.0/0 (or set exitNode: true "
            + "instead)");
    assertThat(ConnectorRoutes.of(List.of("0.0.0.0/0"), true).errors()).as("the exit node adds the other half")
        .isNotEmpty();
  }

  @Test
  void bothDefaultRoutesWithoutExitNodeAreAWarning() {
    ConnectorRoutes r = ConnectorRoutes.of(List.of("0.0.0.0/0", "::/0"), false);
    assertThat(r.errors()).isEmpty();
    assertThat(r.warnings()).containsExactly("routes 0.0.0.0/0 and ::/0 make the Connector an exit node; set "
        + "exitNode: true instead, so that its status says so");
    assertThat(r.advertisedText()).containsExactly("0.0.0.0/0", "::/0");
  }

  @Test
  void overlappingAndRepeatedRoutesAreWarningsAndAdvertisedOnce() {
    ConnectorRoutes r = ConnectorRoutes.of(List.of("10.0.0.0/8", "10.1.0.0/16", "10.0.0.0/8", "fd00::/8",
        "fd00:1::/32"), true);
    assertThat(r.errors()).isEmpty();
    assertThat(r.warnings()).containsExactly("route 10.0.0.0/8 is listed more than once",
        "route 10.1.0.0/16 lies within route 10.0.0.0/8 of the same Connector; 10.1.0.0/16 adds nothing",
        "route fd00:1::/32 lies within route fd00::/8 of the same Connector; fd00:1::/32 adds nothing");
    assertThat(r.advertisedText()).containsExactly("0.0.0.0/0", "::/0", "10.0.0.0/8", "fd00::/8", "10.1.0.0/16",
        "fd00:1::/32");
    assertThat(r.subnetRoutes()).extracting(IpPrefix::toString).doesNotContain("0.0.0.0/0", "::/0");
  }

  @Test
  void via6RoutesFollowTailscaledsRules() {
    assertThat(ConnectorRoutes.of(List.of("fd7a:115c:a1e0:b1a:0:7:a00:0/120"), false).errors()).isEmpty();
    assertThat(ConnectorRoutes.of(List.of("fd7a:115c:a1e0:b1a::/80"), false).errors())
        .containsExactly("fd7a:115c:a1e0:b1a::/80 4-in-6 prefix must be at least a /96");
    assertThat(ConnectorRoutes.of(List.of("fd7a:115c:a1e0:b1a:1:0:a00:0/120"), false).errors())
        .containsExactly("route fd7a:115c:a1e0:b1a:1:0:a00:0/120 contains invalid site ID 00010000; must be 0xffff "
            + "or less");
  }
}
