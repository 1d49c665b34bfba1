package io.tailops.operator.service;

import static io.tailops.operator.golden.GoldenObjects.assertCovers;
import static io.tailops.operator.golden.GoldenObjects.expected;
import static io.tailops.operator.golden.GoldenObjects.find;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Service;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.operator.golden.GoldenObjects;
import io.tailops.operator.proxy.ProxyConfigSecret;
import io.tailops.operator.proxy.ProxyDefaults;
import io.tailops.operator.proxy.ProxyHeadlessService;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.proxy.ProxyStatefulSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The egress proxy of every golden egress Service (integration-tests/golden/inputs/egress), built by the pure classes,
 * against what the official operator v1.94.2 made of it: the StatefulSet, the headless Service, the config files and
 * the rewritten user Service.
 */
class EgressProxyGoldenTest {
  static final ProxyDefaults GOLDEN_DEFAULTS = new ProxyDefaults("tailscale", "tailscale/tailscale:v1.94.2", "", "auto",
      "<login-server>", List.of("tag:k8s"));
  private final EgressPlanner planner = new EgressPlanner(List.of("tag:k8s"), "", Optional::empty);

  @ParameterizedTest
  @ValueSource(strings = {"nas", "nas-v6", "db", "wiki", "printer", "lab", "legacy"})
  void theProxyIsTheOfficialOperators(String name) {
    List<ObjectNode> golden = expected("service/egress-demo/" + name);
    Service input = GoldenObjects.input("egress/services.yaml", "Service", name, Service.class);
    input.getMetadata().setUid("<uid:Service/egress-demo/" + name + ">");
    ServicePlan.Expose plan = (ServicePlan.Expose) planner.plan(input);
    ProxyClass pc = plan.proxyClassName() == null ? null
        : GoldenObjects.input("egress/proxyclass-egress.yaml", "ProxyClass", plan.proxyClassName(), ProxyClass.class);
    ProxySpec spec = new ProxySpec(plan.parent(), plan.hostname(), plan.tags(), plan.target(), pc, plan.ephemeral(),
        false, false);
    String proxy = "ts-" + name + "-<suffix>";

    assertCovers(find(golden, "StatefulSet", proxy), ProxyStatefulSet.build(spec, proxy, GOLDEN_DEFAULTS),
        "/metadata/annotations/tailscale.com~1operator-spec-hash", // differences.yaml: spec-hash-annotation
        "/spec/template/spec/serviceAccountName"); // differences.yaml: proxy-runs-as-its-own-service-account
    // tailscale.com/magic-dnsname and the dns-records finalizer (FQDN targets) are the DNS records' side, with the
    // DNSConfig of the golden inputs; checked with the records
    ObjectNode headless = find(golden, "Service", proxy).deepCopy();
    ((ObjectNode) headless.path("metadata")).remove(List.of("annotations", "finalizers"));
    assertCovers(headless, ProxyHeadlessService.build(spec, proxy, GOLDEN_DEFAULTS));
    ObjectNode secret = find(golden, "Secret", proxy + "-0");
    Map<String, String> config = ProxyConfigSecret.desiredData(spec, null, GOLDEN_DEFAULTS);
    config.forEach((key, value) -> assertThat(secret.path("stringData").path(key).asText()).as(key).isEqualTo(value));
    assertThat(secret.path("stringData").size()).isEqualTo(config.size());
    assertCovers(secret, ProxyConfigSecret.build(spec, proxy + "-0", Map.of(), GOLDEN_DEFAULTS));

    ObjectNode user = golden.get(0);
    Service rewritten = EgressRewrite.pointedAt(input, EgressRewrite.externalName(proxy, "tailscale",
        ClusterDomain.DEFAULT));
    assertThat(user.path("spec").path("type").asText()).isEqualTo(rewritten.getSpec().getType());
    assertThat(user.path("spec").path("externalName").asText()).isEqualTo(rewritten.getSpec().getExternalName());
    assertThat(user.path("spec").has("selector")).isEqualTo(rewritten.getSpec().getSelector() != null);
    assertThat(user.path("status").path("conditions").get(0).path("reason").asText()).isEqualTo("ProxyCreated");
  }
}
