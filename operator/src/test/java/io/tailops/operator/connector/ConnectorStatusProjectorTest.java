package io.tailops.operator.connector;

import static io.tailops.operator.connector.ConnectorPlannerTest.connector;
import static io.tailops.operator.connector.ConnectorPlannerTest.valid;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.tailops.api.v1alpha1.AppConnector;
import io.tailops.api.v1alpha1.ConnectorStatus;
import io.tailops.api.v1alpha1.SubnetRouter;
import io.tailops.controlplane.DeviceRoutes;
import io.tailops.operator.connector.ConnectorStatusProjector.AppConnectorConfigured;
import io.tailops.operator.connector.ConnectorStatusProjector.AppConnectorNotChecked;
import io.tailops.operator.connector.ConnectorStatusProjector.AppConnectorNotConfigured;
import io.tailops.operator.connector.ConnectorStatusProjector.AppConnectorUnsupported;
import io.tailops.operator.connector.ConnectorStatusProjector.Approval;
import io.tailops.operator.connector.ConnectorStatusProjector.Replica;
import io.tailops.operator.connector.ConnectorStatusProjector.RoutesChecked;
import io.tailops.operator.connector.ConnectorStatusProjector.RoutesNotChecked;
import io.tailops.operator.connector.ConnectorStatusProjector.Verdict;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConnectorStatusProjectorTest {
  private static final Clock CLOCK = Clock.fixed(Instant.parse("2026-12-07T10:00:00Z"), ZoneOffset.UTC);
  private static final Approval TAILSCALE = new Approval("Tailscale", false);
  private static final Approval HEADSCALE = new Approval("headscale", false);
  private static final Approval HEADSCALE_APPROVING = new Approval("headscale", true);
  private static final AppConnectorConfigured NO_APP = new AppConnectorConfigured(List.of());

  private static final ConnectorPlan SUBNET_AND_EXIT = valid(connector("cn-both", s -> {
    s.setHostname("home-gateway");
    s.setExitNode(true);
    s.setSubnetRouter(new SubnetRouter(List.of("10.50.0.0/16")));
  }));
  private static final Replica GATEWAY = new Replica(0, "nGw1CNTRL", "home-gateway.tailnet-abc.ts.net",
      List.of("100.64.0.7", "fd7a:115c:a1e0::7"));
  private static final List<String> ALL = List.of("0.0.0.0/0", "::/0", "10.50.0.0/16");

  private static RoutesChecked routes(String device, List<String> advertised, List<String> approved) {
    return new RoutesChecked(Map.of(device, new DeviceRoutes(advertised, approved)));
  }

  @Test
  void readyWhenTheDeviceIsUpAndItsRoutesApproved() {
    Verdict v = ConnectorStatusProjector.verdict(SUBNET_AND_EXIT, List.of(GATEWAY), routes("nGw1CNTRL", ALL, ALL),
        NO_APP, TAILSCALE);
    assertThat(v.ready()).isTrue();
    assertThat(v.reason()).isEqualTo("ConnectorCreated");
    assertThat(v.message()).isEqualTo("Connector is ready: subnet router for 10.50.0.0/16 and exit node; device "
        + "home-gateway.tailnet-abc.ts.net (100.64.0.7, fd7a:115c:a1e0::7); routes approved in the tailnet");
    assertThat(v.event().type()).isEqualTo("Normal");
  }

  @Test
  void theOfficialStatusFieldsAreFilledFromTheDevices() {
    Verdict v = ConnectorStatusProjector.verdict(SUBNET_AND_EXIT, List.of(GATEWAY), routes("nGw1CNTRL", ALL, ALL),
        NO_APP, TAILSCALE);
    ConnectorStatus s = ConnectorStatusProjector.status(null, SUBNET_AND_EXIT, List.of(GATEWAY), v, 1L, CLOCK);
    assertThat(s.getSubnetRoutes()).isEqualTo("10.50.0.0/16");
    assertThat(s.getIsExitNode()).isTrue();
    assertThat(s.getIsAppConnector()).isFalse();
    assertThat(s.getHostname()).isEqualTo("home-gateway.tailnet-abc.ts.net");
    assertThat(s.getTailnetIPs()).containsExactly("100.64.0.7", "fd7a:115c:a1e0::7");
    assertThat(s.getDevices()).hasSize(1);
    assertThat(s.getDevices().get(0).getHostname()).isEqualTo("home-gateway.tailnet-abc.ts.net");
    Condition c = s.getConditions().get(0);
    assertThat(c.getType()).isEqualTo("ConnectorReady");
    assertThat(c.getStatus()).isEqualTo("True");
    assertThat(c.getObservedGeneration()).isEqualTo(1L);
    assertThat(c.getLastTransitionTime()).isEqualTo("2026-12-07T10:00:00Z");
  }

  @Test
  void waitsForEveryReplicaToLogIn() {
    ConnectorPlan ha = valid(connector("cn-ha", s -> {
      s.setReplicas(2);
      s.setHostnamePrefix("ha-router");
      s.setSubnetRouter(new SubnetRouter(List.of("10.60.0.0/16")));
    }));
    Replica up = new Replica(0, "n0", "ha-router-0.ts.net", List.of("100.64.0.1"));
    Replica down = new Replica(1, null, null, List.of());
    Verdict v = ConnectorStatusProjector.verdict(ha, List.of(up, down), new RoutesNotChecked("x"), NO_APP, TAILSCALE);
    assertThat(v.ready()).isFalse();
    assertThat(v.reason()).isEqualTo("ConnectorCreating");
    assertThat(v.message()).isEqualTo("waiting for device ha-router-1 to log in to the tailnet (1 of 2 up)");
    ConnectorStatus s = ConnectorStatusProjector.status(null, ha, List.of(up, down), v, 3L, CLOCK);
    assertThat(s.getDevices()).as("only replicas with a device").hasSize(1);
    assertThat(ConnectorStatusProjector.verdict(ha, List.of(up), new RoutesNotChecked("x"), NO_APP, TAILSCALE)
        .message()).as("a replica without a Secret yet").isEqualTo("waiting for device ha-router-1 to log in to the "
            + "tailnet (1 of 2 up)");
  }

  @Test
  void unapprovedRoutesNameWhatToAddToAutoApprovers() {
    Verdict v = ConnectorStatusProjector.verdict(SUBNET_AND_EXIT, List.of(GATEWAY), routes("nGw1CNTRL", ALL,
        List.of()), NO_APP, TAILSCALE);
    assertThat(v.ready()).isFalse();
    assertThat(v.reason()).isEqualTo("RoutesNotApproved");
    assertThat(v.message()).isEqualTo("device home-gateway advertises route 10.50.0.0/16 and the exit node "
        + "(0.0.0.0/0, ::/0) but the tailnet has not approved them, so they carry no traffic: approve them in the "
        + "admin console (Machines, the device, Edit route settings) or add to the tailnet policy \"autoApprovers\": "
        + "{\"routes\": {\"10.50.0.0/16\": [\"tag:k8s\"]}, \"exitNode\": [\"tag:k8s\"]}");
    assertThat(v.event().type()).isEqualTo("Warning");
    assertThat(v.event().reason()).isEqualTo("RoutesNotApproved");
  }

  @Test
  void anUnapprovedExitNodeHasItsOwnReason() {
    Verdict v = ConnectorStatusProjector.verdict(SUBNET_AND_EXIT, List.of(GATEWAY), routes("nGw1CNTRL", ALL,
        List.of("10.50.0.0/16")), NO_APP, TAILSCALE);
    assertThat(v.reason()).isEqualTo("ExitNodeNotApproved");
    assertThat(v.message()).isEqualTo("device home-gateway advertises the exit node (0.0.0.0/0, ::/0) but the "
        + "tailnet has not approved it, so it carries no traffic: approve it in the admin console (Machines, the "
        + "device, Edit route settings) or add to the tailnet policy \"autoApprovers\": {\"exitNode\": "
        + "[\"tag:k8s\"]}");
  }

  @Test
  void onHeadscaleTheMessageSaysHowToApproveThereAndWhetherTheOperatorDoes() {
    Replica hs = new Replica(0, "4", "home-gateway.tailnet.test", List.of("100.64.0.4"));
    Verdict off = ConnectorStatusProjector.verdict(SUBNET_AND_EXIT, List.of(hs), routes("4", ALL, List.of()), NO_APP,
        HEADSCALE);
    assertThat(off.message()).isEqualTo("device home-gateway (node 4) advertises route 10.50.0.0/16 and the exit "
        + "node (0.0.0.0/0, ::/0) but the tailnet has not approved them, so they carry no traffic: approve them with "
        + "headscale nodes approve-routes --identifier 4 --routes 10.50.0.0/16,0.0.0.0/0,::/0, let the operator "
        + "approve its Connectors' routes (HEADSCALE_APPROVE_ROUTES=true, chart value headscale.approveRoutes), or "
        + "add to the headscale policy \"autoApprovers\": {\"routes\": {\"10.50.0.0/16\": [\"tag:k8s\"]}, "
        + "\"exitNode\": [\"tag:k8s\"]}");
    assertThat(ConnectorStatusProjector.verdict(SUBNET_AND_EXIT, List.of(hs), routes("4", ALL, ALL), NO_APP,
        HEADSCALE).message()).endsWith("; routes approved in headscale (the operator does not approve routes itself: "
            + "HEADSCALE_APPROVE_ROUTES is off)");
    assertThat(ConnectorStatusProjector.verdict(SUBNET_AND_EXIT, List.of(hs), routes("4", ALL, ALL), NO_APP,
        HEADSCALE_APPROVING).message()).endsWith("; routes approved (the operator approves its Connectors' routes: "
            + "HEADSCALE_APPROVE_ROUTES=true)");
    assertThat(ConnectorStatusProjector.verdict(SUBNET_AND_EXIT, List.of(hs), routes("4", ALL, List.of()), NO_APP,
        HEADSCALE_APPROVING).message()).contains("the operator approves them (HEADSCALE_APPROVE_ROUTES=true)");
  }

  @Test
  void routesNotAdvertisedYetAreWaitedFor() {
    Verdict v = ConnectorStatusProjector.verdict(SUBNET_AND_EXIT, List.of(GATEWAY), routes("nGw1CNTRL",
        List.of("0.0.0.0/0", "::/0"), ALL), NO_APP, TAILSCALE);
    assertThat(v.reason()).isEqualTo("ConnectorCreating");
    assertThat(v.message()).isEqualTo("waiting for device home-gateway to advertise 10.50.0.0/16 (the proxy applies "
        + "its new config)");
  }

  @Test
  void aDeviceTheControlPlaneDoesNotKnowIsWaitedFor() {
    Verdict v = ConnectorStatusProjector.verdict(SUBNET_AND_EXIT, List.of(GATEWAY), new RoutesChecked(Map.of()),
        NO_APP, TAILSCALE);
    assertThat(v.reason()).isEqualTo("ConnectorCreating");
    assertThat(v.message()).isEqualTo("the control plane does not know device home-gateway yet");
  }

  @Test
  void whenApprovalCannotBeCheckedTheConnectorIsReadyAndSaysSo() {
    Verdict v = ConnectorStatusProjector.verdict(SUBNET_AND_EXIT, List.of(GATEWAY), new RoutesNotChecked("the OAuth "
        + "client lacks the devices:routes:read scope"), NO_APP, TAILSCALE);
    assertThat(v.ready()).isTrue();
    assertThat(v.message()).endsWith("; whether the tailnet approved its routes was not checked: the OAuth client "
        + "lacks the devices:routes:read scope");
  }

  @Test
  void anAppConnectorNeedsItsPolicyEntry() {
    ConnectorPlan app = valid(connector("cn-app", s -> s.setAppConnector(new AppConnector())));
    Replica r = new Replica(0, "nApp", "cn-app-connector.ts.net", List.of("100.64.0.9"));
    RoutesChecked none = routes("nApp", List.of(), List.of());
    Verdict missing = ConnectorStatusProjector.verdict(app, List.of(r), none, new AppConnectorNotConfigured(),
        TAILSCALE);
    assertThat(missing.ready()).isFalse();
    assertThat(missing.reason()).isEqualTo("AppConnectorNotConfigured");
    assertThat(missing.message()).isEqualTo("no app connector in the tailnet policy names the device's tags "
        + "[tag:k8s], so no domain is routed through it: add to the policy \"nodeAttrs\": [{\"target\": [\"*\"], "
        + "\"app\": {\"tailscale.com/app-connectors\": [{\"name\": \"cn-app\", \"connectors\": [\"tag:k8s\"], "
        + "\"domains\": [\"example.com\"]}]}}] with your domains");
    Verdict ok = ConnectorStatusProjector.verdict(app, List.of(r), none, new AppConnectorConfigured(List.of("github")),
        TAILSCALE);
    assertThat(ok.ready()).isTrue();
    assertThat(ok.message()).isEqualTo("Connector is ready: app connector; device cn-app-connector.ts.net "
        + "(100.64.0.9)");
    Verdict unchecked = ConnectorStatusProjector.verdict(app, List.of(r), none,
        new AppConnectorNotChecked("the OAuth client lacks the policy_file:read scope"), TAILSCALE);
    assertThat(unchecked.ready()).isTrue();
    assertThat(unchecked.message()).endsWith("; whether the tailnet policy defines an app connector for [tag:k8s] was "
        + "not checked: the OAuth client lacks the policy_file:read scope");
  }

  @Test
  void discoveredAppConnectorRoutesMustBeApproved() {
    ConnectorPlan app = valid(connector("cn-app", s -> s.setAppConnector(new AppConnector())));
    Replica r = new Replica(0, "nApp", "cn-app-connector.ts.net", List.of("100.64.0.9"));
    Verdict v = ConnectorStatusProjector.verdict(app, List.of(r), routes("nApp", List.of("140.82.112.0/20"),
        List.of()), new AppConnectorConfigured(List.of("github")), TAILSCALE);
    assertThat(v.reason()).isEqualTo("RoutesNotApproved");
    assertThat(v.message()).startsWith("device cn-app-connector advertises route 140.82.112.0/20 but the tailnet");
  }

  @Test
  void headscaleHasNoAppConnectors() {
    ConnectorPlan app = valid(connector("cn-app", s -> s.setAppConnector(new AppConnector())));
    Replica r = new Replica(0, "5", "cn-app-connector.tailnet.test", List.of("100.64.0.5"));
    Verdict v = ConnectorStatusProjector.verdict(app, List.of(r), routes("5", List.of(), List.of()),
        new AppConnectorUnsupported("headscale"), HEADSCALE);
    assertThat(v.reason()).isEqualTo("AppConnectorNotSupported");
    assertThat(v.message()).isEqualTo("headscale does not implement app connectors: the device advertises itself as "
        + "one but no domain is routed through it; use a subnet router with the applications' routes instead");
  }

  @Test
  void zeroReplicasServeNothing() {
    ConnectorPlan zero = valid(connector("cn", s -> {
      s.setReplicas(0);
      s.setExitNode(true);
    }));
    Verdict v = ConnectorStatusProjector.verdict(zero, List.of(), new RoutesNotChecked("x"), NO_APP, TAILSCALE);
    assertThat(v.reason()).isEqualTo("ConnectorScaledToZero");
    assertThat(v.message()).isEqualTo("replicas is 0: no device runs, so the Connector (exit node) serves nothing; set"
        + " replicas to 1 or more");
    ConnectorStatus s = ConnectorStatusProjector.status(null, zero, List.of(), v, 2L, CLOCK);
    assertThat(s.getDevices()).isEmpty();
    assertThat(s.getHostname()).isNull();
    assertThat(s.getTailnetIPs()).isNull();
  }

  @Test
  void anInvalidConnectorKeepsWhatItsDevicesReportedAndOnlyTheConditionChanges() {
    Verdict ok = ConnectorStatusProjector.verdict(SUBNET_AND_EXIT, List.of(GATEWAY), routes("nGw1CNTRL", ALL, ALL),
        NO_APP, TAILSCALE);
    ConnectorStatus before = ConnectorStatusProjector.status(null, SUBNET_AND_EXIT, List.of(GATEWAY), ok, 1L, CLOCK);
    ConnectorStatus after = ConnectorStatusProjector.condition(before, new Verdict(false, "ConnectorInvalid",
        "Connector is invalid: x"), 2L, Clock.offset(CLOCK, java.time.Duration.ofMinutes(1)));
    assertThat(after.getDevices()).isEqualTo(before.getDevices());
    assertThat(after.getSubnetRoutes()).isEqualTo("10.50.0.0/16");
    Condition c = after.getConditions().get(0);
    assertThat(c.getStatus()).isEqualTo("False");
    assertThat(c.getReason()).isEqualTo("ConnectorInvalid");
    assertThat(c.getObservedGeneration()).isEqualTo(2L);
    assertThat(c.getLastTransitionTime()).isEqualTo("2026-12-07T10:01:00Z");
    assertThat(before.getConditions().get(0).getStatus()).as("the input is not changed").isEqualTo("True");
  }
}
