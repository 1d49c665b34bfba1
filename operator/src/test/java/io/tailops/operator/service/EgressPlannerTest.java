package io.tailops.operator.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.tailops.operator.proxy.ProxyTarget;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class EgressPlannerTest {
  private final EgressPlanner planner = new EgressPlanner(List.of("tag:k8s"), "", Optional::empty);
  private final EgressPlanner onHeadscale = new EgressPlanner(List.of("tag:k8s"), "", () -> Optional.of("tailnet.test"));

  static Service svc(String name, Map<String, String> annotations) {
    return new ServiceBuilder().withNewMetadata().withNamespace("egress-demo").withName(name).withUid("uid-" + name)
        .withAnnotations(new LinkedHashMap<>(annotations)).endMetadata()
        .withNewSpec().withType("ClusterIP").withClusterIP("10.0.0.10").endSpec().build();
  }

  private static ServicePlan.Expose expose(ServicePlan p) {
    assertThat(p).isInstanceOf(ServicePlan.Expose.class);
    return (ServicePlan.Expose) p;
  }

  private static String invalid(ServicePlan p) {
    assertThat(p).isInstanceOf(ServicePlan.Invalid.class);
    ServicePlan.Invalid i = (ServicePlan.Invalid) p;
    assertThat(i.reason()).isEqualTo("ProxyInvalid");
    assertThat(i.eventReason()).isEqualTo("INVALIDSERVICE");
    return i.message();
  }

  @Test
  void anIpv4TargetGetsAnEgressProxyWithTheDefaultHostnameAndTags() {
    ServicePlan.Expose e = expose(planner.plan(svc("nas", Map.of("tailscale.com/tailnet-ip", "100.64.0.10"))));
    assertThat(e.target()).isEqualTo(new ProxyTarget.TailnetIp("100.64.0.10"));
    assertThat(e.target().egress()).isTrue();
    assertThat(e.hostname()).isEqualTo("egress-demo-nas");
    assertThat(e.tags()).containsExactly("tag:k8s");
    assertThat(e.loadBalancer()).isFalse();
    assertThat(e.funnelServeConfig()).isNull();
    assertThat(e.parent().uid()).isEqualTo("uid-nas");
  }

  @Test
  void anIpv6TargetIsKeptAsWritten() {
    ServicePlan.Expose e = expose(planner.plan(svc("nas-v6", Map.of("tailscale.com/tailnet-ip",
        "fd7a:115c:a1e0::a"))));
    assertThat(e.target()).isEqualTo(new ProxyTarget.TailnetIp("fd7a:115c:a1e0::a"));
  }

  @Test
  void aMagicDnsNameGetsTheFinalDotAsUpstreamAddsIt() {
    assertThat(expose(planner.plan(svc("db", Map.of("tailscale.com/tailnet-fqdn", "db.tailnet-abc.ts.net"))))
        .target()).isEqualTo(new ProxyTarget.TailnetFqdn("db.tailnet-abc.ts.net."));
    assertThat(expose(planner.plan(svc("wiki", Map.of("tailscale.com/tailnet-fqdn", "wiki.tailnet-abc.ts.net."))))
        .target()).isEqualTo(new ProxyTarget.TailnetFqdn("wiki.tailnet-abc.ts.net."));
  }

  @Test
  void theDeprecatedAnnotationStillWorksAndTheNewOneWins() {
    assertThat(expose(planner.plan(svc("legacy", Map.of("tailscale.com/ts-tailnet-target-ip", "100.64.0.12"))))
        .target()).isEqualTo(new ProxyTarget.TailnetIp("100.64.0.12"));
    assertThat(expose(planner.plan(svc("both", Map.of("tailscale.com/ts-tailnet-target-ip", "100.64.0.12",
        "tailscale.com/tailnet-ip", "100.64.0.13")))).target()).isEqualTo(new ProxyTarget.TailnetIp("100.64.0.13"));
  }

  @Test
  void hostnameTagsProxyClassAndEphemeralAreReadAsForIngressProxies() {
    Service s = new ServiceBuilder(svc("printer", Map.of("tailscale.com/tailnet-ip", "100.64.0.11",
        "tailscale.com/hostname", "office-printer", "tailscale.com/tags", "tag:k8s,tag:printers",
        "tailscale.com/ephemeral", "true"))).editMetadata().addToLabels("tailscale.com/proxy-class", "egress-routes")
        .endMetadata().build();
    ServicePlan.Expose e = expose(planner.plan(s));
    assertThat(e.hostname()).isEqualTo("office-printer");
    assertThat(e.hostnameFromAnnotation()).isTrue();
    assertThat(e.tags()).containsExactly("tag:k8s", "tag:printers");
    assertThat(e.proxyClassName()).isEqualTo("egress-routes");
    assertThat(e.ephemeral()).isTrue();
    assertThat(expose(new EgressPlanner(List.of("tag:k8s"), "default-class", Optional::empty)
        .plan(svc("nas", Map.of("tailscale.com/tailnet-ip", "100.64.0.10")))).proxyClassName())
        .isEqualTo("default-class");
  }

  @Test
  void anExternalNameServiceCanBecomeAnEgressService() {
    Service s = new ServiceBuilder(svc("wiki", Map.of("tailscale.com/tailnet-fqdn", "wiki.tailnet-abc.ts.net.")))
        .editSpec().withType("ExternalName").withClusterIP(null).withExternalName("wiki.example.com").endSpec().build();
    assertThat(expose(planner.plan(s)).target()).isEqualTo(new ProxyTarget.TailnetFqdn("wiki.tailnet-abc.ts.net."));
  }

  @Test
  void bothAnnotationsAreRefusedWithUpstreamsWords() {
    assertThat(invalid(planner.plan(svc("x", Map.of("tailscale.com/tailnet-ip", "100.64.0.10",
        "tailscale.com/tailnet-fqdn", "db.tailnet-abc.ts.net")))))
        .isEqualTo("unable to provision proxy resources: invalid Service: only one of annotations "
            + "tailscale.com/tailnet-ip and tailscale.com/tailnet-fqdn can be set");
    assertThat(invalid(planner.plan(svc("x", Map.of("tailscale.com/ts-tailnet-target-ip", "100.64.0.10",
        "tailscale.com/tailnet-fqdn", "db.tailnet-abc.ts.net")))))
        .isEqualTo("unable to provision proxy resources: invalid Service: only one of annotations "
            + "tailscale.com/ts-tailnet-target-ip and tailscale.com/tailnet-fqdn can be set");
  }

  @Test
  void aNameThatIsNotAMagicDnsNameIsRefused() {
    assertThat(invalid(planner.plan(svc("x", Map.of("tailscale.com/tailnet-fqdn", "db.example.com")))))
        .isEqualTo("unable to provision proxy resources: invalid Service: invalid value of annotation "
            + "tailscale.com/tailnet-fqdn: \"db.example.com\" does not appear to be a valid MagicDNS name");
    // upstream's rule: exactly <device>.<tailnet>.ts.net
    invalid(planner.plan(svc("x", Map.of("tailscale.com/tailnet-fqdn", "db.ts.net"))));
    invalid(planner.plan(svc("x", Map.of("tailscale.com/tailnet-fqdn", "a.db.tailnet-abc.ts.net"))));
  }

  @Test
  void onATailnetOutsideTsNetItsOwnMagicDnsNamesAreAccepted() {
    assertThat(expose(onHeadscale.plan(svc("x", Map.of("tailscale.com/tailnet-fqdn", "nas.tailnet.test"))))
        .target()).isEqualTo(new ProxyTarget.TailnetFqdn("nas.tailnet.test."));
    assertThat(expose(onHeadscale.plan(svc("x", Map.of("tailscale.com/tailnet-fqdn", "db.tailnet-abc.ts.net."))))
        .target()).isEqualTo(new ProxyTarget.TailnetFqdn("db.tailnet-abc.ts.net."));
    assertThat(invalid(onHeadscale.plan(svc("x", Map.of("tailscale.com/tailnet-fqdn", "a.b.tailnet.test")))))
        .isEqualTo("unable to provision proxy resources: invalid Service: invalid value of annotation "
            + "tailscale.com/tailnet-fqdn: \"a.b.tailnet.test\" does not appear to be a valid MagicDNS name "
            + "(<device>.tailnet.test or <device>.<tailnet>.ts.net)");
    invalid(onHeadscale.plan(svc("x", Map.of("tailscale.com/tailnet-fqdn", "tailnet.test"))));
    invalid(onHeadscale.plan(svc("x", Map.of("tailscale.com/tailnet-fqdn", "-x.tailnet.test"))));
  }

  @Test
  void anAddressThatDoesNotParseIsRefusedWithGosReason() {
    assertThat(invalid(planner.plan(svc("x", Map.of("tailscale.com/tailnet-ip", "100.64.0.256")))))
        .isEqualTo("unable to provision proxy resources: invalid Service: invalid value of annotation "
            + "tailscale.com/tailnet-ip: \"100.64.0.256\" could not be parsed as a valid IP Address, error: "
            + "ParseAddr(\"100.64.0.256\"): IPv4 field has value >255");
    // upstream does not check the deprecated annotation's value; a proxy would then crash-loop on it
    assertThat(invalid(planner.plan(svc("x", Map.of("tailscale.com/ts-tailnet-target-ip", "nas")))))
        .isEqualTo("unable to provision proxy resources: invalid Service: invalid value of annotation "
            + "tailscale.com/ts-tailnet-target-ip: \"nas\" could not be parsed as a valid IP Address, error: "
            + "ParseAddr(\"nas\"): unable to parse IP");
  }

  @Test
  void anAddressNoDeviceCanHaveIsRefused() {
    for (String[] c : List.of(new String[] {"127.0.0.1", "a loopback address"},
        new String[] {"::1", "a loopback address"}, new String[] {"0.0.0.0", "the unspecified address"},
        new String[] {"224.0.0.5", "a multicast address"}, new String[] {"169.254.169.254", "a link-local address"},
        new String[] {"255.255.255.255", "the broadcast address"})) {
      assertThat(invalid(planner.plan(svc("x", Map.of("tailscale.com/tailnet-ip", c[0])))))
          .isEqualTo("unable to provision proxy resources: invalid Service: invalid value of annotation "
              + "tailscale.com/tailnet-ip: \"" + c[0] + "\" is " + c[1] + ", which no device in the tailnet or "
              + "behind a subnet router can have; use the device's tailnet address (100.x.y.z or "
              + "fd7a:115c:a1e0::…) or an address a subnet router advertises");
    }
  }

  @Test
  void anAddressBehindASubnetRouterIsAccepted() {
    assertThat(expose(planner.plan(svc("lab", Map.of("tailscale.com/tailnet-ip", "10.20.0.5")))).target())
        .isEqualTo(new ProxyTarget.TailnetIp("10.20.0.5"));
  }

  @Test
  void aHeadlessServiceIsRefusedWithUpstreamsWords() {
    Service s = new ServiceBuilder(svc("x", Map.of("tailscale.com/tailnet-ip", "100.64.0.10"))).editSpec()
        .withClusterIP("None").endSpec().build();
    assertThat(invalid(planner.plan(s)))
        .isEqualTo("unable to provision proxy resources: invalid Service: headless Services are not supported.");
  }

  @Test
  void nodePortAndLoadBalancerServicesCannotBeEgressServices() {
    Service nodePort = new ServiceBuilder(svc("x", Map.of("tailscale.com/tailnet-ip", "100.64.0.10"))).editSpec()
        .withType("NodePort").endSpec().build();
    assertThat(invalid(planner.plan(nodePort))).isEqualTo("unable to provision proxy resources: invalid Service: a "
        + "Service of type NodePort cannot be an egress Service: the operator points an egress Service at its proxy "
        + "by making it type ExternalName, which has no node ports; use type ClusterIP (and a separate NodePort "
        + "Service if something outside the cluster needs the target)");
    Service lb = new ServiceBuilder(svc("x", Map.of("tailscale.com/tailnet-fqdn", "db.tailnet-abc.ts.net")))
        .editSpec().withType("LoadBalancer").withLoadBalancerClass("other").endSpec().build();
    assertThat(invalid(planner.plan(lb))).isEqualTo("unable to provision proxy resources: invalid Service: a "
        + "Service of type LoadBalancer cannot be an egress Service: the operator points an egress Service at its "
        + "proxy by making it type ExternalName, which releases the load balancer; use type ClusterIP");
  }

  @Test
  void hostnameAndTagProblemsAreListedTogetherWithTheTargetsInUpstreamsOrder() {
    String m = invalid(planner.plan(svc("x", Map.of("tailscale.com/tailnet-fqdn", "nope",
        "tailscale.com/hostname", "bad_name", "tailscale.com/tags", "k8s"))));
    assertThat(m).isEqualTo("unable to provision proxy resources: invalid Service: invalid value of annotation "
        + "tailscale.com/tailnet-fqdn: \"nope\" does not appear to be a valid MagicDNS name, invalid Tailscale "
        + "hostname specified \"bad_name\": \"bad_name\" is not a valid DNS label: contains invalid character \"_\", "
        + "invalid tag \"k8s\": tags must start with 'tag:'");
  }

  @Test
  void aServiceWithoutTargetOrThroughAProxyGroupIsNotOurs() {
    assertThat(planner.plan(svc("x", Map.of("tailscale.com/tailnet-ip", "")))).isInstanceOf(
        ServicePlan.NotExposed.class);
    assertThat(EgressPlanner.asksForEgress(svc("x", Map.of("tailscale.com/tailnet-ip", "")))).isFalse();
    assertThat(EgressPlanner.asksForEgress(svc("x", Map.of("tailscale.com/tailnet-fqdn", "a.b.ts.net")))).isTrue();
    assertThat(planner.plan(svc("x", Map.of("tailscale.com/tailnet-ip", "100.64.0.10", "tailscale.com/proxy-group",
        "egress")))).isInstanceOf(ServicePlan.NotExposed.class);
  }

  @Test
  void aServiceNamingAGroupWithATargetOrAsExternalNameEgressesThroughTheGroup() {
    assertThat(EgressPlanner.viaProxyGroup(svc("x", Map.of("tailscale.com/tailnet-ip", "100.64.0.10",
        "tailscale.com/proxy-group", "eg")))).isTrue();
    assertThat(EgressPlanner.viaProxyGroup(svc("x", Map.of("tailscale.com/tailnet-ip", "100.64.0.10")))).isFalse();
    Service externalName = svc("x", Map.of("tailscale.com/proxy-group", "eg"));
    externalName.getSpec().setType("ExternalName");
    assertThat(EgressPlanner.viaProxyGroup(externalName)).isTrue();
    externalName.getMetadata().getAnnotations().put("tailscale.com/expose", "true");
    assertThat(EgressPlanner.viaProxyGroup(externalName)).isFalse();
  }
}
