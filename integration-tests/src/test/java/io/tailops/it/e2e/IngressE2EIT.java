package io.tailops.it.e2e;

import static io.tailops.it.e2e.RealTailnet.awaitNode;
import static io.tailops.it.e2e.RealTailnet.awaitProxyPod;
import static io.tailops.it.e2e.RealTailnet.clusterIpService;
import static io.tailops.it.e2e.RealTailnet.env;
import static io.tailops.it.e2e.RealTailnet.fqdn;
import static io.tailops.it.e2e.RealTailnet.httpGet;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressPortStatus;
import io.tailops.testkit.headscale.HeadscaleNode;
import io.tailops.testkit.podrunner.LocalPod;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Ingresses on headscale, for real. headscale issues no HTTPS certificates, so a tailnet Ingress is served over plain
 * HTTP on port 80 when it says so ({@code tailscale.com/http: "true"}): the operator's userspace proxy applies a serve
 * config keyed by the device's MagicDNS name, and both paths route to their own backends through the Services'
 * cluster IPs. An HTTPS Ingress on headscale gets a Warning Event saying why it cannot be served, and no proxy.
 */
@ExtendWith(RealTailnet.class)
class IngressE2EIT {

  static Ingress ingress(String ns, String name, String hostname, Map<String, String> annotations) {
    return new IngressBuilder().withNewMetadata().withNamespace(ns).withName(name).withAnnotations(annotations)
        .endMetadata().withNewSpec().withIngressClassName("tailscale")
        .addNewRule().withNewHttp()
        .addNewPath().withPath("/").withPathType("Prefix").withNewBackend().withNewService().withName("web")
        .withNewPort().withNumber(3000).endPort().endService().endBackend().endPath()
        .addNewPath().withPath("/api").withPathType("Prefix").withNewBackend().withNewService().withName("api")
        .withNewPort().withNumber(8080).endPort().endService().endBackend().endPath()
        .endHttp().endRule()
        .addNewTl().withHosts(hostname).endTl()
        .endSpec().build();
  }

  static List<IngressLoadBalancerIngress> lb(String ns, String name) {
    Ingress ing = env().client().network().v1().ingresses().inNamespace(ns).withName(name).get();
    if (ing == null || ing.getStatus() == null || ing.getStatus().getLoadBalancer() == null
        || ing.getStatus().getLoadBalancer().getIngress() == null) {
      return List.of();
    }
    return ing.getStatus().getLoadBalancer().getIngress();
  }

  @Test
  void plainHttpIngressWithTwoPathsRoutesEachPathToItsBackend() {
    String ns = "e2e-ingress";
    env().createNamespace(ns);
    env().client().resource(clusterIpService(ns, "web", 3000, Map.of())).create();
    env().client().resource(clusterIpService(ns, "api", 8080, Map.of())).create();
    env().backend(ns, "web", 3000, "web");
    env().backend(ns, "api", 8080, "api");
    env().client().resource(ingress(ns, "dash", "e2e-dash", Map.of("tailscale.com/http", "true"))).create();

    LocalPod pod = awaitProxyPod("ingress", ns, "dash");
    assertThat(pod.kernelMode()).as("Ingress proxies run in userspace mode").isFalse();
    HeadscaleNode node = awaitNode("e2e-dash");
    await("Ingress status with the MagicDNS name on port 80").atMost(RealTailnet.TIMEOUT)
        .until(() -> lb(ns, "dash").stream().anyMatch(i -> fqdn("e2e-dash").equals(i.getHostname())));
    assertThat(lb(ns, "dash").get(0).getPorts()).extracting(IngressPortStatus::getPort).containsExactly(80);
    // the serve config is re-keyed by the device's name once known; containerboot applies it
    pod.awaitLog("serve proxy: applying serve config", RealTailnet.TIMEOUT);

    assertThat(httpGet("http://" + fqdn("e2e-dash") + "/").body()).isEqualTo("web /\n");
    assertThat(httpGet("http://" + fqdn("e2e-dash") + "/static/app.js").body()).isEqualTo("web /static/app.js\n");
    assertThat(httpGet("http://" + fqdn("e2e-dash") + "/api/users").body()).isEqualTo("api /api/users\n");
    assertThat(httpGet("http://" + fqdn("e2e-dash") + "/api").body()).isEqualTo("api /api\n");
    // the short MagicDNS name works too (the proxy matches the Host header with the suffix added)
    assertThat(httpGet("http://e2e-dash/api/x").body()).isEqualTo("api /api/x\n");
    assertThat(node.tags()).containsExactly("tag:k8s");
  }

  @Test
  void httpsIngressOnHeadscaleGetsAClearWarningAndNoProxy() {
    String ns = "e2e-ingress-https";
    env().createNamespace(ns);
    env().client().resource(clusterIpService(ns, "web", 3000, Map.of())).create();
    env().client().resource(clusterIpService(ns, "api", 8080, Map.of())).create();
    Ingress ing = env().client().resource(ingress(ns, "secure", "e2e-secure", Map.of())).create();

    await("Warning HTTPSNotAvailable").atMost(RealTailnet.TIMEOUT)
        .until(() -> env().event(ing, "HTTPSNotAvailable").isPresent());
    Event e = env().event(ing, "HTTPSNotAvailable").orElseThrow();
    assertThat(e.getType()).isEqualTo("Warning");
    assertThat(e.getMessage()).contains("cannot issue HTTPS certificates").contains("tailscale.com/http");
    // nothing was provisioned for it, and it never gets an address
    env().awaitCurrentVersionsReconciled(ing);
    assertThat(env().statefulSets("ingress", ns, "secure")).isEmpty();
    assertThat(lb(ns, "secure")).isEmpty();
    assertThat(env().headscale().nodeNamed("e2e-secure")).isEmpty();
  }
}
