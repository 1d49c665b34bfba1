package io.tailops.it.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.DNSConfig;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.OneShotCommand;
import io.tailops.testkit.dns.DnsQuery;
import io.tailops.testkit.headscale.HeadscaleNode;
import io.tailops.testkit.headscale.TailnetClient;
import io.tailops.testkit.podrunner.LocalPod;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Egress and the DNSConfig nameserver end to end, with the operator in-process, headscale, and the local pod runner
 * running the operator's egress proxies (real containerboot and tailscaled, kernel mode) and the nameserver (real
 * k8s-nameserver): a workload reaches a tailnet device's HTTP server through an egress Service, by address and by
 * MagicDNS name, as the cluster's DNS would send it (the Service's ExternalName, then the proxy's headless Service and
 * its EndpointSlices); the nameserver answers the device's name with the proxy pod's address; the device comes back
 * with another address and the name form follows it, while the address form says the address is gone.
 *
 * <p>Its own environment: the tailnet's domain is a {@code ts.net} one ({@value #DOMAIN}), the only kind of name the
 * official nameserver answers.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EgressE2EIT {
  static final String DOMAIN = "tailnet-e2e.ts.net";
  static final String NS = "egress-e2e";
  static final String OPERATOR_NS = OperatorEnvironment.NAMESPACE;
  static final Duration TIMEOUT = Duration.ofSeconds(180);

  static OperatorEnvironment env;
  static KubernetesClient k;
  static HttpServer backend;
  static TailnetClient nas;

  @BeforeAll
  static void start() throws Exception {
    env = OperatorEnvironment.createReal(DOMAIN);
    env.env("OPERATOR_HOSTNAME", "egress-e2e-operator").env("OPERATOR_DEVICE_SWEEP_INTERVAL", "5s");
    env.startOperator();
    k = env.client();
    env.createNamespace(NS);
    backend = RealTailnet.loopbackBackend("nas");
    nas = startNas();
  }

  /** A tailnet device "nas" serving the local HTTP server on its tailnet port 80. */
  static TailnetClient startNas() {
    TailnetClient c = TailnetClient.builder(env.headscale()).hostname("nas").tags("tag:e2e-client").proxies(false)
        .startupTimeout(Duration.ofSeconds(120)).start();
    c.tailscale("serve", "--bg", "--tcp=80", "tcp://127.0.0.1:" + backend.getAddress().getPort());
    return c;
  }

  @AfterAll
  static void stop() {
    if (nas != null) {
      nas.close();
    }
    if (backend != null) {
      backend.stop(0);
    }
    if (env != null) {
      env.close();
    }
  }

  static Service egress(String name, String annotation, String value) {
    return new ServiceBuilder().withNewMetadata().withNamespace(NS).withName(name).addToAnnotations(annotation, value)
        .endMetadata().withNewSpec().addNewPort().withName("http").withPort(80).endPort().endSpec().build();
  }

  static Optional<Condition> ready(String name) {
    Service s = k.services().inNamespace(NS).withName(name).get();
    return s == null || s.getStatus() == null ? Optional.empty() : s.getStatus().getConditions().stream()
        .filter(c -> "TailscaleProxyReady".equals(c.getType())).findFirst();
  }

  static Condition awaitReady(String name, String reason) {
    return await(name + " " + reason).atMost(TIMEOUT).until(() -> ready(name).orElse(null),
        c -> c != null && reason.equals(c.getReason()));
  }

  /**
   * What the cluster's DNS answers for a Service: an ExternalName Service's name, then (a headless Service in the
   * cluster) the ready addresses of its EndpointSlices, as CoreDNS does.
   */
  static List<String> clusterDns(String namespace, String name) {
    Service svc = k.services().inNamespace(namespace).withName(name).get();
    if ("ExternalName".equals(svc.getSpec().getType())) {
      String[] parts = svc.getSpec().getExternalName().split("\\.");
      assertThat(svc.getSpec().getExternalName()).endsWith(".svc.cluster.local");
      return clusterDns(parts[1], parts[0]);
    }
    return k.discovery().v1().endpointSlices().inNamespace(namespace).withLabel("kubernetes.io/service-name", name)
        .list().getItems().stream().map(EndpointSlice::getEndpoints).flatMap(List::stream)
        .filter(e -> e.getConditions() == null || !Boolean.FALSE.equals(e.getConditions().getReady()))
        .map(Endpoint::getAddresses).flatMap(List::stream).toList();
  }

  static String awaitGet(String url) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    AtomicReference<String> last = new AtomicReference<>("nothing yet");
    return await("HTTP 200 from " + url + " (last: " + last + ")").atMost(TIMEOUT)
        .pollInterval(Duration.ofSeconds(1)).until(() -> {
          try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            last.set(r.statusCode() + " " + r.body());
            return r.statusCode() == 200 ? r.body() : null;
          } catch (Exception e) {
            last.set(e.toString());
            return null;
          }
        }, b -> b != null);
  }

  /** The address the cluster DNS gives a workload for the Service, once the proxy pod has one. */
  static String serviceAddress(String name) {
    return await("endpoints of " + name).atMost(TIMEOUT).until(() -> clusterDns(NS, name), a -> !a.isEmpty()).get(0);
  }

  @Test
  @Order(1)
  void aWorkloadReachesTheDeviceThroughAnEgressServiceByItsAddress() {
    HeadscaleNode device = env.headscale().awaitNode(n -> "nas".equals(n.givenName()) && n.online(), "nas", TIMEOUT);
    k.resource(egress("nas-ip", "tailscale.com/tailnet-ip", device.ipv4())).create();
    LocalPod pod = env.pods().awaitStartupComplete(env.awaitProxy("svc", NS, "nas-ip") + "-0", TIMEOUT);
    assertThat(pod.kernelMode()).isTrue();
    assertThat(awaitReady("nas-ip", "ProxyCreated").getMessage()).contains("goes to " + device.ipv4());
    String address = serviceAddress("nas-ip");
    assertThat(address).isEqualTo(pod.podIp());
    assertThat(awaitGet("http://" + address + "/by-ip")).isEqualTo("nas /by-ip");
  }

  @Test
  @Order(2)
  void byItsMagicDnsNameAndTheNameserverAnswersThatName() throws Exception {
    String fqdn = "nas." + DOMAIN;
    k.resource(egress("nas-name", "tailscale.com/tailnet-fqdn", fqdn)).create();
    env.pods().awaitStartupComplete(env.awaitProxy("svc", NS, "nas-name") + "-0", TIMEOUT);
    awaitReady("nas-name", "ProxyCreated");
    String address = serviceAddress("nas-name");
    assertThat(awaitGet("http://" + address + "/by-name")).isEqualTo("nas /by-name");

    k.resource(Serialization.unmarshal("""
        apiVersion: tailscale.com/v1alpha1
        kind: DNSConfig
        metadata:
          name: ts-dns
        spec:
          nameserver:
            image:
              tag: v1.94.2
        """, DNSConfig.class)).create();
    LocalPod ns = await("the nameserver pod").atMost(TIMEOUT).until(() -> env.pods().pods().stream()
        .filter(p -> p.name().startsWith("nameserver-") && p.isRunning()).findFirst().orElse(null), p -> p != null);
    ns.awaitLog("listening for udp queries on :1053", TIMEOUT);
    InetSocketAddress server = new InetSocketAddress(ns.podIp(), 1053);
    DnsQuery a = await(fqdn + " from the nameserver").atMost(TIMEOUT).until(() -> query(server, fqdn),
        q -> q != null && q.addresses().contains(address));
    assertThat(a.addresses()).containsExactly(address);
    assertThat(a.authoritative()).isTrue();
    assertThat(DnsQuery.tcp(server, fqdn, DnsQuery.TYPE_A, Duration.ofSeconds(5)).addresses())
        .containsExactly(address);
    assertThat(DnsQuery.udp(server, "other." + DOMAIN, DnsQuery.TYPE_A, Duration.ofSeconds(5)).rcode())
        .as("a name of the tailnet without an egress proxy has no record").isEqualTo(DnsQuery.NXDOMAIN);
    DNSConfig dc = k.resources(DNSConfig.class).withName("ts-dns").get();
    assertThat(dc.getStatus().getNameserver().getIp()).isEqualTo(k.services().inNamespace(OPERATOR_NS)
        .withName("nameserver").get().getSpec().getClusterIP());

    // a workload in another pod: the name from the nameserver, then HTTP to the device through the proxy
    OneShotCommand.Result curl = await("curl from a pod").atMost(TIMEOUT).pollInterval(Duration.ofSeconds(1))
        .until(() -> OneShotCommand.run(List.of("ip", "netns", "exec", ns.netns().orElseThrow(), "curl", "-sS",
            "--max-time", "10", "http://" + a.addresses().get(0) + "/from-a-pod"), Map.of("PATH",
            "/usr/sbin:/usr/bin:/sbin:/bin"), Path.of("/"), Duration.ofSeconds(30)), OneShotCommand.Result::ok);
    assertThat(curl.stdout()).isEqualTo("nas /from-a-pod");
  }

  @Test
  @Order(3)
  void theDeviceComesBackWithAnotherAddressAndTheNameFormFollowsIt() {
    HeadscaleNode before = env.headscale().nodeNamed("nas").orElseThrow();
    nas.close();
    env.headscale().deleteNode(before.id());
    nas = startNas();
    HeadscaleNode after = env.headscale().awaitNode(n -> "nas".equals(n.givenName()) && n.online()
        && !n.id().equals(before.id()), "nas back as a new node", TIMEOUT);
    assertThat(after.ipv4()).isNotEqualTo(before.ipv4());
    assertThat(awaitGet("http://" + serviceAddress("nas-name") + "/after")).isEqualTo("nas /after");
    // the address form points at an address no device has now, and says so
    assertThat(awaitReady("nas-ip", "TailnetTargetUnknown").getMessage())
        .startsWith("no device in the tailnet has the address " + before.ipv4());
  }

  @Test
  @Order(4)
  void deletingTheNameFormServiceRemovesItsProxyItsDeviceAndItsRecord() {
    String proxy = env.awaitProxy("svc", NS, "nas-name");
    assertThat(env.headscale().nodeNamed(NS + "-nas-name")).as("the proxy's device").isPresent();
    LocalPod ns = env.pods().pods().stream().filter(p -> p.name().startsWith("nameserver-") && p.isRunning())
        .findFirst().orElseThrow();
    InetSocketAddress server = new InetSocketAddress(ns.podIp(), 1053);
    k.services().inNamespace(NS).withName("nas-name").delete();
    try {
      await("the Service gone").atMost(TIMEOUT)
          .until(() -> k.services().inNamespace(NS).withName("nas-name").get() == null);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError("the Service is still there: " + Serialization.asYaml(k.services().inNamespace(NS)
          .withName("nas-name").get()) + "\nproxy objects: " + env.statefulSets("svc", NS, "nas-name") + " "
          + env.secrets("svc", NS, "nas-name").size() + " secrets; headless Services: " + Serialization.asYaml(
          k.services().inNamespace(OPERATOR_NS).withLabel("tailscale.com/parent-resource", "nas-name").list()), e);
    }
    await("the proxy's StatefulSet gone").atMost(TIMEOUT)
        .until(() -> k.apps().statefulSets().inNamespace(OPERATOR_NS).withName(proxy).get() == null);
    await("the proxy's device gone").atMost(TIMEOUT).until(() -> env.headscale().nodeNamed(NS + "-nas-name"),
        Optional::isEmpty);
    await("no record for the name").atMost(TIMEOUT).until(() -> query(server, "nas." + DOMAIN),
        q -> q != null && q.rcode() == DnsQuery.NXDOMAIN);
  }

  static DnsQuery query(InetSocketAddress server, String name) {
    try {
      return DnsQuery.udp(server, name, DnsQuery.TYPE_A, Duration.ofSeconds(2));
    } catch (RuntimeException e) {
      return null;
    }
  }
}
