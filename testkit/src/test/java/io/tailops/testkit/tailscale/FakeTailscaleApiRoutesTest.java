package io.tailops.testkit.tailscale;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** How the fake control plane treats advertised routes: approval by hand and by the policy's autoApprovers. */
class FakeTailscaleApiRoutesTest {
  private FakeTailscaleApi fake;

  @BeforeEach
  void start() {
    fake = FakeTailscaleApi.start();
  }

  @AfterEach
  void stop() {
    fake.close();
  }

  private FakeDevice device(String... tags) {
    return fake.registerDevice(fake.mintKey(List.of(tags), false, false, true, Duration.ofHours(1)).secret(), "r");
  }

  @Test
  void advertisedRoutesWaitForApprovalWithoutAutoApprovers() {
    FakeDevice d = device("tag:k8s");
    FakeRoutes r = fake.advertiseRoutes(d.nodeId(), List.of("0.0.0.0/0", "::/0", "10.40.0.0/14"));
    assertThat(r.advertised()).containsExactly("0.0.0.0/0", "::/0", "10.40.0.0/14");
    assertThat(r.enabled()).isEmpty();
    assertThat(fake.approveRoutes(d.nodeId(), List.of("10.40.0.0/14")).enabled()).containsExactly("10.40.0.0/14");
  }

  @Test
  void autoApproversApproveRoutesWithinTheirPrefixesForTheirTagsOnly() {
    fake.autoApproveRoutes("10.0.0.0/8", "tag:k8s").autoApproveExitNode("tag:exit");
    FakeDevice k8s = device("tag:k8s");
    FakeRoutes r = fake.advertiseRoutes(k8s.nodeId(), List.of("0.0.0.0/0", "::/0", "10.40.0.0/14", "192.168.0.0/24"));
    assertThat(r.enabled()).as("10.40.0.0/14 lies in 10.0.0.0/8; the exit node is not approved for tag:k8s")
        .containsExactly("10.40.0.0/14");
    FakeDevice exit = fake.registerDevice(fake.mintKey(List.of("tag:exit"), false, false, true, Duration.ofHours(1))
        .secret(), "e");
    assertThat(fake.advertiseRoutes(exit.nodeId(), List.of("0.0.0.0/0", "::/0", "10.1.0.0/16")).enabled())
        .containsExactly("0.0.0.0/0", "::/0");
    assertThat(fake.policyJson()).contains("\"autoApprovers\":{\"routes\":{\"10.0.0.0/8\":[\"tag:k8s\"]},"
        + "\"exitNode\":[\"tag:exit\"]}");
  }

  @Test
  void approvalsSurviveReAdvertisingAndNewRoutesAreJudgedWhenAdvertised() {
    FakeDevice d = device("tag:k8s");
    fake.advertiseRoutes(d.nodeId(), List.of("10.1.0.0/16"));
    fake.approveRoutes(d.nodeId(), List.of("10.1.0.0/16"));
    fake.autoApproveRoutes("10.2.0.0/16", "tag:k8s");
    FakeRoutes r = fake.advertiseRoutes(d.nodeId(), List.of("10.1.0.0/16", "10.2.0.0/16"));
    assertThat(r.enabled()).containsExactly("10.1.0.0/16", "10.2.0.0/16");
    assertThat(fake.advertiseRoutes(d.nodeId(), List.of()).advertised()).isEmpty();
    assertThat(fake.routes(d.nodeId()).enabled()).as("approval does not depend on advertising")
        .containsExactly("10.1.0.0/16", "10.2.0.0/16");
  }

  @Test
  void routesAreParsedAsLiteralsOnly() {
    assertThat(FakeRoutes.parse("10.0.0.0/8")).isNotNull();
    assertThat(FakeRoutes.parse("fd00::/8")).isNotNull();
    assertThat(FakeRoutes.parse("example.com/8")).isNull();
    assertThat(FakeRoutes.parse("1234/8")).isNull();
    assertThat(FakeRoutes.parse("10.0.0.0/33")).isNull();
    assertThat(FakeRoutes.parse("10.0.0.0")).isNull();
  }
}
