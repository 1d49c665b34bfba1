package io.tailops.operator.connector;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailops.controlplane.DeviceRoutes;
import java.util.List;
import org.junit.jupiter.api.Test;

class RouteApprovalTest {
  private static final List<IpPrefix> WANTED = ConnectorRoutes.of(List.of("10.40.0.0/14", "fd00:10:40::/64"), true)
      .advertised();

  @Test
  void everythingAdvertisedAndApprovedIsComplete() {
    RouteApproval a = RouteApproval.of(WANTED, new DeviceRoutes(List.of("0.0.0.0/0", "::/0", "10.40.0.0/14",
        "fd00:10:40::/64"), List.of("10.40.0.0/14", "fd00:10:40::/64", "0.0.0.0/0", "::/0")));
    assertThat(a.complete()).isTrue();
    assertThat(a.pending()).isFalse();
  }

  @Test
  void unapprovedSubnetRoutesAndExitNodeAreToldApart() {
    RouteApproval a = RouteApproval.of(WANTED, new DeviceRoutes(List.of("0.0.0.0/0", "::/0", "10.40.0.0/14",
        "fd00:10:40::/64"), List.of("10.40.0.0/14")));
    assertThat(a.unapprovedRoutes()).containsExactly("fd00:10:40::/64");
    assertThat(a.exitNodeUnapproved()).isTrue();
    assertThat(a.notYetAdvertised()).isEmpty();
    assertThat(a.pending()).isTrue();
  }

  @Test
  void routesNotAdvertisedYetAreWaitedFor() {
    RouteApproval a = RouteApproval.of(WANTED, new DeviceRoutes(List.of("0.0.0.0/0", "::/0"), List.of("0.0.0.0/0",
        "::/0")));
    assertThat(a.notYetAdvertised()).containsExactly("10.40.0.0/14", "fd00:10:40::/64");
    assertThat(a.pending()).isFalse();
    assertThat(a.complete()).isFalse();
  }

  @Test
  void routesAreComparedCanonically() {
    RouteApproval a = RouteApproval.of(ConnectorRoutes.of(List.of("fd00:10:40::/64"), false).advertised(),
        new DeviceRoutes(List.of("FD00:10:40:0:0:0:0:0/64"), List.of("fd00:10:40::/64")));
    assertThat(a.complete()).isTrue();
  }

  @Test
  void discoveredAppConnectorRoutesNeedApprovalToo() {
    RouteApproval a = RouteApproval.of(List.of(), new DeviceRoutes(List.of("140.82.112.0/20"), List.of()));
    assertThat(a.unapprovedRoutes()).containsExactly("140.82.112.0/20");
  }

  @Test
  void theSnippetIsValidPolicyJson() {
    assertThat(RouteApproval.autoApproversSnippet(List.of("10.40.0.0/14", "fd00:10:40::/64"), true,
        List.of("tag:k8s", "tag:subnet-router"))).isEqualTo("\"autoApprovers\": {\"routes\": {\"10.40.0.0/14\": "
            + "[\"tag:k8s\", \"tag:subnet-router\"], \"fd00:10:40::/64\": [\"tag:k8s\", \"tag:subnet-router\"]}, "
            + "\"exitNode\": [\"tag:k8s\", \"tag:subnet-router\"]}");
    assertThat(RouteApproval.autoApproversSnippet(List.of(), true, List.of("tag:k8s")))
        .isEqualTo("\"autoApprovers\": {\"exitNode\": [\"tag:k8s\"]}");
  }
}
