package io.tailops.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailops.operator.apiproxy.PeerIdentity;
import io.tailops.operator.apiproxy.WhoIs;
import io.tailops.operator.config.SecuritySettings.StatusPageAccess;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Who sees the status page on the tailnet, decided without a server (the device's whois is a map here). */
class StatusPageGateTest {
  static final String ALICE = "100.64.0.7";
  static final String BOB = "100.64.0.8";
  static final String CI = "100.64.0.9";

  static PeerIdentity whois(String json) {
    try {
      return PeerIdentity.fromWhoIs(json);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  /** alice has the status page grant, bob has none, the CI runner is tagged and has the grant. */
  static final Map<String, PeerIdentity> TAILNET = Map.of(
      ALICE, whois("{\"Node\":{\"Name\":\"alice-laptop.tailnet.test.\",\"Tags\":null},\"UserProfile\":{\"LoginName\":"
          + "\"alice@example.com\"},\"CapMap\":{\"tailops.io/cap/status\":[{}]}}"),
      BOB, whois("{\"Node\":{\"Name\":\"bob-phone.tailnet.test.\"},\"UserProfile\":{\"LoginName\":\"bob@example.com\"},"
          + "\"CapMap\":{\"tailscale.com/cap/kubernetes\":[{\"impersonate\":{\"groups\":[\"x\"]}}]}}"),
      CI, whois("{\"Node\":{\"Name\":\"ci.tailnet.test.\",\"Tags\":[\"tag:ci\"]},\"UserProfile\":{\"LoginName\":"
          + "\"tagged-devices\"},\"CapMap\":{\"tailops.io/cap/status\":null}}"));
  static final WhoIs DEVICE = address -> Optional.ofNullable(TAILNET.get(address));

  static StatusPageGate.Decision decide(StatusPageAccess access, List<String> forwardedFor) {
    return new StatusPageGate(access, DEVICE).decide(forwardedFor);
  }

  @Test
  void byDefaultOnlyCallersWithTheGrantCapabilitySeeThePage() {
    assertThat(decide(StatusPageAccess.GRANT, List.of(ALICE)).allowed()).isTrue();
    assertThat(decide(StatusPageAccess.GRANT, List.of(CI)).allowed()).isTrue();
    StatusPageGate.Decision bob = decide(StatusPageAccess.GRANT, List.of(BOB));
    assertThat(bob.allowed()).isFalse();
    assertThat(bob.status()).isEqualTo(403);
    assertThat(bob.message()).startsWith("bob@example.com on bob-phone.tailnet.test may not see")
        .contains("\"app\": {\"tailops.io/cap/status\": [{}]}");
  }

  @Test
  void tailnetModeAdmitsEveryKnownPeerButNotStrangers() {
    assertThat(decide(StatusPageAccess.TAILNET, List.of(BOB)).allowed()).isTrue();
    assertThat(decide(StatusPageAccess.TAILNET, List.of("100.64.0.99")).status()).isEqualTo(403);
  }

  @Test
  void offModeAdmitsNobody() {
    StatusPageGate.Decision d = decide(StatusPageAccess.OFF, List.of(ALICE));
    assertThat(d.allowed()).isFalse();
    assertThat(d.status()).isEqualTo(404);
  }

  @Test
  void withoutExactlyOneForwardedAddressNobodyIsAdmitted() {
    for (List<String> xff : List.of(List.<String>of(), List.of(""), List.of(ALICE + ", " + BOB), List.of(ALICE, BOB))) {
      StatusPageGate.Decision d = decide(StatusPageAccess.TAILNET, xff);
      assertThat(d.allowed()).as(xff.toString()).isFalse();
      assertThat(d.status()).isEqualTo(403);
    }
  }

  @Test
  void anUnknownAddressOrASilentDeviceFailsClosed() {
    assertThat(decide(StatusPageAccess.GRANT, List.of("100.64.0.99")).message())
        .isEqualTo("the operator's device does not know the caller 100.64.0.99");
    WhoIs broken = address -> {
      throw new IOException("connect: no such file");
    };
    StatusPageGate.Decision d = new StatusPageGate(StatusPageAccess.TAILNET, broken).decide(List.of(ALICE));
    assertThat(d.allowed()).isFalse();
    assertThat(d.status()).isEqualTo(503);
  }
}
