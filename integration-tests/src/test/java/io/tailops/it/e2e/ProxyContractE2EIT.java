package io.tailops.it.e2e;

import static io.tailops.it.e2e.ProxyContract.assertConfigFileLoadsInTailscaled;
import static io.tailops.it.e2e.ProxyContract.assertServeConfigAcceptedByLocalApi;
import static io.tailops.it.e2e.ProxyContract.assertServeConfigHeld;
import static io.tailops.it.e2e.ProxyContract.assertStateSecret;
import static io.tailops.it.e2e.ProxyContract.assertTailscaledConfigUnderstood;
import static io.tailops.it.e2e.RealTailnet.awaitNode;
import static io.tailops.it.e2e.RealTailnet.awaitProxyPod;
import static io.tailops.it.e2e.RealTailnet.clusterIpService;
import static io.tailops.it.e2e.RealTailnet.env;
import static io.tailops.it.e2e.RealTailnet.fqdn;
import static io.tailops.it.e2e.RealTailnet.httpGet;
import static io.tailops.it.e2e.RealTailnet.secretData;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.operator.ingress.IngressPlan;
import io.tailops.operator.ingress.IngressPlanner;
import io.tailops.operator.service.ServicePlan;
import io.tailops.operator.service.ServicePlanner;
import io.tailops.testkit.headscale.HeadscaleNode;
import io.tailops.testkit.podrunner.LocalPod;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Contract test: for every proxy type the operator produces, the real binaries get exactly the files and environment
 * the operator generated (materialised by the local pod runner as a kubelet would) and must accept and understand them
 * — see {@link ProxyContract} for what "understand" means per file. A drift in a field or a format fails here.
 *
 * <ul>
 *   <li>Service (kernel mode, {@code TS_DEST_IP}): both config files, the state Secret.</li>
 *   <li>Service with a ProxyClass (acceptRoutes, metrics and debug endpoints: {@code $(POD_IP)} and
 *       {@code $(TS_DEBUG_ADDR_PORT)} in the environment).</li>
 *   <li>plain-HTTP Ingress (userspace, serve config applied by containerboot).</li>
 *   <li>Funnel LoadBalancer (kernel mode plus an HTTPS/Funnel serve config, which containerboot refuses to apply
 *       without certificates; applied through LocalAPI instead) and the HTTPS Ingress serve config of a tailnet with
 *       certificates (rendered by the operator's Ingress planner).</li>
 * </ul>
 */
@ExtendWith(RealTailnet.class)
class ProxyContractE2EIT {

  private static final String NS = "e2e-contract";

  private static void namespace() {
    env().createNamespace(NS);
  }

  /** The operator's Secret once the proxy is logged in (auth key removed from the configs). */
  private static Map<String, String> loggedInSecret(LocalPod pod) {
    await("configs without auth key and device info in " + pod.name()).atMost(RealTailnet.TIMEOUT).until(() -> {
      Map<String, String> d = secretData(pod.name());
      return d.containsKey("device_fqdn") && !d.getOrDefault("cap-107.hujson", "AuthKey").contains("AuthKey")
          && !d.getOrDefault("cap-95.hujson", "AuthKey").contains("AuthKey");
    });
    return secretData(pod.name());
  }

  @Test
  void serviceProxyConfigFilesAndStateAreUnderstoodByTheRealBinaries() {
    RealTailnet.requireKernelMode();
    namespace();
    env().client().resource(clusterIpService(NS, "svc", 8080, Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "contract-svc"))).create();
    LocalPod pod = awaitProxyPod("svc", NS, "svc");
    HeadscaleNode node = awaitNode("contract-svc");
    Map<String, String> secret = loggedInSecret(pod);
    assertThat(pod.env()).containsEntry("TS_USERSPACE", "false").containsKey("TS_DEST_IP");
    assertTailscaledConfigUnderstood(pod, secret);
    assertConfigFileLoadsInTailscaled("cap-95.hujson", secret.get("cap-95.hujson"), env().pods().binaries());
    assertStateSecret(pod, secret, node, fqdn("contract-svc"), false);
    assertThat(String.join("\n", pod.logLines())).contains("Installing proxy rules");
  }

  @Test
  void proxyClassSettingsReachTailscaledAndTheMetricsEndpointAnswers() throws Exception {
    RealTailnet.requireKernelMode();
    namespace();
    String yaml = """
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyClass
        metadata:
          name: contract
        spec:
          metrics:
            enable: true
          tailscale:
            acceptRoutes: true
        """;
    env().client().load(new ByteArrayInputStream(yaml.getBytes(StandardCharsets.UTF_8))).items()
        .forEach(o -> env().client().resource(o).create());
    await("ProxyClass ready").atMost(RealTailnet.TIMEOUT).until(() -> Optional.ofNullable(
        env().client().resources(ProxyClass.class).withName("contract").get()).map(ProxyClass::getStatus)
        .map(s -> s.getConditions().stream().anyMatch(c -> "ProxyClassReady".equals(c.getType())
            && "True".equals(c.getStatus()))).orElse(false));
    env().client().resource(clusterIpService(NS, "classy", 8080, Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "contract-classy", "tailscale.com/proxy-class", "contract"))).create();
    LocalPod pod = awaitProxyPod("svc", NS, "classy");
    awaitNode("contract-classy");
    Map<String, String> secret = loggedInSecret(pod);
    assertThat(ProxyContract.json(secret.get("cap-107.hujson")).path("acceptRoutes").asBoolean()).isTrue();
    assertTailscaledConfigUnderstood(pod, secret);
    // $(POD_IP) and $(TS_DEBUG_ADDR_PORT) expanded by the kubelet rules, bound by containerboot/tailscaled
    assertThat(pod.env()).containsEntry("TS_LOCAL_ADDR_PORT", pod.podIp() + ":9002")
        .containsEntry("TS_ENABLE_METRICS", "true");
    assertThat(String.join("\n", pod.logLines())).contains("Running metrics endpoint at " + pod.podIp() + ":9002/metrics");
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(URI.create("http://" + pod.podIp()
        + ":9002/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.body()).contains("tailscaled_");
    if (pod.env().containsKey("TS_DEBUG_ADDR_PORT")) {
      assertThat(pod.env().get("TS_TAILSCALED_EXTRA_ARGS")).isEqualTo("--debug=" + pod.podIp() + ":9001");
      HttpResponse<String> debug = http.send(HttpRequest.newBuilder(URI.create("http://" + pod.podIp()
          + ":9002/debug/metrics")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(debug.statusCode()).isEqualTo(200);
    }
  }

  @Test
  void plainHttpIngressServeConfigIsAppliedAsGenerated() {
    namespace();
    env().client().resource(clusterIpService(NS, "web", 3000, Map.of())).create();
    env().client().resource(clusterIpService(NS, "api", 8080, Map.of())).create();
    env().backend(NS, "web", 3000, "web");
    env().backend(NS, "api", 8080, "api");
    Ingress ing = IngressE2EIT.ingress(NS, "ing", "contract-ing", Map.of("tailscale.com/http", "true"));
    env().client().resource(ing).create();
    LocalPod pod = awaitProxyPod("ingress", NS, "ing");
    HeadscaleNode node = awaitNode("contract-ing");
    String fqdn = fqdn("contract-ing");
    await("serve config keyed by the device name").atMost(RealTailnet.TIMEOUT)
        .until(() -> secretData(pod.name()).getOrDefault("serve-config", "").contains("\"" + fqdn + ":80\""));
    Map<String, String> secret = loggedInSecret(pod);
    assertTailscaledConfigUnderstood(pod, secret);
    assertConfigFileLoadsInTailscaled("cap-95.hujson", secret.get("cap-95.hujson"), env().pods().binaries());
    String serve = secret.get("serve-config");
    await("the serve config applied by containerboot").atMost(RealTailnet.TIMEOUT).untilAsserted(() ->
        assertServeConfigHeld(pod, serve, "no-https"));
    assertStateSecret(pod, secret, node, fqdn, true);
    assertThat(httpGet("http://" + fqdn + "/api/contract").body()).isEqualTo("api /api/contract\n");

    // The HTTPS Ingress serve config the operator writes on a tailnet with certificates (Funnel and the HTTP
    // redirect included), from the operator's own planner: accepted and held as generated by tailscaled.
    Ingress https = IngressE2EIT.ingress(NS, "ing", "contract-ing", Map.of("tailscale.com/funnel", "true",
        "tailscale.com/http-redirect", "true"));
    https.getMetadata().setUid("contract-uid");
    IngressPlan plan = new IngressPlanner("tailscale", List.of("tag:k8s"), "", n -> true, true)
        .plan(https, (ns, name) -> Optional.ofNullable(env().client().services().inNamespace(ns).withName(name)
            .get()));
    assertThat(plan).isInstanceOf(IngressPlan.Expose.class);
    String httpsServe = ((IngressPlan.Expose) plan).serveConfigJson();
    assertThat(httpsServe).contains("\"HTTPS\":true").contains("AllowFunnel").contains("Redirect");
    assertServeConfigAcceptedByLocalApi(pod, httpsServe, fqdn);

    // The contract is not vacuous: drifted files fail it (a renamed field, a value of the wrong type, a renamed
    // serve-config field that Go's decoder would silently drop).
    String cap95 = secret.get("cap-95.hujson");
    assertThatThrownBy(() -> assertConfigFileLoadsInTailscaled("cap-95.hujson", cap95.replace("\"Hostname\"",
        "\"HostName2\""), env().pods().binaries())).isInstanceOf(AssertionError.class).hasMessageContaining("refused");
    assertThatThrownBy(() -> assertConfigFileLoadsInTailscaled("cap-95.hujson", cap95.replace("\"acceptDNS\":false",
        "\"acceptDNS\":\"no\""), env().pods().binaries())).isInstanceOf(AssertionError.class)
        .hasMessageContaining("refused");
    assertThatThrownBy(() -> assertServeConfigAcceptedByLocalApi(pod, serve.replace("\"Handlers\"", "\"Handler\""),
        "no-https")).isInstanceOf(AssertionError.class);

    // and back to what containerboot applied, which still serves
    assertServeConfigAcceptedByLocalApi(pod, serve, "no-https");
    assertThat(httpGet("http://" + fqdn + "/").body()).isEqualTo("web /\n");
  }

  @Test
  void funnelLoadBalancerServeConfigIsAcceptedByTailscaled() {
    RealTailnet.requireKernelMode();
    namespace();
    Service lb = new ServiceBuilder(clusterIpService(NS, "public", 443, Map.of("tailscale.com/hostname",
        "contract-public", "tailscale.com/funnel", "true"))).editSpec().withType("LoadBalancer")
        .withLoadBalancerClass("tailscale").endSpec().build();
    env().client().resource(lb).create();
    LocalPod pod = awaitProxyPod("svc", NS, "public");
    HeadscaleNode node = awaitNode("contract-public");
    Map<String, String> secret = loggedInSecret(pod);
    assertTailscaledConfigUnderstood(pod, secret);
    // headscale offers no Funnel: the operator says so and serves the Service on the tailnet only (no serve config)
    Service live = env().client().resource(lb).get();
    await("FunnelNotAvailable").atMost(RealTailnet.TIMEOUT)
        .until(() -> env().event(live, "FunnelNotAvailable").isPresent());
    assertThat(env().event(live, "FunnelNotAvailable").orElseThrow().getMessage()).contains("tailnet only");
    assertThat(secret).doesNotContainKey("serve-config");
    assertThat(pod.env()).doesNotContainKey("TS_SERVE_CONFIG").containsKey("TS_DEST_IP");
    assertStateSecret(pod, secretData(pod.name()), node, fqdn("contract-public"), false);
    // the serve config the operator renders where Funnel exists is still one tailscaled accepts
    String serve = ((ServicePlan.Expose) new ServicePlanner(false, List.of("tag:k8s"), "", "", ns -> true, true)
        .plan(live)).funnelServeConfig();
    assertThat(serve).as("the Funnel serve config").isNotNull()
        .contains("\"443\":{\"HTTPS\":true}").contains("AllowFunnel");
    assertServeConfigAcceptedByLocalApi(pod, serve, fqdn("contract-public"));
  }
}
