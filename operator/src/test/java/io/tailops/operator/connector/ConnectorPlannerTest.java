package io.tailops.operator.connector;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.tailops.api.v1alpha1.AppConnector;
import io.tailops.api.v1alpha1.Connector;
import io.tailops.api.v1alpha1.ConnectorSpec;
import io.tailops.api.v1alpha1.SubnetRouter;
import io.tailops.operator.status.Problem;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class ConnectorPlannerTest {
  private static final List<String> DEFAULT_TAGS = List.of("tag:k8s");

  static Connector connector(String name, Consumer<ConnectorSpec> spec) {
    Connector c = new Connector();
    c.setMetadata(new ObjectMetaBuilder().withName(name).withUid("uid-" + name).withGeneration(1L).build());
    ConnectorSpec s = new ConnectorSpec();
    spec.accept(s);
    c.setSpec(s);
    return c;
  }

  static ConnectorPlan valid(Connector c) {
    ConnectorPlanner.Result r = ConnectorPlanner.plan(c, DEFAULT_TAGS);
    assertThat(r).isInstanceOf(ConnectorPlanner.Valid.class);
    return ((ConnectorPlanner.Valid) r).plan();
  }

  static String invalid(Connector c) {
    ConnectorPlanner.Result r = ConnectorPlanner.plan(c, DEFAULT_TAGS);
    assertThat(r).isInstanceOf(ConnectorPlanner.Invalid.class);
    return ((ConnectorPlanner.Invalid) r).message();
  }

  @Test
  void subnetRouterAdvertisesItsRoutesUnderTheDefaultHostnameAndTags() {
    ConnectorPlan p = valid(connector("cn-subnet", s -> s.setSubnetRouter(new SubnetRouter(List.of("192.168.10.0/24",
        "10.40.0.0/14")))));
    assertThat(p.hostnames()).containsExactly("cn-subnet-connector");
    assertThat(p.tags()).containsExactly("tag:k8s");
    assertThat(p.proxyClassName()).isNull();
    assertThat(p.subnetRouter()).isTrue();
    assertThat(p.exitNode()).isFalse();
    assertThat(p.appConnector()).isFalse();
    assertThat(p.specRoutes()).as("status.subnetRoutes: the spec's routes as written").isEqualTo(
        "192.168.10.0/24,10.40.0.0/14");
    assertThat(p.describe()).isEqualTo("subnet router for 10.40.0.0/14, 192.168.10.0/24");
    assertThat(p.tailscaledConfig(0, "http://ls", null, false).files().get("cap-107.hujson")).isEqualTo(
        "{\"Version\":\"alpha0\",\"Locked\":false,\"ServerURL\":\"http://ls\",\"Hostname\":\"cn-subnet-connector\","
            + "\"acceptDNS\":false,\"acceptRoutes\":false,\"AdvertiseRoutes\":[\"10.40.0.0/14\",\"192.168.10.0/24\"],"
            + "\"AppConnector\":{\"Advertise\":false},\"NoStatefulFiltering\":true}");
    assertThat(p.notes()).isEmpty();
  }

  @Test
  void exitNodeAndSubnetRouterWithItsOwnHostname() {
    ConnectorPlan p = valid(connector("cn-both", s -> {
      s.setHostname("home-gateway");
      s.setExitNode(true);
      s.setSubnetRouter(new SubnetRouter(List.of("10.50.0.0/16")));
    }));
    assertThat(p.hostnames()).containsExactly("home-gateway");
    assertThat(p.routes().advertisedText()).containsExactly("0.0.0.0/0", "::/0", "10.50.0.0/16");
    assertThat(p.describe()).isEqualTo("subnet router for 10.50.0.0/16 and exit node");
    assertThat(p.specRoutes()).isEqualTo("10.50.0.0/16");
  }

  @Test
  void exitNodeAlone() {
    ConnectorPlan p = valid(connector("cn-exit", s -> s.setExitNode(true)));
    assertThat(p.specRoutes()).isEmpty();
    assertThat(p.describe()).isEqualTo("exit node");
    assertThat(p.tailscaledConfig(0, null, "tskey-auth-x", false).files().get("cap-95.hujson")).isEqualTo(
        "{\"Version\":\"alpha0\",\"Locked\":false,\"AuthKey\":\"tskey-auth-x\",\"Hostname\":\"cn-exit-connector\","
            + "\"acceptDNS\":false,\"acceptRoutes\":false,\"AdvertiseRoutes\":[\"0.0.0.0/0\",\"::/0\"],"
            + "\"NoStatefulFiltering\":true}");
  }

  @Test
  void appConnectorAdvertisesItselfAndItsPreconfiguredRoutes() {
    ConnectorPlan bare = valid(connector("cn-app", s -> s.setAppConnector(new AppConnector())));
    assertThat(bare.tailscaledConfig(0, null, null, false).files().get("cap-107.hujson")).isEqualTo(
        "{\"Version\":\"alpha0\",\"Locked\":false,\"Hostname\":\"cn-app-connector\",\"acceptDNS\":false,"
            + "\"acceptRoutes\":false,\"AppConnector\":{\"Advertise\":true},\"NoStatefulFiltering\":true}");
    assertThat(bare.describe()).isEqualTo("app connector");
    assertThat(bare.specRoutes()).as("only subnet routers have status.subnetRoutes").isEmpty();
    AppConnector withRoutes = new AppConnector();
    withRoutes.setRoutes(List.of("203.0.113.0/24", "198.51.100.10/32"));
    ConnectorPlan routed = valid(connector("cn-app-routes", s -> s.setAppConnector(withRoutes)));
    assertThat(routed.routes().advertisedText()).containsExactly("203.0.113.0/24", "198.51.100.10/32");
    assertThat(routed.appConnector()).isTrue();
    assertThat(routed.specRoutes()).isEmpty();
  }

  @Test
  void replicasWithAPrefixAskForNumberedHostnames() {
    ConnectorPlan p = valid(connector("cn-ha", s -> {
      s.setReplicas(2);
      s.setHostnamePrefix("ha-router");
      s.setSubnetRouter(new SubnetRouter(List.of("10.60.0.0/16")));
    }));
    assertThat(p.replicas()).isEqualTo(2);
    assertThat(p.hostnames()).containsExactly("ha-router-0", "ha-router-1");
    assertThat(p.tailscaledConfig(1, null, null, false).hostname()).isEqualTo("ha-router-1");
  }

  @Test
  void aPrefixWithOneReplicaIsNumberedToo() {
    assertThat(valid(connector("x", s -> {
      s.setHostnamePrefix("edge");
      s.setExitNode(true);
    })).hostnames()).containsExactly("edge-0");
  }

  @Test
  void replicasWithoutHostnameOrPrefixGetDistinctHostnames() {
    ConnectorPlan p = valid(connector("cn", s -> {
      s.setReplicas(3);
      s.setExitNode(true);
    }));
    assertThat(p.hostnames()).containsExactly("cn-connector-0", "cn-connector-1", "cn-connector-2");
  }

  @Test
  void zeroReplicasIsValidWithNoHostname() {
    ConnectorPlan p = valid(connector("cn", s -> {
      s.setReplicas(0);
      s.setExitNode(true);
    }));
    assertThat(p.replicas()).isZero();
    assertThat(p.hostnames()).isEmpty();
  }

  @Test
  void tagsAndProxyClassComeFromTheSpec() {
    ConnectorPlan p = valid(connector("cn-tagged", s -> {
      s.setTags(List.of("tag:k8s", "tag:subnet-router"));
      s.setProxyClass("connector-class");
      s.setSubnetRouter(new SubnetRouter(List.of("172.16.0.0/12")));
    }));
    assertThat(p.tags()).containsExactly("tag:k8s", "tag:subnet-router");
    assertThat(p.proxyClassName()).isEqualTo("connector-class");
    assertThat(p.tailscaledConfig(0, null, null, true).acceptRoutes()).isTrue();
  }

  // ---------------------------------------------------------------------------------------------- bad input

  @Test
  void aConnectorWithNothingToDoIsInvalid() {
    assertThat(invalid(connector("x", s -> { }))).isEqualTo("Connector is invalid: invalid spec: a Connector must be"
        + " configured as at least one of subnet router, exit node or app connector");
    assertThat(invalid(connector("x", s -> s.setExitNode(false)))).startsWith("Connector is invalid: invalid spec: a "
        + "Connector must be configured as at least one of");
  }

  @Test
  void anAppConnectorCannotAlsoRouteSubnetsOrBeAnExitNode() {
    String expected = "Connector is invalid: invalid spec: a Connector that is configured as an app connector must "
        + "not be also configured as a subnet router or exit node";
    assertThat(invalid(connector("x", s -> {
      s.setAppConnector(new AppConnector());
      s.setExitNode(true);
    }))).isEqualTo(expected);
    assertThat(invalid(connector("x", s -> {
      s.setAppConnector(new AppConnector());
      s.setSubnetRouter(new SubnetRouter(List.of("10.0.0.0/8")));
    }))).isEqualTo(expected);
  }

  @Test
  void hostnameRulesWithReplicas() {
    assertThat(invalid(connector("x", s -> {
      s.setReplicas(2);
      s.setHostname("gw");
      s.setExitNode(true);
    }))).isEqualTo("Connector is invalid: invalid spec: a Connector that is configured with multiple replicas cannot "
        + "specify a hostname. Instead, use a hostnamePrefix");
    assertThat(invalid(connector("x", s -> {
      s.setHostnamePrefix("gw");
      s.setHostname("gw");
      s.setExitNode(true);
    }))).isEqualTo("Connector is invalid: invalid spec: a Connector cannot use both a hostname and hostname prefix");
  }

  @Test
  void aPrefixTooLongForTheOrdinalsIsInvalid() {
    String prefix = "a".repeat(62);
    assertThat(invalid(connector("x", s -> {
      s.setHostnamePrefix(prefix);
      s.setReplicas(2);
      s.setExitNode(true);
    }))).isEqualTo("Connector is invalid: hostnamePrefix \"" + prefix + "\" does not give valid hostnames for 2 "
        + "replicas: \"" + prefix + "-1\" is too long, max length is 63 bytes");
  }

  @Test
  void aNameThatGivesNoValidHostnameIsInvalid() {
    assertThat(invalid(connector("my.connector", s -> s.setExitNode(true)))).isEqualTo("Connector is invalid: the "
        + "hostname derived from the Connector's name is not a valid DNS label (\"my.connector-connector\" is not a "
        + "valid DNS label: contains invalid character \".\"): set spec.hostname");
    assertThat(invalid(connector("x", s -> {
      s.setHostname("-bad");
      s.setExitNode(true);
    }))).isEqualTo("Connector is invalid: invalid hostname: \"-bad\" is not a valid DNS label: must start with a "
        + "letter or number");
  }

  @Test
  void subnetRouterWithoutRoutesIsInvalid() {
    assertThat(invalid(connector("x", s -> s.setSubnetRouter(new SubnetRouter(List.of())))))
        .isEqualTo("Connector is invalid: invalid subnet router spec: no routes defined");
  }

  @Test
  void everyBadRouteIsListedOnALineOfItsOwn() {
    assertThat(invalid(connector("x", s -> s.setSubnetRouter(new SubnetRouter(List.of("1.2.3.4/5", "10.0.0.0/8",
        "0.0.0.0/0")))))).isEqualTo("Connector is invalid: route 1.2.3.4/5 has non-address bits set; expected "
            + "0.0.0.0/5\n0.0.0.0/0 advertised without its IPv6 counterpart, please also advertise ::/0 (or set "
            + "exitNode: true instead)");
    AppConnector bad = new AppConnector();
    bad.setRoutes(List.of("1.2.3.4/5"));
    assertThat(invalid(connector("x", s -> s.setAppConnector(bad)))).isEqualTo("Connector is invalid: route 1.2.3.4/5 "
        + "has non-address bits set; expected 0.0.0.0/5");
  }

  @Test
  void malformedTagsAreInvalid() {
    assertThat(invalid(connector("x", s -> {
      s.setTags(List.of("k8s"));
      s.setExitNode(true);
    }))).isEqualTo("Connector is invalid: invalid tag \"k8s\": tags must start with 'tag:'");
  }

  @Test
  void overlappingRoutesAreValidWithAWarning() {
    ConnectorPlan p = valid(connector("x", s -> s.setSubnetRouter(new SubnetRouter(List.of("10.0.0.0/8",
        "10.1.0.0/16")))));
    assertThat(p.notes()).containsExactly(Problem.warning("ConnectorRoutesWarning", "route 10.1.0.0/16 lies within "
        + "route 10.0.0.0/8 of the same Connector; 10.1.0.0/16 adds nothing"));
    assertThat(p.routes().advertisedText()).containsExactly("10.0.0.0/8", "10.1.0.0/16");
  }

  @Test
  void theInvalidResultCarriesTheOfficialReason() {
    ConnectorPlanner.Invalid i = (ConnectorPlanner.Invalid) ConnectorPlanner.plan(connector("x", s -> { }),
        DEFAULT_TAGS);
    assertThat(i.problem().reason()).isEqualTo("ConnectorInvalid");
    assertThat(i.problem().type()).isEqualTo("Warning");
  }
}
