package io.tailops.it.e2e;

import static io.tailops.it.e2e.RealTailnet.awaitCondition;
import static io.tailops.it.e2e.RealTailnet.awaitNode;
import static io.tailops.it.e2e.RealTailnet.awaitProxyPod;
import static io.tailops.it.e2e.RealTailnet.clusterIpService;
import static io.tailops.it.e2e.RealTailnet.env;
import static io.tailops.it.e2e.RealTailnet.fqdn;
import static io.tailops.it.e2e.RealTailnet.httpGet;
import static io.tailops.it.e2e.RealTailnet.secretData;
import static io.tailops.it.e2e.RealTailnet.service;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.headscale.HeadscaleNode;
import io.tailops.testkit.podrunner.LocalPod;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Methods 1 and 2 of the seed guide for real: the operator's kernel-mode proxy (containerboot + tailscaled in its own
 * network namespace, {@code TS_DEST_IP} = the Service's cluster IP) logs in to headscale, the Service's status carries
 * the proxy's real tailnet IP, and an HTTP request from the tailnet client reaches the local backend behind the
 * cluster IP.
 */
@ExtendWith(RealTailnet.class)
class ServiceExposeE2EIT {

  @BeforeAll
  static void kernelMode() {
    RealTailnet.requireKernelMode();
  }

  @Test
  void exposeAnnotationPutsTheServiceOnTheTailnetAndTrafficReachesTheBackend() {
    env().createNamespace("e2e-expose");
    env().backend("e2e-expose", "web", 8080, "e2e-expose/web");
    env().client().resource(clusterIpService("e2e-expose", "web", 8080, Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "e2e-web"))).create();

    LocalPod pod = awaitProxyPod("svc", "e2e-expose", "web");
    assertThat(pod.kernelMode()).as("Service proxies run in kernel mode").isTrue();
    HeadscaleNode node = awaitNode("e2e-web");
    assertThat(node.tags()).containsExactly("tag:k8s");
    assertThat(node.registerMethod()).isEqualTo("REGISTER_METHOD_AUTH_KEY");

    Condition ready = awaitCondition("e2e-expose", "web", c -> "True".equals(c.getStatus())
        && c.getMessage().contains(node.ipv4()), "ready with the tailnet IP");
    assertThat(ready.getReason()).isEqualTo("ProxyCreated");
    assertThat(ready.getMessage()).contains(fqdn("e2e-web")).contains(node.ipv4());
    Map<String, String> state = secretData(pod.name());
    assertThat(state.get("device_id")).isEqualTo(node.id());
    assertThat(state.get("device_fqdn")).isEqualTo(fqdn("e2e-web") + ".");
    assertThat(state.get("pod_uid")).isEqualTo(pod.uid());
    // containerboot wrote that state with the token of the proxy's own ServiceAccount (its Role reaches only its own
    // state Secrets), as in a cluster; a request of it that RBAC denied would fail the test (NoDeniedRequests)
    String account = env().client().pods().inNamespace(OperatorEnvironment.NAMESPACE).withName(pod.name()).get()
        .getSpec().getServiceAccountName();
    assertThat(account).isNotEqualTo("proxies").startsWith("ts-web-");
    assertThat(env().kube().audit().all().byUser("system:serviceaccount:" + OperatorEnvironment.NAMESPACE
        + ":" + account).filter(e -> pod.name().equals(e.name())).writes().list())
        .extracting(e -> e.resource()).contains("secrets");

    // tailnet client -> WireGuard -> tailscale0 in the proxy's namespace -> DNAT to the cluster IP -> backend
    assertThat(httpGet("http://" + node.ipv4() + ":8080/hello").body()).isEqualTo("e2e-expose/web /hello\n");
    assertThat(httpGet("http://" + fqdn("e2e-web") + ":8080/by-name").body())
        .isEqualTo("e2e-expose/web /by-name\n");
    assertThat(env().event(service("e2e-expose", "web"), "ProxyReady")).isPresent();
  }

  @Test
  void loadBalancerServiceShowsTheRealTailnetIpAsExternalIpAndTrafficFlows() {
    env().createNamespace("e2e-lb");
    env().backend("e2e-lb", "shop", 80, "e2e-lb/shop");
    Service lb = new ServiceBuilder(clusterIpService("e2e-lb", "shop", 80, Map.of("tailscale.com/hostname",
        "e2e-shop"))).editSpec().withType("LoadBalancer").withLoadBalancerClass("tailscale").endSpec().build();
    env().client().resource(lb).create();

    awaitProxyPod("svc", "e2e-lb", "shop");
    HeadscaleNode node = awaitNode("e2e-shop");
    await("EXTERNAL-IP").atMost(RealTailnet.TIMEOUT).until(() -> externalIps(service("e2e-lb", "shop"))
        .contains(node.ipv4()));
    List<LoadBalancerIngress> ingress = service("e2e-lb", "shop").getStatus().getLoadBalancer().getIngress();
    assertThat(ingress).extracting(LoadBalancerIngress::getIp).contains(node.ipv4());
    assertThat(ingress).extracting(LoadBalancerIngress::getHostname).contains(fqdn("e2e-shop"));

    assertThat(httpGet("http://" + node.ipv4() + "/cart").body()).isEqualTo("e2e-lb/shop /cart\n");
    assertThat(httpGet("http://" + fqdn("e2e-shop") + "/").body()).isEqualTo("e2e-lb/shop /\n");
  }

  static List<String> externalIps(Service svc) {
    if (svc == null || svc.getStatus() == null || svc.getStatus().getLoadBalancer() == null
        || svc.getStatus().getLoadBalancer().getIngress() == null) {
      return List.of();
    }
    return svc.getStatus().getLoadBalancer().getIngress().stream().map(LoadBalancerIngress::getIp)
        .filter(java.util.Objects::nonNull).toList();
  }
}
