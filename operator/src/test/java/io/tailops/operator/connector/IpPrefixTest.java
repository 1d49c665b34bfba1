package io.tailops.operator.connector;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class IpPrefixTest {

  private static IpPrefix p(String s) {
    return IpPrefix.parse(s).orElseThrow(() -> new AssertionError(s + ": " + IpPrefix.parseError(s).orElse("")));
  }

  @Test
  void writesIpv6CanonicallyAsTheControlPlaneDoes() {
    assertThat(p("FD00:10:40:0:0:0:0:0/64")).hasToString("fd00:10:40::/64");
    assertThat(p("2001:db8:0:0:1:0:0:1/128")).hasToString("2001:db8::1:0:0:1/128");
    assertThat(p("2001:0db8:0000:0000:0000:ff00:0042:8329/128")).hasToString("2001:db8::ff00:42:8329/128");
    assertThat(p("::/0")).hasToString("::/0");
    assertThat(p("1::/16")).hasToString("1::/16");
    assertThat(p("2001:db8:1:0:1:1:1:1/128")).as("a single zero group is not compressed")
        .hasToString("2001:db8:1:0:1:1:1:1/128");
    assertThat(p("::ffff:10.1.2.3/128")).hasToString("::ffff:10.1.2.3/128");
    assertThat(p("fd7a:115c:a1e0:b1a:0:7:a00:0/120")).hasToString("fd7a:115c:a1e0:b1a:0:7:a00:0/120");
  }

  @Test
  void refusesWhatIsNoPrefix() {
    assertThat(IpPrefix.parseError("10.0.0.0")).contains("no prefix length (expected address/length)");
    assertThat(IpPrefix.parseError("10.0.0.0/33")).contains("prefix length 33 out of range (at most 32)");
    assertThat(IpPrefix.parseError("::/129")).contains("prefix length 129 out of range (at most 128)");
    assertThat(IpPrefix.parseError("10.0.0/8")).contains("\"10.0.0\" is not an IP address");
    assertThat(IpPrefix.parseError("010.0.0.0/8")).contains("\"010.0.0.0\" is not an IP address");
    assertThat(IpPrefix.parseError("256.0.0.0/8")).isPresent();
    assertThat(IpPrefix.parseError("fe80::1%eth0/64")).isPresent();
    assertThat(IpPrefix.parseError("1::2::3/64")).isPresent();
    assertThat(IpPrefix.parseError("10.0.0.0/08")).contains("bad prefix length \"08\"");
    assertThat(IpPrefix.parseError("10.0.0.0/")).contains("bad prefix length \"\"");
    assertThat(IpPrefix.parseError("example.com/8")).isPresent();
    assertThat(IpPrefix.parseError("10.40.0.0/14")).isEmpty();
  }

  @Test
  void masksAndContains() {
    assertThat(p("1.2.3.4/5").isCanonical()).isFalse();
    assertThat(p("1.2.3.4/5").masked()).hasToString("0.0.0.0/5");
    assertThat(p("10.40.1.0/24").masked()).hasToString("10.40.1.0/24");
    assertThat(p("fd00::1/64").masked()).hasToString("fd00::/64");
    assertThat(p("10.0.0.0/8").contains(p("10.1.0.0/16"))).isTrue();
    assertThat(p("10.1.0.0/16").contains(p("10.0.0.0/8"))).isFalse();
    assertThat(p("10.0.0.0/8").contains(p("11.0.0.0/16"))).isFalse();
    assertThat(p("0.0.0.0/0").contains(p("fd00::/8"))).as("families never contain each other").isFalse();
    assertThat(p("10.0.0.0/8").contains(p("10.0.0.0/8"))).isTrue();
  }

  @Test
  void sortsShorterPrefixesFirstThenIpv4BeforeIpv6() {
    List<IpPrefix> l = new ArrayList<>(List.of(p("192.168.10.0/24"), p("fd00:10:40::/64"), p("10.40.0.0/14"),
        p("::/0"), p("0.0.0.0/0"), p("10.0.0.0/24")));
    Collections.sort(l);
    assertThat(l).extracting(IpPrefix::toString).containsExactly("0.0.0.0/0", "::/0", "10.40.0.0/14", "10.0.0.0/24",
        "192.168.10.0/24", "fd00:10:40::/64");
  }

  @Test
  void recognises4via6Routes() {
    IpPrefix via = p("fd7a:115c:a1e0:b1a:0:7:a00:0/120");
    assertThat(via.isVia()).isTrue();
    assertThat(via.viaSiteId()).isEqualTo(7);
    assertThat(p("fd7a:115c:a1e0::/48").isVia()).isFalse();
  }
}
