package io.tailops.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.tailscale.FakeDevice;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Egress Services (workloads in the cluster reach a tailnet device through a Service) against the real API server, the
 * fake tailnet and the proxy simulator: the proxy of a Service with {@code tailscale.com/tailnet-ip} or
 * {@code tailscale.com/tailnet-fqdn}, the Service pointed at it, the target followed when the annotation changes, a
 * target that does not exist, is offline or cannot be routed to, and the cleanup when the annotation or the Service
 * goes. Bad annotations are in {@link BadInputCatalogueIT}.
 */
class EgressServiceIT {
  static OperatorEnvironment env;
  static final String NS = "egress-it";
  static final String OPERATOR_NS = OperatorEnvironment.NAMESPACE;

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    // the device sweep, whose device list the target checks read, every 2 s instead of every 2 minutes
    env.env("OPERATOR_DEVICE_SWEEP_INTERVAL", "2s");
    env.createNamespace(NS);
    env.startOperator();
  }

  @AfterAll
  static void stop() {
    env.close();
  }

  static Service egress(String name, Map<String, String> annotations) {
    return new ServiceBuilder().withNewMetadata().withNamespace(NS).withName(name).withAnnotations(annotations)
        .endMetadata().withNewSpec().withType("ClusterIP").addToSelector("app", name)
        .addNewPort().withName("http").withPort(80).endPort().endSpec().build();
  }

  static Service get(String name) {
    return env.client().services().inNamespace(NS).withName(name).get();
  }

  static Optional<Condition> ready(Service svc) {
    return ServiceExposeIT.ready(svc);
  }

  static Condition awaitCondition(String name, String status, String reason) {
    await().atMost(Duration.ofSeconds(60)).until(() -> ready(get(name))
        .filter(c -> status.equals(c.getStatus()) && reason.equals(c.getReason())).isPresent());
    return ready(get(name)).orElseThrow();
  }

  static void assertNothingLeftFor(String name) {
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(env.statefulSets("svc", NS, name)).isEmpty();
      assertThat(env.secrets("svc", NS, name)).isEmpty();
      assertThat(env.client().services().inNamespace(OPERATOR_NS).withLabel("tailscale.com/parent-resource", name)
          .withLabel("tailscale.com/parent-resource-ns", NS).list().getItems()).isEmpty();
    });
  }

  static FakeDevice onlineDevice(String hostname) {
    FakeDevice d = env.tailnet().addForeignDevice(hostname, List.of());
    return env.tailnet().setOnline(d.nodeId(), true);
  }

  static String env(StatefulSet set, String name) {
    return set.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .filter(e -> name.equals(e.getName())).map(EnvVar::getValue).findFirst().orElse(null);
  }

  static StatefulSet proxy(String name) {
    String sts = env.awaitProxy("svc", NS, name);
    return env.client().apps().statefulSets().inNamespace(OPERATOR_NS).withName(sts).get();
  }

  @Test
  void aServiceWithATailnetAddressGetsAnEgressProxyAndPointsAtIt() {
    FakeDevice nas = onlineDevice("nas");
    env.client().resource(egress("nas", Map.of("tailscale.com/tailnet-ip", nas.ipv4()))).create();

    StatefulSet set = proxy("nas");
    assertThat(env(set, "TS_TAILNET_TARGET_IP")).isEqualTo(nas.ipv4());
    assertThat(env(set, "TS_INTERNAL_APP")).isEqualTo("k8s-operator-egress-proxy");
    assertThat(env(set, "TS_USERSPACE")).isEqualTo("false");
    assertThat(set.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry("tailscale.com/operator-last-set-ts-tailnet-target-ip", nas.ipv4());

    Condition ready = awaitCondition("nas", "True", "ProxyCreated");
    FakeDevice proxyDevice = env.tailnet().devices().stream().filter(d -> d.dnsLabel().equals(NS + "-nas"))
        .findFirst().orElseThrow();
    assertThat(ready.getMessage()).isEqualTo("egress proxy is ready: cluster traffic to this Service goes to "
        + nas.ipv4() + " over the tailnet, from the proxy device " + proxyDevice.name() + " (" + String.join(", ",
        proxyDevice.addresses()) + ")");
    Service svc = get("nas");
    assertThat(svc.getSpec().getType()).isEqualTo("ExternalName");
    assertThat(svc.getSpec().getExternalName()).isEqualTo(set.getMetadata().getName() + "." + OPERATOR_NS
        + ".svc.cluster.local");
    assertThat(svc.getSpec().getSelector()).isNullOrEmpty();
    assertThat(svc.getSpec().getPorts()).extracting(p -> p.getPort()).containsExactly(80);
    assertThat(svc.getMetadata().getFinalizers()).contains("tailscale.com/finalizer");
    assertThat(env.event(svc, "ProxyReady")).isPresent();

    // the target changes: the same proxy, its environment follows
    FakeDevice other = onlineDevice("nas2");
    Conflicts.retry(() -> env.client().services().inNamespace(NS).withName("nas").edit(s -> {
      s.getMetadata().getAnnotations().put("tailscale.com/tailnet-ip", other.ipv4());
      return s;
    }));
    await().atMost(Duration.ofSeconds(60)).until(() -> other.ipv4().equals(env(proxy("nas"), "TS_TAILNET_TARGET_IP")));
    assertThat(proxy("nas").getMetadata().getName()).isEqualTo(set.getMetadata().getName());
    await().atMost(Duration.ofSeconds(60)).until(() -> ready(get("nas")).map(Condition::getMessage).orElse("")
        .contains(other.ipv4()));
  }

  @Test
  void aServiceWithAMagicDnsNameGetsAnEgressProxyToThatName() {
    FakeDevice db = onlineDevice("db");
    env.client().resource(egress("db", Map.of("tailscale.com/tailnet-fqdn", db.name()))).create();
    StatefulSet set = proxy("db");
    assertThat(env(set, "TS_TAILNET_TARGET_FQDN")).isEqualTo(db.name() + ".");
    assertThat(set.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry("tailscale.com/operator-last-set-ts-tailnet-target-fqdn", db.name() + ".");
    assertThat(awaitCondition("db", "True", "ProxyCreated").getMessage()).contains("goes to " + db.name()
        + " over the tailnet");
    assertThat(get("db").getSpec().getType()).isEqualTo("ExternalName");
  }

  @Test
  void aTargetNoDeviceHasIsReportedUntilTheDeviceJoins() {
    String address = "100.100.20.20";
    env.client().resource(egress("later", Map.of("tailscale.com/tailnet-ip", address))).create();
    Condition c = awaitCondition("later", "False", "TailnetTargetUnknown");
    assertThat(c.getMessage()).startsWith("no device in the tailnet has the address " + address);
    await().atMost(Duration.ofSeconds(30)).until(() -> env.event(get("later"), "TailnetTargetUnknown").isPresent());
    // the proxy exists meanwhile (the device may join any time), and the Service points at it
    assertThat(env.statefulSets("svc", NS, "later")).hasSize(1);
    assertThat(get("later").getSpec().getType()).isEqualTo("ExternalName");

    FakeDevice name = onlineDevice("offline-one");
    env.client().resource(egress("offline", Map.of("tailscale.com/tailnet-fqdn", name.name()))).create();
    awaitCondition("offline", "True", "ProxyCreated");
    env.tailnet().setOnline(name.nodeId(), false);
    assertThat(awaitCondition("offline", "False", "TailnetTargetOffline").getMessage())
        .isEqualTo("the target device " + name.name() + " is offline, so connections through the proxy fail until "
            + "it is back online");
    env.tailnet().setOnline(name.nodeId(), true);
    awaitCondition("offline", "True", "ProxyCreated");
  }

  @Test
  void anAddressOutsideTheTailnetNeedsAProxyClassThatAcceptsRoutes() {
    env.client().resource(egress("lab", Map.of("tailscale.com/tailnet-ip", "10.20.0.5"))).create();
    assertThat(awaitCondition("lab", "False", "TailnetTargetNotRoutable").getMessage())
        .contains("set spec.tailscale.acceptRoutes: true in the Service's ProxyClass");
    env.client().resource(Serialization.unmarshal("apiVersion: tailscale.com/v1alpha1\nkind: ProxyClass\n"
        + "metadata: {name: egress-routes}\nspec: {tailscale: {acceptRoutes: true}, metrics: {enable: true}}\n",
        ProxyClass.class)).create();
    Conflicts.retry(() -> env.client().services().inNamespace(NS).withName("lab").edit(s -> {
      s.getMetadata().getAnnotations().put("tailscale.com/proxy-class", "egress-routes");
      return s;
    }));
    awaitCondition("lab", "True", "ProxyCreated");
    String sts = env.awaitProxy("svc", NS, "lab");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(env.tailscaledConfig(sts))
        .contains("\"acceptRoutes\":true"));
    // an egress proxy has no metrics endpoint, whatever its ProxyClass says (as upstream)
    assertThat(env.client().services().inNamespace(OPERATOR_NS).withName(sts + "-metrics").get()).isNull();
    assertThat(env(proxy("lab"), "TS_ENABLE_METRICS")).isNull();
  }

  @Test
  void removingTheAnnotationOrTheServiceRemovesTheProxyAndItsDevice() {
    FakeDevice target = onlineDevice("printer");
    env.client().resource(egress("printer", Map.of("tailscale.com/tailnet-ip", target.ipv4()))).create();
    awaitCondition("printer", "True", "ProxyCreated");
    FakeDevice proxyDevice = env.tailnet().devices().stream().filter(d -> d.dnsLabel().equals(NS + "-printer"))
        .findFirst().orElseThrow();
    Conflicts.retry(() -> env.client().services().inNamespace(NS).withName("printer").edit(s -> {
      s.getMetadata().getAnnotations().remove("tailscale.com/tailnet-ip");
      return s;
    }));
    assertNothingLeftFor("printer");
    await().atMost(Duration.ofSeconds(30)).until(() -> env.tailnet().device(proxyDevice.nodeId()).isEmpty());
    await().atMost(Duration.ofSeconds(30)).until(() -> ready(get("printer")).isEmpty()
        && get("printer").getMetadata().getFinalizers().isEmpty());
    // upstream leaves the Service pointing at the removed proxy, and so do we, but we say so
    assertThat(get("printer").getSpec().getType()).isEqualTo("ExternalName");
    await().atMost(Duration.ofSeconds(30)).until(() -> env.event(get("printer"), "EgressServiceDangling")
        .filter(e -> "Warning".equals(e.getType()) && e.getMessage().contains("give it back its type and selector"))
        .isPresent());
    assertThat(target.nodeId()).as("the target device is not touched")
        .satisfies(id -> assertThat(env.tailnet().device(id)).isPresent());

    FakeDevice again = onlineDevice("scanner");
    env.client().resource(egress("scanner", Map.of("tailscale.com/tailnet-ip", again.ipv4()))).create();
    awaitCondition("scanner", "True", "ProxyCreated");
    FakeDevice scannerProxy = env.tailnet().devices().stream().filter(d -> d.dnsLabel().equals(NS + "-scanner"))
        .findFirst().orElseThrow();
    env.client().services().inNamespace(NS).withName("scanner").delete();
    assertNothingLeftFor("scanner");
    await().atMost(Duration.ofSeconds(30)).until(() -> env.tailnet().device(scannerProxy.nodeId()).isEmpty()
        && get("scanner") == null);
  }

  @Test
  void anExposedServiceIgnoresItsEgressAnnotationAndSaysSo() {
    env.client().resource(egress("both", Map.of("tailscale.com/expose", "true", "tailscale.com/tailnet-ip",
        "100.100.30.30"))).create();
    awaitCondition("both", "True", "ProxyCreated");
    assertThat(env(proxy("both"), "TS_DEST_IP")).isEqualTo(get("both").getSpec().getClusterIP());
    assertThat(get("both").getSpec().getType()).isEqualTo("ClusterIP");
    await().atMost(Duration.ofSeconds(30)).until(() -> env.event(get("both"), "EgressAnnotationIgnored")
        .filter(e -> e.getMessage().contains("tailscale.com/tailnet-ip annotation is ignored")).isPresent());
  }
}
