package io.tailops.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class IpAddressTest {

  @Test
  void parsesWhatGoAccepts() throws Exception {
    assertThat(IpAddress.parse("100.64.0.10").bytes()).containsExactly(100, 64, 0, 10);
    assertThat(IpAddress.parse("fd7a:115c:a1e0::a").bytes()).containsExactly(0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0x0a);
    assertThat(IpAddress.parse("::").isUnspecified()).isTrue();
    assertThat(IpAddress.parse("::ffff:100.64.0.1").unmapped()).isEqualTo(IpAddress.parse("100.64.0.1"));
    assertThat(IpAddress.parse("fe80::1%eth0").zone()).isEqualTo("eth0");
    assertThat(IpAddress.parse("1:2:3:4:5:6:7:8").isIpv4()).isFalse();
    assertThat(IpAddress.parse("FD7A:115C:A1E0::A")).isEqualTo(IpAddress.parse("fd7a:115c:a1e0::a"));
  }

  /** The messages are Go's net/netip.ParseAddr messages, as the official operator prints them. */
  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
      "nas|ParseAddr(\"nas\"): unable to parse IP",
      "100.64.0.256|ParseAddr(\"100.64.0.256\"): IPv4 field has value >255",
      "100.64.0.01|ParseAddr(\"100.64.0.01\"): IPv4 field has octet with leading zero",
      "100.64.0|ParseAddr(\"100.64.0\"): IPv4 address too short",
      "1.2.3.4.5|ParseAddr(\"1.2.3.4.5\"): IPv4 address too long",
      "1..2.3|ParseAddr(\"1..2.3\"): IPv4 field must have at least one digit (at \".2.3\")",
      "1.2.3.x|ParseAddr(\"1.2.3.x\"): unexpected character (at \"x\")",
      "%eth0|ParseAddr(\"%eth0\"): missing IPv6 address",
      "fe80::1%|ParseAddr(\"fe80::1%\"): zone must be a non-empty string",
      "1::2::3|ParseAddr(\"1::2::3\"): multiple :: in address (at \":3\")",
      "12345::1|ParseAddr(\"12345::1\"): each group must have 4 or less digits (at \"12345::1\")",
      "1:2:3|ParseAddr(\"1:2:3\"): address string too short",
      "1:2:3:4:5:6:7:8:9|ParseAddr(\"1:2:3:4:5:6:7:8:9\"): trailing garbage after address (at \"9\")",
      "1:2:3:4:5:6:7::8|ParseAddr(\"1:2:3:4:5:6:7::8\"): the :: must expand to at least one field of zeros",
      "1:2:|ParseAddr(\"1:2:\"): colon must be followed by more characters (at \":\")",
      "1:g::|ParseAddr(\"1:g::\"): each colon-separated field must have at least one digit (at \"g::\")",
      "1:2:3:4:5:6:7:1.2.3.4|ParseAddr(\"1:2:3:4:5:6:7:1.2.3.4\"): embedded IPv4 address must replace the final 2 fields of the address (at \"1.2.3.4\")",
  })
  void refusesWhatGoRefusesWithGosWords(String in, String message) {
    assertThatThrownBy(() -> IpAddress.parse(in)).isInstanceOf(IpAddress.ParseException.class).hasMessage(message);
  }

  @Test
  void classifiesAddressesNoDeviceCanHave() throws Exception {
    assertThat(IpAddress.parse("127.0.0.1").isLoopback()).isTrue();
    assertThat(IpAddress.parse("::1").isLoopback()).isTrue();
    assertThat(IpAddress.parse("224.0.0.1").isMulticast()).isTrue();
    assertThat(IpAddress.parse("ff02::1").isMulticast()).isTrue();
    assertThat(IpAddress.parse("169.254.1.1").isLinkLocal()).isTrue();
    assertThat(IpAddress.parse("fe80::1").isLinkLocal()).isTrue();
    assertThat(IpAddress.parse("255.255.255.255").isBroadcast()).isTrue();
    assertThat(IpAddress.parse("0.0.0.0").isUnspecified()).isTrue();
    IpAddress tailnet = IpAddress.parse("100.64.0.10");
    assertThat(tailnet.isLoopback() || tailnet.isMulticast() || tailnet.isLinkLocal() || tailnet.isBroadcast()
        || tailnet.isUnspecified()).isFalse();
  }

  @Test
  void prefixMembership() throws Exception {
    IpAddress cgnat = IpAddress.parse("100.64.0.0");
    assertThat(IpAddress.parse("100.127.255.255").within(cgnat, 10)).isTrue();
    assertThat(IpAddress.parse("100.128.0.1").within(cgnat, 10)).isFalse();
    assertThat(IpAddress.parse("fd7a::1").within(cgnat, 10)).isFalse();
  }
}
