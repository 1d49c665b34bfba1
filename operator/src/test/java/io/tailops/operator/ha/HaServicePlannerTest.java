package io.tailops.operator.ha;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.tailops.operator.status.Problem;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which Services are HA Services of an ingress ProxyGroup, their hostname, tags and refusals (official svc-for-pg). */
class HaServicePlannerTest {
  final HaServicePlanner planner = new HaServicePlanner(false, List.of("tag:k8s"));

  static Service svc(Map<String, String> annotations, String type, String lbClass, String clusterIp) {
    return new ServiceBuilder().withNewMetadata().withNamespace("app").withName("web").withAnnotations(annotations)
        .endMetadata().withNewSpec().withType(type).withLoadBalancerClass(lbClass).withClusterIP(clusterIp)
        .endSpec().build();
  }

  @Test
  void aTailscaleLoadBalancerNamingAGroupIsServedAsSvcNamespaceName() {
    HaPlan<HaServicePlanner.Addresses> p = planner.plan(svc(Map.of("tailscale.com/proxy-group", "pg"),
        "LoadBalancer", "tailscale", "10.0.0.7"));
    assertThat(p).isEqualTo(new HaPlan.Wanted<>("pg", "app-web", List.of("tag:k8s"), List.of(),
        new HaServicePlanner.Addresses(List.of("10.0.0.7"))));
    assertThat(((HaPlan.Wanted<?>) p).serviceName()).isEqualTo("svc:app-web");
  }

  @Test
  void hostnameAndTagsFromAnnotations() {
    HaPlan<HaServicePlanner.Addresses> p = planner.plan(svc(Map.of("tailscale.com/proxy-group", "pg",
        "tailscale.com/hostname", "db", "tailscale.com/tags", "tag:a,tag:b"), "ClusterIP", null, "10.0.0.8")
        .edit().editMetadata().addToAnnotations("tailscale.com/expose", "true").endMetadata().build());
    assertThat(p).isInstanceOfSatisfying(HaPlan.Wanted.class, w -> {
      assertThat(w.hostname()).isEqualTo("db");
      assertThat(w.tags()).containsExactly("tag:a", "tag:b");
    });
  }

  @Test
  void servicesNotAskingForAProxyOrNamingNoGroupAreNotWanted() {
    assertThat(planner.plan(svc(Map.of(), "LoadBalancer", "tailscale", "10.0.0.7")))
        .isInstanceOf(HaPlan.NotWanted.class);
    assertThat(planner.plan(svc(Map.of("tailscale.com/proxy-group", "pg"), "LoadBalancer", "other", "10.0.0.7")))
        .isInstanceOf(HaPlan.NotWanted.class);
  }

  @Test
  void headlessServicesAndBadHostnamesOrTagsAreRefusedWithTheOfficialReason() {
    assertThat(planner.plan(svc(Map.of("tailscale.com/proxy-group", "pg"), "LoadBalancer", "tailscale", "None")))
        .isEqualTo(new HaPlan.Invalid<>("pg", "IngressSvcInvalid",
            "invalid Service: headless Services are not supported."));
    assertThat(planner.plan(svc(Map.of("tailscale.com/proxy-group", "pg", "tailscale.com/hostname", "Not_A_Label"),
        "LoadBalancer", "tailscale", "10.0.0.7"))).isInstanceOfSatisfying(HaPlan.Invalid.class, i ->
        assertThat(i.message()).contains("invalid Tailscale hostname specified \"Not_A_Label\""));
    assertThat(planner.plan(svc(Map.of("tailscale.com/proxy-group", "pg", "tailscale.com/tags", "nottag"),
        "LoadBalancer", "tailscale", "10.0.0.7"))).isInstanceOf(HaPlan.Invalid.class);
  }

  @Test
  void funnelIsSaidNotToBeHonoured() {
    HaPlan<HaServicePlanner.Addresses> p = planner.plan(svc(Map.of("tailscale.com/proxy-group", "pg",
        "tailscale.com/funnel", "true"), "LoadBalancer", "tailscale", "10.0.0.7"));
    assertThat(((HaPlan.Wanted<?>) p).notes()).extracting(Problem::reason).containsExactly("FunnelNotSupported");
  }

  @Test
  void theClusterIpMappingIsWrittenAsGoWouldWriteIt() {
    assertThat(HaServiceController.mapping(List.of("10.0.0.7", "fd00::7"), "100.100.0.1", "fd7a::1").toString())
        .isEqualTo("{\"IPv4Mapping\":{\"TailscaleServiceIP\":\"100.100.0.1\",\"ClusterIP\":\"10.0.0.7\"},"
            + "\"IPv6Mapping\":{\"TailscaleServiceIP\":\"fd7a::1\",\"ClusterIP\":\"fd00::7\"}}");
  }
}
