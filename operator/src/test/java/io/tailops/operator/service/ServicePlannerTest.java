package io.tailops.operator.service;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.tailops.operator.proxy.ProxyTarget;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServicePlannerTest {
  private final ServicePlanner planner = new ServicePlanner(false, List.of("tag:k8s"), "", "auto");

  static ServiceBuilder svc(String ns, String name, Map<String, String> annotations) {
    return new ServiceBuilder().withNewMetadata().withNamespace(ns).withName(name).withUid("uid-" + name)
        .withAnnotations(annotations).endMetadata()
        .withNewSpec().withType("ClusterIP").withClusterIP("10.0.0.10").endSpec();
  }

  @Test
  void exposeAnnotationOnAClusterIpServiceGetsAProxyWithTheDefaultHostnameAndTags() {
    ServicePlan p = planner.plan(svc("default", "web", Map.of("tailscale.com/expose", "true")).build());
    assertThat(p).isInstanceOf(ServicePlan.Expose.class);
    ServicePlan.Expose e = (ServicePlan.Expose) p;
    assertThat(e.hostname()).isEqualTo("default-web");
    assertThat(e.tags()).containsExactly("tag:k8s");
    assertThat(e.target()).isEqualTo(new ProxyTarget.ClusterIp("10.0.0.10"));
    assertThat(e.loadBalancer()).isFalse();
    assertThat(e.proxyClassName()).isNull();
  }

  @Test
  void seedMethod1ServiceUsesItsHostnameAndProxyClass() {
    Service s = svc("my-namespace", "my-service", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "my-service", "tailscale.com/proxy-class", "prod")).build();
    ServicePlan.Expose e = (ServicePlan.Expose) planner.plan(s);
    assertThat(e.hostname()).isEqualTo("my-service");
    assertThat(e.proxyClassName()).isEqualTo("prod");
  }

  @Test
  void loadBalancerWithTailscaleClassQualifies() {
    Service s = svc("default", "web", Map.of("tailscale.com/tags", "tag:web, tag:other")).editSpec()
        .withType("LoadBalancer").withLoadBalancerClass("tailscale").endSpec().build();
    ServicePlan.Expose e = (ServicePlan.Expose) planner.plan(s);
    assertThat(e.loadBalancer()).isTrue();
    assertThat(e.tags()).containsExactly("tag:web", "tag:other");
  }

  @Test
  void loadBalancerWithoutClassQualifiesOnlyWhenTheOperatorIsTheDefault() {
    Service s = svc("default", "web", Map.of()).editSpec().withType("LoadBalancer").endSpec().build();
    assertThat(planner.plan(s)).isInstanceOf(ServicePlan.NotExposed.class);
    assertThat(new ServicePlanner(true, List.of("tag:k8s"), "", "").plan(s)).isInstanceOf(ServicePlan.Expose.class);
  }

  @Test
  void exposeOnExternalNameTargetsTheDnsName() {
    Service s = new ServiceBuilder().withNewMetadata().withNamespace("d").withName("ext")
        .addToAnnotations("tailscale.com/expose", "true").endMetadata()
        .withNewSpec().withType("ExternalName").withExternalName("example.com").endSpec().build();
    assertThat(((ServicePlan.Expose) planner.plan(s)).target()).isEqualTo(new ProxyTarget.DnsName("example.com"));
  }

  @Test
  void exposeMustBeExactlyTrue() {
    for (String v : List.of("True", "yes", "1", "")) {
      ServicePlan p = planner.plan(svc("d", "w", Map.of("tailscale.com/expose", v)).build());
      assertThat(p).isInstanceOf(ServicePlan.NotExposed.class);
      assertThat(((ServicePlan.NotExposed) p).why()).contains("not exactly \"true\"");
    }
  }

  @Test
  void headlessServicesAreRejectedWithTheOfficialMessage() {
    ServicePlan p = planner.plan(svc("d", "w", Map.of("tailscale.com/expose", "true")).editSpec()
        .withClusterIP("None").endSpec().build());
    assertThat(p).isEqualTo(new ServicePlan.Invalid("ProxyInvalid",
        "unable to provision proxy resources: invalid Service: headless Services are not supported.",
        "INVALIDSERVICE"));
  }

  @Test
  void invalidHostnamesAreExplained() {
    assertThat(message(Map.of("tailscale.com/expose", "true", "tailscale.com/hostname", "bad_name")))
        .isEqualTo("unable to provision proxy resources: invalid Service: invalid Tailscale hostname specified "
            + "\"bad_name\": \"bad_name\" is not a valid DNS label: contains invalid character \"_\"");
    assertThat(message(Map.of("tailscale.com/expose", "true", "tailscale.com/hostname", "")))
        .endsWith("invalid Tailscale hostname specified \"\": empty DNS label");
    assertThat(message(Map.of("tailscale.com/expose", "true", "tailscale.com/hostname", "-web")))
        .endsWith("must start with a letter or number");
    assertThat(message(Map.of("tailscale.com/expose", "true", "tailscale.com/hostname", "x".repeat(64))))
        .endsWith("is too long, max length is 63 bytes");
    // Upper case is accepted, as upstream.
    assertThat(planner.plan(svc("d", "w", Map.of("tailscale.com/expose", "true", "tailscale.com/hostname",
        "MyService")).build())).isInstanceOf(ServicePlan.Expose.class);
  }

  @Test
  void aDefaultHostnameThatIsTooLongIsDerivedValidAndSaysSo() {
    // Upstream refuses such a Service; every valid Service name gets a valid default hostname here.
    String longName = "n".repeat(60);
    ServicePlan.Expose e = (ServicePlan.Expose) planner.plan(svc("namespace", longName,
        Map.of("tailscale.com/expose", "true")).build());
    assertThat(e.hostname()).hasSize(63).startsWith("namespace-nnnn").matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
    assertThat(e.notes()).singleElement().satisfies(n -> assertThat(n.reason()).isEqualTo("DefaultHostnameAdjusted"));
    assertThat(e.notes().get(0).message()).startsWith("the default hostname \"namespace-" + longName
        + "\" (from the Service's namespace and name) is not a valid DNS label").endsWith("set the "
        + "tailscale.com/hostname annotation to choose another");
    ServicePlan.Expose fits = (ServicePlan.Expose) planner.plan(svc("default", "web",
        Map.of("tailscale.com/expose", "true")).build());
    assertThat(fits.hostname()).isEqualTo("default-web");
    assertThat(fits.notes()).isEmpty();
  }

  @Test
  void invalidTagsAreExplainedOneByOne() {
    assertThat(message(Map.of("tailscale.com/expose", "true", "tailscale.com/tags", "k8s,tag:ok,tag:1x")))
        .isEqualTo("unable to provision proxy resources: invalid Service: invalid tag \"k8s\": tags must start with "
            + "'tag:', invalid tag \"tag:1x\": tag names must start with a letter, after 'tag:'");
  }

  @Test
  void bothEgressAnnotationsAreRejected() {
    assertThat(message(Map.of("tailscale.com/expose", "true", "tailscale.com/tailnet-ip", "100.64.0.1",
        "tailscale.com/tailnet-fqdn", "a.b.ts.net"))).contains("only one of annotations tailscale.com/tailnet-ip "
        + "and tailscale.com/tailnet-fqdn can be set");
  }

  @Test
  void anInvalidFirewallModeIsAConfigError() {
    ServicePlan p = new ServicePlanner(false, List.of("tag:k8s"), "", "ipfw")
        .plan(svc("d", "w", Map.of("tailscale.com/expose", "true")).build());
    assertThat(p).isEqualTo(new ServicePlan.Invalid("ProxyInvalid", "unable to provision proxy resources: invalid "
        + "config: invalid proxy firewall mode ipfw, valid modes are iptables, nftables or unset", "INVALIDCONFIG"));
  }

  @Test
  void proxyGroupServicesAreLeftAlone() {
    assertThat(planner.plan(svc("d", "w", Map.of("tailscale.com/expose", "true", "tailscale.com/proxy-group", "pg"))
        .build())).isInstanceOf(ServicePlan.NotExposed.class);
    assertThat(planner.plan(svc("d", "w", Map.of("tailscale.com/tailnet-fqdn", "db.tailnet.ts.net",
        "tailscale.com/proxy-group", "eg")).build())).isInstanceOfSatisfying(ServicePlan.NotExposed.class, n ->
        assertThat(n.why()).contains("egresses through ProxyGroup eg"));
  }

  @Test
  void proxyClassLabelWinsAndAnEmptyLabelMeansNone() {
    ServicePlanner withDefault = new ServicePlanner(false, List.of("tag:k8s"), "default-class", "");
    Service annotated = svc("d", "w", Map.of("tailscale.com/expose", "true", "tailscale.com/proxy-class", "a"))
        .editMetadata().addToLabels("tailscale.com/proxy-class", "b").endMetadata().build();
    assertThat(((ServicePlan.Expose) withDefault.plan(annotated)).proxyClassName()).isEqualTo("b");
    Service emptyLabel = svc("d", "w", Map.of("tailscale.com/expose", "true")).editMetadata()
        .addToLabels("tailscale.com/proxy-class", "").endMetadata().build();
    assertThat(((ServicePlan.Expose) withDefault.plan(emptyLabel)).proxyClassName()).isNull();
    Service plain = svc("d", "w", Map.of("tailscale.com/expose", "true")).build();
    assertThat(((ServicePlan.Expose) withDefault.plan(plain)).proxyClassName()).isEqualTo("default-class");
  }

  private String message(Map<String, String> annotations) {
    ServicePlan p = planner.plan(svc("d", "w", annotations).build());
    assertThat(p).isInstanceOf(ServicePlan.Invalid.class);
    return ((ServicePlan.Invalid) p).message();
  }

  private static Service funnelLoadBalancer(String ns) {
    return svc(ns, "web", Map.of("tailscale.com/funnel", "true")).editSpec().withType("LoadBalancer")
        .withLoadBalancerClass("tailscale").addNewPort().withPort(443).withProtocol("TCP").endPort().endSpec().build();
  }

  @Test
  void funnelOnALoadBalancerPublishesPort443() {
    ServicePlan.Expose e = (ServicePlan.Expose) planner.plan(funnelLoadBalancer("default"));
    assertThat(e.funnelDenied()).isNull();
    assertThat(e.funnelServeConfig()).contains("\"AllowFunnel\"").contains("${TS_CERT_DOMAIN}:443");
  }

  @Test
  void funnelWithoutFunnelInTheControlPlaneIsServedOnTheTailnetOnlyWithAWarning() {
    ServicePlanner headscale = new ServicePlanner(false, List.of("tag:k8s"), "", "auto", ns -> true, false);
    ServicePlan.Expose e = (ServicePlan.Expose) headscale.plan(funnelLoadBalancer("default"));
    assertThat(e.funnelServeConfig()).isNull();
    assertThat(e.funnelDenied().type()).isEqualTo("Warning");
    assertThat(e.funnelDenied().reason()).isEqualTo("FunnelNotAvailable");
    assertThat(e.funnelDenied().message()).contains("does not offer Funnel").contains("tailnet only");
  }

  @Test
  void funnelOutsideTheAllowedNamespacesIsServedOnTheTailnetOnlyWithAWarning() {
    ServicePlanner policy = new ServicePlanner(false, List.of("tag:k8s"), "", "auto", "public"::equals, true);
    ServicePlan.Expose e = (ServicePlan.Expose) policy.plan(funnelLoadBalancer("private"));
    assertThat(e.funnelServeConfig()).isNull();
    assertThat(e.funnelDenied().reason()).isEqualTo("FunnelNotAllowed");
    assertThat(e.funnelDenied().message()).contains("namespace private").contains("OPERATOR_FUNNEL_NAMESPACES");
    assertThat(((ServicePlan.Expose) policy.plan(funnelLoadBalancer("public"))).funnelDenied()).isNull();
  }
}
