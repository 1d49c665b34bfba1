package io.tailops.it.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.tailops.api.v1alpha1.DNSConfig;
import io.tailops.api.v1alpha1.DNSConfigSpec;
import io.tailops.api.v1alpha1.Nameserver;
import io.tailops.local.OperatorEnvironment;
import io.tailops.operator.dns.DnsRecords;
import io.tailops.operator.dns.NameserverResources;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProxyConfigSecret;
import io.tailops.operator.proxy.ProxyDefaults;
import io.tailops.operator.proxy.ProxyHeadlessService;
import io.tailops.operator.proxy.ProxySpec;
import io.tailops.operator.proxy.ProxyStatefulSet;
import io.tailops.operator.proxy.ProxyTarget;
import io.tailops.testkit.OneShotCommand;
import io.tailops.testkit.dns.DnsQuery;
import io.tailops.testkit.headscale.HeadscaleNode;
import io.tailops.testkit.headscale.TailnetClient;
import io.tailops.testkit.podrunner.LocalPod;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The pieces of egress and of the DNSConfig nameserver on the real local tailnet, before any reconciler: the egress
 * proxy StatefulSet and config Secret exactly as the operator's builders make them (ProxyStatefulSet, kernel mode,
 * {@code TS_TAILNET_TARGET_IP} / {@code TS_TAILNET_TARGET_FQDN}) run by the local pod runner with the real
 * containerboot, and carry a cluster workload's HTTP request (from the node, and from a process in another pod's
 * network namespace) to a tailnet device's HTTP server; the FQDN form follows the device when it comes back with
 * another address; the nameserver Deployment as NameserverResources makes it runs the real k8s-nameserver, which
 * answers the records of the dnsrecords ConfigMap (and follows its changes) at the pod's port 1053.
 *
 * <p>Its own environment (API server with the controller manager, headscale, pod runner), without the operator: the
 * objects are created here from the pure builders.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EgressPodsE2EIT {
  private static final Duration TIMEOUT = Duration.ofSeconds(180);
  private static final String NS = OperatorEnvironment.NAMESPACE;

  private static OperatorEnvironment env;
  private static KubernetesClient k;
  private static HttpServer backend;
  private static TailnetClient nas;
  private static ProxyDefaults defaults;
  private static String egressByFqdnPodIp;

  @BeforeAll
  static void start() throws Exception {
    env = OperatorEnvironment.create(OperatorEnvironment.Mode.REAL);
    k = env.client();
    defaults = new ProxyDefaults(NS, "tailscale/tailscale:v1.94.2", "", "auto", env.headscale().baseUrl(),
        List.of("tag:k8s"));
    backend = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    backend.createContext("/", exchange -> {
      byte[] body = ("nas " + exchange.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    backend.start();
    nas = startNas();
  }

  /** A tailnet device "nas" serving the local HTTP server on its tailnet port 80 (a TCP forward). */
  private static TailnetClient startNas() {
    TailnetClient c = TailnetClient.builder(env.headscale()).hostname("nas").tags("tag:e2e-client").proxies(false)
        .startupTimeout(Duration.ofSeconds(120)).start();
    c.tailscale("serve", "--bg", "--tcp=80", "tcp://127.0.0.1:" + backend.getAddress().getPort());
    return c;
  }

  @AfterAll
  static void stop() throws Exception {
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

  @Test
  @Order(1)
  void anEgressProxyToATailnetAddressCarriesClusterTrafficToTheDevice() {
    HeadscaleNode device = env.headscale().awaitNode(n -> "nas".equals(n.givenName()) && n.online(), "nas online",
        TIMEOUT);
    LocalPod pod = createEgressProxy("by-ip", new ProxyTarget.TailnetIp(device.ipv4()));
    assertThat(pod.kernelMode()).isTrue();
    assertThat(pod.env()).containsEntry("TS_TAILNET_TARGET_IP", device.ipv4())
        .containsEntry("TS_INTERNAL_APP", "k8s-operator-egress-proxy");
    // a workload on the node, connecting to the proxy pod as a Service's endpoint
    assertThat(awaitGet("http://" + pod.podIp() + "/from-the-node")).isEqualTo("nas /from-the-node");
  }

  @Test
  @Order(2)
  void anEgressProxyToAMagicDnsNameFollowsTheDeviceToItsNewAddress() {
    String fqdn = "nas." + env.headscale().baseDomain() + ".";
    LocalPod pod = createEgressProxy("by-fqdn", new ProxyTarget.TailnetFqdn(fqdn));
    egressByFqdnPodIp = pod.podIp();
    assertThat(pod.env()).containsEntry("TS_TAILNET_TARGET_FQDN", fqdn);
    assertThat(awaitGet("http://" + pod.podIp() + "/first")).isEqualTo("nas /first");

    // the device leaves and joins again: a new node under the same name, with another address
    HeadscaleNode before = env.headscale().nodeNamed("nas").orElseThrow();
    nas.close();
    env.headscale().deleteNode(before.id());
    nas = startNas();
    HeadscaleNode after = env.headscale().awaitNode(n -> "nas".equals(n.givenName()) && n.online()
        && !n.id().equals(before.id()), "nas back online as a new node", TIMEOUT);
    assertThat(after.ipv4()).isNotEqualTo(before.ipv4());
    assertThat(awaitGet("http://" + pod.podIp() + "/second")).isEqualTo("nas /second");
  }

  @Test
  @Order(3)
  void theNameserverAnswersItsRecordsAndAWorkloadReachesTheDeviceByThatName() throws Exception {
    DNSConfig dc = new DNSConfig();
    dc.getMetadata().setName("ts-dns");
    dc.setSpec(new DNSConfigSpec());
    dc.getSpec().setNameserver(new Nameserver());
    dc = k.resource(dc).create();
    k.resource(NameserverResources.serviceAccount(dc, NS)).create();
    // records.json exists before the first record: the kubelet links a new key into the volume only after its ..data
    // swap, which the nameserver watches, so a key that appears with the first record can be missed (see the report)
    io.fabric8.kubernetes.api.model.ConfigMap records = NameserverResources.recordsConfigMap(dc, NS);
    records.setData(Map.of(DnsRecords.KEY, DnsRecords.empty().toJson()));
    k.resource(records).create();
    Service svc = k.resource(NameserverResources.service(dc, NS)).create();
    assertThat(svc.getSpec().getClusterIP()).isNotEmpty();
    k.resource(NameserverResources.deployment(dc, NS)).create();
    LocalPod ns = await().atMost(TIMEOUT).until(() -> env.pods().pods().stream()
        .filter(p -> p.name().startsWith("nameserver-") && p.isRunning()).findFirst().orElse(null), p -> p != null);
    ns.awaitLog("listening for udp queries on :1053", TIMEOUT);
    InetSocketAddress server = new InetSocketAddress(ns.podIp(), NameserverResources.CONTAINER_PORT);

    // what the records reconciler will write for an egress Service with tailscale.com/tailnet-fqdn
    String name = "nas.tailnet-abc.ts.net";
    writeRecords(DnsRecords.empty().with(name, List.of(egressByFqdnPodIp), List.of()));
    DnsQuery a = await().atMost(TIMEOUT).until(() -> query(server, name, DnsQuery.TYPE_A),
        q -> q != null && q.rcode() == DnsQuery.NOERROR && !q.addresses().isEmpty());
    assertThat(a.addresses()).containsExactly(egressByFqdnPodIp);
    assertThat(a.authoritative()).isTrue();
    assertThat(DnsQuery.tcp(server, name, DnsQuery.TYPE_A, Duration.ofSeconds(5)).addresses())
        .containsExactly(egressByFqdnPodIp);
    assertThat(DnsQuery.udp(server, "other.tailnet-abc.ts.net", DnsQuery.TYPE_A, Duration.ofSeconds(5)).rcode())
        .as("a ts.net name without a record does not exist").isEqualTo(DnsQuery.NXDOMAIN);
    assertThat(DnsQuery.udp(server, "nas." + env.headscale().baseDomain(), DnsQuery.TYPE_A, Duration.ofSeconds(5))
        .rcode()).as("the nameserver answers only ts.net names").isEqualTo(DnsQuery.REFUSED);

    // a workload in another pod's network namespace: the name the nameserver gave, then HTTP to the device
    String netns = ns.netns().orElseThrow();
    OneShotCommand.Result curl = awaitCommand(List.of("ip", "netns", "exec", netns, "curl", "-sS", "--max-time", "10",
        "http://" + a.addresses().get(0) + "/from-a-pod"));
    assertThat(curl.stdout()).isEqualTo("nas /from-a-pod");

    // the records change (the proxy moved): the nameserver follows the ConfigMap
    writeRecords(DnsRecords.empty().with(name, List.of("10.244.0.99"), List.of("fd00::99")));
    await().atMost(TIMEOUT).until(() -> query(server, name, DnsQuery.TYPE_A),
        q -> q != null && q.addresses().equals(List.of("10.244.0.99")));
    assertThat(DnsQuery.udp(server, name, DnsQuery.TYPE_AAAA, Duration.ofSeconds(5)).addresses())
        .containsExactly("fd00::99");
  }

  // ------------------------------------------------------------------------------------------------ helpers

  /** The operator's egress proxy objects for {@code target} (parent Service egress-demo/<name>); its running pod. */
  private static LocalPod createEgressProxy(String name, ProxyTarget target) {
    ParentRef parent = new ParentRef(ParentRef.TYPE_SERVICE, "egress-demo", name, "uid-" + name);
    ProxySpec spec = new ProxySpec(parent, "egress-demo-" + name, List.of("tag:k8s"), target, null, false, false,
        false);
    String sts = "ts-" + name + "-bcdfg";
    String key = env.headscale().createPreAuthKey("tag:k8s").key();
    k.resource(ProxyHeadlessService.build(spec, sts, defaults)).create();
    k.resource(ProxyConfigSecret.build(spec, sts + "-0", ProxyConfigSecret.desiredData(spec, key, defaults),
        defaults)).create();
    StatefulSet set = ProxyStatefulSet.build(spec, sts, defaults);
    k.resource(set).create();
    return env.pods().awaitStartupComplete(sts + "-0", TIMEOUT);
  }

  private static String awaitGet(String url) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    AtomicReference<String> last = new AtomicReference<>("nothing yet");
    String body = await("HTTP 200 from " + url).atMost(TIMEOUT).pollInterval(Duration.ofSeconds(1)).until(() -> {
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10))
            .build(), HttpResponse.BodyHandlers.ofString());
        last.set(r.statusCode() + " " + r.body());
        return r.statusCode() == 200 ? r.body() : null;
      } catch (Exception e) {
        last.set(e.toString());
        return null;
      }
    }, b -> b != null);
    return body;
  }

  private static OneShotCommand.Result awaitCommand(List<String> cmd) {
    return await(String.join(" ", cmd)).atMost(TIMEOUT).pollInterval(Duration.ofSeconds(1))
        .until(() -> OneShotCommand.run(cmd, Map.of("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            java.nio.file.Path.of("/"), Duration.ofSeconds(30)), OneShotCommand.Result::ok);
  }

  private static DnsQuery query(InetSocketAddress server, String name, int type) {
    try {
      return DnsQuery.udp(server, name, type, Duration.ofSeconds(2));
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static void writeRecords(DnsRecords records) {
    k.configMaps().inNamespace(NS).withName(DnsRecords.CONFIG_MAP).edit(cm -> {
      cm.setData(Map.of(DnsRecords.KEY, records.toJson()));
      return cm;
    });
  }
}
