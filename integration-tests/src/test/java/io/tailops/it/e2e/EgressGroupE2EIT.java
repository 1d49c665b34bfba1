package io.tailops.it.e2e;

import static io.tailops.it.e2e.RealTailnet.TIMEOUT;
import static io.tailops.it.e2e.RealTailnet.env;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.headscale.HeadscaleNode;
import io.tailops.testkit.headscale.TailnetClient;
import io.tailops.testkit.podrunner.LocalPod;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.LoggerFactory;

/**
 * Egress through a ProxyGroup for real: an egress ProxyGroup of 2 replicas (the local pod runner runs each with the
 * real containerboot in egress-group mode: it reads the mounted {@code <pg>-egress-config} ConfigMap, programs the
 * per-port DNAT to the tailnet target in its network namespace and reports in its state Secret), an ExternalName
 * Service naming the group and a tailnet device's address, and a workload's connections to the group's ClusterIP
 * Service (what the Service's {@code externalName} names; the runner's kube-proxy sends each connection to a ready
 * endpoint of the EndpointSlice the operator writes) reach the device's HTTP server. One replica Pod is deleted:
 * while it is gone, connections go through the other replica, and the replacement routes the Service again.
 */
@ExtendWith(RealTailnet.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class EgressGroupE2EIT {
  static final String NS = "e2e-egress-group";
  static final String OPERATOR_NS = OperatorEnvironment.NAMESPACE;
  static final String GROUP = "e2e-eg";
  static final String DEVICE = "e2e-db";

  static HttpServer backend;
  static TailnetClient db;
  static KubernetesClient k;

  @BeforeAll
  static void start() throws Exception {
    RealTailnet.requireKernelMode();
    k = env().client();
    env().createNamespace(NS);
    backend = RealTailnet.loopbackBackend("db");
    // a tailnet device serving the local HTTP server on its tailnet port 8080
    db = TailnetClient.builder(env().headscale()).hostname(DEVICE).tags("tag:e2e-client").proxies(false)
        .startupTimeout(Duration.ofSeconds(120)).start();
    db.tailscale("serve", "--bg", "--tcp=8080", "tcp://127.0.0.1:" + backend.getAddress().getPort());
  }

  @AfterAll
  static void stop() {
    if (k != null) {
      k.services().inNamespace(NS).withName("db").delete();
      k.resources(ProxyGroup.class).withName(GROUP).delete();
    }
    if (db != null) {
      db.close();
    }
    if (backend != null) {
      backend.stop(0);
    }
  }

  static Service svc() {
    return k.services().inNamespace(NS).withName("db").get();
  }

  static Optional<Condition> condition(String type) {
    Service s = svc();
    if (s == null || s.getStatus() == null || s.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return s.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  /** The group's ClusterIP Service for "db" (what its externalName names). */
  static Service clusterIpService() {
    String host = svc().getSpec().getExternalName();
    assertThat(host).endsWith("." + OPERATOR_NS + ".svc.cluster.local");
    return k.services().inNamespace(OPERATOR_NS).withName(host.split("\\.")[0]).get();
  }

  /** The ready endpoint addresses of the ClusterIP Service's EndpointSlice, as the operator wrote them. */
  static List<String> sliceAddresses(Service clusterIp) {
    return k.discovery().v1().endpointSlices().inNamespace(OPERATOR_NS)
        .withLabel("kubernetes.io/service-name", clusterIp.getMetadata().getName()).list().getItems().stream()
        .map(EndpointSlice::getEndpoints).filter(e -> e != null).flatMap(List::stream)
        .filter(e -> e.getConditions() == null || !Boolean.FALSE.equals(e.getConditions().getReady()))
        .flatMap(e -> e.getAddresses().stream()).sorted().toList();
  }

  /** Where the runner's kube-proxy sends connections to the ClusterIP Service's port 8080 now (pod addresses). */
  static List<String> proxied(Service clusterIp) {
    return env().services().endpoints(OPERATOR_NS, clusterIp.getMetadata().getName(), 8080).stream()
        .map(a -> a.getAddress().getHostAddress()).sorted().toList();
  }

  static String podIp(String pod) {
    return env().pods().pod(pod).map(LocalPod::podIp).orElse(null);
  }

  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  static HttpResponse<String> get(String url) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  static String awaitGet(String url) {
    AtomicReference<String> last = new AtomicReference<>("nothing yet");
    try {
      return await("HTTP 200 from " + url).atMost(TIMEOUT).pollInterval(Duration.ofSeconds(1)).until(() -> {
        try {
          HttpResponse<String> r = get(url);
          last.set(r.statusCode() + " " + r.body());
          return r.statusCode() == 200 ? r.body() : null;
        } catch (Exception e) {
          last.set(e.toString());
          return null;
        }
      }, b -> b != null);
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      throw new AssertionError(e.getMessage() + "; last: " + last.get(), e);
    }
  }

  static Condition awaitAllReplicasRoute() {
    return await("TailscaleEgressSvcReady: 2 out of 2 replicas").atMost(TIMEOUT)
        .pollInterval(Duration.ofMillis(500)).until(() -> condition("TailscaleEgressSvcReady").orElse(null),
            c -> c != null && "True".equals(c.getStatus()) && "ReadyToRouteTraffic".equals(c.getReason()));
  }

  @Test
  @Order(1)
  void aWorkloadReachesTheDeviceThroughTheGroupsClusterIpService() {
    HeadscaleNode device = env().headscale().awaitNode(n -> DEVICE.equals(n.givenName()) && n.online(), DEVICE,
        TIMEOUT);
    k.resource(Serialization.unmarshal("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: %s
        spec:
          type: egress
          replicas: 2
        """.formatted(GROUP), ProxyGroup.class)).create();
    k.resource(Serialization.unmarshal("""
        apiVersion: v1
        kind: Service
        metadata:
          name: db
          namespace: %s
          annotations:
            tailscale.com/proxy-group: %s
            tailscale.com/tailnet-ip: %s
        spec:
          type: ExternalName
          externalName: placeholder
          ports:
          - {name: http, port: 8080, protocol: TCP}
        """.formatted(NS, GROUP, device.ipv4()), Service.class)).create();

    LocalPod r0 = env().pods().awaitStartupComplete(GROUP + "-0", TIMEOUT);
    LocalPod r1 = env().pods().awaitStartupComplete(GROUP + "-1", TIMEOUT);
    assertThat(r0.kernelMode()).as("egress replicas run in kernel mode").isTrue();
    assertThat(r1.kernelMode()).isTrue();
    Condition ready = awaitAllReplicasRoute();
    assertThat(ready.getMessage()).isEqualTo("2 out of 2 replicas are ready to route traffic");

    Service clusterIp = clusterIpService();
    assertThat(sliceAddresses(clusterIp)).containsExactlyInAnyOrder(r0.podIp(), r1.podIp());
    await("the runner's kube-proxy follows the EndpointSlice").atMost(TIMEOUT)
        .until(() -> proxied(clusterIp), a -> a.size() == 2);
    // each replica routes the Service: its container port, straight to the pod
    int matchPort = clusterIp.getSpec().getPorts().stream().filter(p -> p.getPort() == 8080).findFirst().orElseThrow()
        .getTargetPort().getIntVal();
    for (LocalPod r : List.of(r0, r1)) {
      assertThat(awaitGet("http://" + r.podIp() + ":" + matchPort + "/via-" + r.name())).isEqualTo("db /via-"
          + r.name());
    }
    // the workload: the ClusterIP Service's address and port, as the cluster DNS resolves the ExternalName
    String url = "http://" + clusterIp.getSpec().getClusterIP() + ":8080";
    for (int i = 0; i < 6; i++) {
      assertThat(awaitGet(url + "/req-" + i)).isEqualTo("db /req-" + i);
    }
  }

  @Test
  @Order(2)
  void trafficKeepsFlowingWhileOneReplicaPodIsDeletedAndTheReplicaComesBack() throws Exception {
    Service clusterIp = clusterIpService();
    String url = "http://" + clusterIp.getSpec().getClusterIP() + ":8080";
    LocalPod gone = env().pods().pod(GROUP + "-1").orElseThrow();
    String stays = podIp(GROUP + "-0");
    k.pods().inNamespace(OPERATOR_NS).withName(gone.name()).delete();

    // the operator drops the deleted replica from the EndpointSlice, and the kube-proxy follows it
    await("the EndpointSlice without " + gone.name()).atMost(TIMEOUT).pollInterval(Duration.ofMillis(100))
        .until(() -> proxied(clusterIp), a -> a.equals(List.of(stays)));
    // while the replica is away, every request goes through the other one
    long away = System.nanoTime();
    int during = 0;
    List<String> failures = new java.util.ArrayList<>();
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (proxied(clusterIp).equals(List.of(stays)) && System.nanoTime() < deadline) {
      try {
        HttpResponse<String> r = get(url + "/during-" + during);
        if (r.statusCode() != 200 || !r.body().equals("db /during-" + during)) {
          failures.add(r.statusCode() + " " + r.body());
        }
      } catch (Exception e) {
        failures.add(e.toString());
      }
      during++;
      Thread.sleep(100);
    }
    LoggerFactory.getLogger(EgressGroupE2EIT.class).info("{} requests through the ClusterIP Service while {} was away "
        + "({} ms), {} failed", during, gone.name(), (System.nanoTime() - away) / 1_000_000, failures.size());
    assertThat(failures).as("requests while one replica was deleted (%d sent)", during).isEmpty();
    assertThat(during).as("requests sent while the replica was away").isPositive();

    // the replica comes back (a new Pod), routes the Service again and is listed again
    LocalPod back = env().pods().awaitPod(gone.name(), p -> !p.uid().equals(gone.uid()), "replaced", TIMEOUT);
    back.awaitStartupComplete(TIMEOUT);
    assertThat(awaitAllReplicasRoute().getMessage()).isEqualTo("2 out of 2 replicas are ready to route traffic");
    await("both replicas in the EndpointSlice").atMost(TIMEOUT)
        .until(() -> proxied(clusterIp), a -> a.size() == 2 && a.contains(back.podIp()));
    assertThat(sliceAddresses(clusterIp)).containsExactlyInAnyOrder(stays, back.podIp());
    int matchPort = clusterIp.getSpec().getPorts().stream().filter(p -> p.getPort() == 8080).findFirst().orElseThrow()
        .getTargetPort().getIntVal();
    assertThat(awaitGet("http://" + back.podIp() + ":" + matchPort + "/via-replacement"))
        .isEqualTo("db /via-replacement");
    for (int i = 0; i < 6; i++) {
      assertThat(awaitGet(url + "/after-" + i)).isEqualTo("db /after-" + i);
    }
  }
}
