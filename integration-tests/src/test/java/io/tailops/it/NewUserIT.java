package io.tailops.it;

import static io.tailops.it.ServiceExposeIT.clusterIp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.local.OperatorEnvironment;
import io.tailops.operator.k8s.HostnameClaims;
import io.tailops.testkit.tailscale.FakeDevice;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * What broke when the operator was tried as a new user would (issue 13), replayed step by step against the real API
 * server, the fake tailnet and the proxy simulator, asserting what the user sees: objects, devices, conditions, events
 * and doctor's output. One test per class of problem, each in its own namespaces.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class NewUserIT {
  static OperatorEnvironment env;

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    env.startOperator();
  }

  @AfterAll
  static void stop() {
    env.close();
  }

  // ------------------------------------------------------------------------------------------------ helpers

  /** {@code kubectl apply -f} of a multi-document manifest, as the user ran it. */
  static void kubectlApply(String yaml) {
    try {
      Path file = Files.createTempFile(env.dir(), "manifest", ".yaml");
      Files.writeString(file, yaml);
      env.kube().kubectl("apply", "-f", file.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Service svc(String ns, String name) {
    return env.client().services().inNamespace(ns).withName(name).get();
  }

  static Ingress ing(String ns, String name) {
    return env.client().network().v1().ingresses().inNamespace(ns).withName(name).get();
  }

  static Optional<Condition> condition(String ns, String name) {
    return ServiceExposeIT.ready(svc(ns, name));
  }

  static Condition awaitCondition(String ns, String name, String status, String reason) {
    await().atMost(Duration.ofSeconds(60)).until(() -> condition(ns, name)
        .filter(c -> status.equals(c.getStatus()) && reason.equals(c.getReason())).isPresent());
    return condition(ns, name).orElseThrow();
  }

  static List<FakeDevice> devices(String label) {
    return env.tailnet().devices().stream().filter(d -> d.dnsLabel().equals(label)).toList();
  }

  /** Labels of every device whose name starts with {@code label} ({@code web}, {@code web-1}, ...). */
  static List<String> deviceLabels(String label) {
    return env.tailnet().devices().stream().map(FakeDevice::dnsLabel)
        .filter(l -> l.equals(label) || l.matches(java.util.regex.Pattern.quote(label) + "-\\d+")).sorted().toList();
  }

  static Event awaitEvent(HasMetadata obj, String reason) {
    await().atMost(Duration.ofSeconds(60)).until(() -> env.event(obj, reason).isPresent());
    return env.event(obj, reason).orElseThrow();
  }

  static void awaitNoProxy(String type, String ns, String name) {
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(env.statefulSets(type, ns, name)).as("StatefulSets of %s %s/%s", type, ns, name).isEmpty();
      assertThat(env.secrets(type, ns, name)).as("Secrets of %s %s/%s", type, ns, name).isEmpty();
    });
  }

  static String exposed(String ns, String name, String hostname) {
    return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\n  namespace: " + ns + "\n  annotations:\n"
        + "    tailscale.com/expose: \"true\"\n    tailscale.com/hostname: " + hostname + "\nspec:\n  selector: {app: "
        + name + "}\n  ports: [{port: 80}]\n";
  }

  // ------------------------------------------------------------------------------------------------ 1

  /**
   * Two Services in different namespaces ask for the same hostname in one multi-document {@code kubectl apply}: one
   * device {@code web}, never {@code web-1}; the loser has no proxy and says who holds the name; the outcome follows
   * the documented order (creation second, then kind, namespace, name) and holds on later reconciles; the loser is
   * served as soon as the winner lets go. The same between an Ingress and a Service, and for a parent that had a proxy
   * before an older parent took the name.
   */
  @Test
  void item1HostnameRace() {
    env.createNamespace("race-a");
    env.createNamespace("race-b");
    // The manifest lists race-b first: its reconcile tends to run before the cache shows race-a.
    kubectlApply(exposed("race-b", "web", "race-web") + "---\n" + exposed("race-a", "web", "race-web"));
    Service a = svc("race-a", "web");
    Service b = svc("race-b", "web");
    HostnameClaims.Claim ca = new HostnameClaims.Claim("Service", "race-a", "web", a.getMetadata().getUid(),
        HostnameClaims.created(a.getMetadata().getCreationTimestamp()));
    HostnameClaims.Claim cb = new HostnameClaims.Claim("Service", "race-b", "web", b.getMetadata().getUid(),
        HostnameClaims.created(b.getMetadata().getCreationTimestamp()));
    String winner = HostnameClaims.ORDER.compare(ca, cb) < 0 ? "race-a" : "race-b";
    String loser = winner.equals("race-a") ? "race-b" : "race-a";

    Condition ready = awaitCondition(winner, "web", "True", "ProxyCreated");
    assertThat(ready.getMessage()).contains("race-web.");
    Condition conflict = awaitCondition(loser, "web", "False", "HostnameConflict");
    assertThat(conflict.getMessage()).isEqualTo("hostname race-web is already used by Service " + winner
        + "/web; set a different tailscale.com/hostname annotation");
    awaitNoProxy("svc", loser, "web");
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(deviceLabels("race-web"))
        .containsExactly("race-web"));
    FakeDevice device = devices("race-web").get(0);
    assertThat(env.secrets("svc", winner, "web").get(0).getMetadata().getAnnotations())
        .containsEntry("tailscale.com/device-id", device.nodeId());
    assertThat(svc(loser, "web").getMetadata().getFinalizers()).isNullOrEmpty();

    // Later reconciles (a change to each Service) keep it so.
    for (String ns : List.of("race-a", "race-b")) {
      env.client().services().inNamespace(ns).withName("web").edit(s -> {
        s.getMetadata().getAnnotations().put("example.com/touched", "1");
        return s;
      });
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> env.events(svc(loser, "web")).stream()
        .anyMatch(e -> "HostnameConflict".equals(e.getReason())));
    assertThat(condition(winner, "web").orElseThrow().getStatus()).isEqualTo("True");
    assertThat(condition(loser, "web").orElseThrow().getReason()).isEqualTo("HostnameConflict");
    assertThat(deviceLabels("race-web")).containsExactly("race-web");

    // The winner lets go: the loser gets the name at once (not after the 5-minute recheck), with the plain name.
    env.client().services().inNamespace(winner).withName("web").delete();
    Condition now = awaitCondition(loser, "web", "True", "ProxyCreated");
    assertThat(now.getMessage()).contains("race-web.");
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(deviceLabels("race-web"))
        .containsExactly("race-web"));
    assertThat(devices("race-web").get(0).nodeId()).isNotEqualTo(device.nodeId());

    // A Service that had a proxy loses it, and its device, when an older Service asks for its name; the older one
    // then gets the plain name (not race-old-1).
    env.createNamespace("race-c");
    env.client().resource(clusterIp("race-c", "first", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "race-older"))).create();
    awaitCondition("race-c", "first", "True", "ProxyCreated");
    env.client().resource(clusterIp("race-c", "second", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "race-taken"))).create();
    awaitCondition("race-c", "second", "True", "ProxyCreated");
    String newerDevice = devices("race-taken").get(0).nodeId();
    env.client().services().inNamespace("race-c").withName("first").edit(s -> {
      s.getMetadata().getAnnotations().put("tailscale.com/hostname", "race-taken");
      return s;
    });
    awaitCondition("race-c", "second", "False", "HostnameConflict");
    awaitNoProxy("svc", "race-c", "second");
    assertThat(env.tailnet().device(newerDevice)).as("the loser's device").isEmpty();
    assertThat(awaitEvent(svc("race-c", "second"), "ProxyRemoved").getMessage()).isEqualTo(
        "removed the tailnet proxy: hostname race-taken belongs to Service race-c/first, which asked for it first");
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(deviceLabels("race-taken")).containsExactly("race-taken");
      assertThat(condition("race-c", "first").orElseThrow().getMessage()).contains("race-taken.");
    });
    assertThat(deviceLabels("race-older")).isEmpty();

    // Ingress <-> Service: the Ingress waits with HostnameConflict and is served as soon as the Service goes.
    env.createNamespace("race-ing");
    env.backendService("race-ing", "backend", 80);
    env.client().resource(clusterIp("race-ing", "holder", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "race-shared"))).create();
    awaitCondition("race-ing", "holder", "True", "ProxyCreated");
    Ingress ingress = env.client().resource(Serialization.unmarshal("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: app, namespace: race-ing}
        spec:
          ingressClassName: tailscale
          tls: [{hosts: [race-shared.example.com]}]
          defaultBackend: {service: {name: backend, port: {number: 80}}}
        """, Ingress.class)).create();
    assertThat(awaitEvent(ingress, "HostnameConflict").getMessage()).isEqualTo("hostname race-shared is already used "
        + "by Service race-ing/holder; use a different first label in spec.tls[0].hosts[0]");
    assertThat(env.statefulSets("ingress", "race-ing", "app")).isEmpty();
    env.client().services().inNamespace("race-ing").withName("holder").delete();
    await().atMost(Duration.ofSeconds(60)).until(() -> ing("race-ing", "app").getStatus() != null
        && ing("race-ing", "app").getStatus().getLoadBalancer() != null
        && ing("race-ing", "app").getStatus().getLoadBalancer().getIngress() != null
        && !ing("race-ing", "app").getStatus().getLoadBalancer().getIngress().isEmpty());
    assertThat(ing("race-ing", "app").getStatus().getLoadBalancer().getIngress().get(0).getHostname())
        .startsWith("race-shared.");
    assertThat(deviceLabels("race-shared")).containsExactly("race-shared");
  }

  // ------------------------------------------------------------------------------------------------ 2

  /**
   * An Ingress named like a domain (a valid name) is served; its objects have valid names, equal to upstream's where
   * upstream's are valid; the default hostname is derived and the event says where it came from. A Service whose
   * default hostname would be too long is served too, and an Ingress name too long for a label value.
   */
  @Test
  void item2NamesDerivedFromParents() {
    env.createNamespace("names");
    env.backendService("names", "grafana", 3000);
    Ingress dotted = env.client().resource(Serialization.unmarshal("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: grafana.example.com, namespace: names}
        spec:
          ingressClassName: tailscale
          defaultBackend: {service: {name: grafana, port: {number: 3000}}}
        """, Ingress.class)).create();
    String sts = env.awaitProxy("ingress", "names", "grafana.example.com");
    assertThat(sts).matches("ts-grafana-example-com-[a-z0-9]{5}");
    assertThat(env.client().services().inNamespace(OperatorEnvironment.NAMESPACE).withName(sts).get()).isNotNull();
    assertThat(env.tailscaledConfig(sts)).contains("\"Hostname\":\"names-grafana-example-com-ingress\"");
    assertThat(awaitEvent(dotted, "DefaultHostnameAdjusted").getMessage()).isEqualTo("the default hostname "
        + "\"names-grafana.example.com-ingress\" (from the Ingress's namespace and name, as it has no "
        + "spec.tls[0].hosts[0]) is not a valid DNS label (\"names-grafana.example.com-ingress\" is not a valid DNS "
        + "label: contains invalid character \".\"), so the proxy uses \"names-grafana-example-com-ingress\"; set "
        + "spec.tls[0].hosts[0] to choose another");
    awaitEvent(dotted, "ProxyReady");
    assertThat(deviceLabels("names-grafana-example-com-ingress")).hasSize(1);

    // A name of 100 characters: too long for a label value; the objects carry a shortened form and map back.
    String longName = "very-long-application-name." + "x".repeat(60) + ".example.com";
    Ingress longIngress = env.client().resource(Serialization.unmarshal("apiVersion: networking.k8s.io/v1\n"
        + "kind: Ingress\nmetadata: {name: " + longName + ", namespace: names}\nspec:\n  ingressClassName: tailscale\n"
        + "  tls: [{hosts: [long-app.example.com]}]\n  defaultBackend: {service: {name: grafana, port: {number: "
        + "3000}}}\n", Ingress.class)).create();
    awaitEvent(longIngress, "ProxyReady");
    String labelValue = io.tailops.operator.proxy.DerivedNames.labelValue(longName);
    assertThat(labelValue).hasSizeLessThanOrEqualTo(63).isNotEqualTo(longName);
    assertThat(env.statefulSets("ingress", "names", labelValue)).hasSize(1);
    // ... and its proxy goes with it.
    env.client().resource(longIngress).delete();
    awaitNoProxy("ingress", "names", labelValue);

    // A Service whose <namespace>-<name> is longer than 63 characters (upstream refuses it).
    String svcName = "s".repeat(60);
    env.client().resource(clusterIp("names", svcName, Map.of("tailscale.com/expose", "true"))).create();
    Condition ready = awaitCondition("names", svcName, "True", "ProxyCreated");
    String hostname = io.tailops.operator.proxy.DerivedNames.hostname("names-" + svcName, "", "").hostname();
    assertThat(hostname).hasSize(63);
    assertThat(ready.getMessage()).contains(hostname + ".");
    assertThat(awaitEvent(svc("names", svcName), "DefaultHostnameAdjusted").getMessage()).startsWith(
        "the default hostname \"names-" + svcName + "\" (from the Service's namespace and name) is not a valid DNS "
        + "label");
  }

  // ------------------------------------------------------------------------------------------------ 3

  /**
   * The seed guide's fix for a logged-out proxy, deleting its Secret by hand, no longer leaks a device: the old device
   * (remembered in the registry ConfigMap) is deleted, the new one gets the name, not name-1, and nothing is left
   * once the Service is gone. The same when the Secret is deleted while the operator is down and the Service after.
   */
  @Test
  void item3DeletingTheProxySecretByHandLeaksNoDevice() {
    env.createNamespace("leak");
    env.client().resource(clusterIp("leak", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "leak-web"))).create();
    awaitCondition("leak", "web", "True", "ProxyCreated");
    String sts = env.awaitProxy("svc", "leak", "web");
    String first = devices("leak-web").get(0).nodeId();
    await().atMost(Duration.ofSeconds(30)).until(() -> registry().containsKey(first));
    assertThat(registry().get(first)).isEqualTo(sts + "-0 svc/leak/web leak-web");

    env.kube().kubectl("delete", "secret", "-n", OperatorEnvironment.NAMESPACE, sts + "-0");
    Event recreated = awaitEvent(svc("leak", "web"), "ProxySecretRecreated");
    assertThat(recreated.getMessage()).isEqualTo("the proxy Secret tailscale/" + sts + "-0 was deleted: the "
        + "operator created it again with a new auth key, deleted the proxy's previous device [" + first
        + " (leak-web)] so that the new one gets the name leak-web, and restarted the proxy");
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(deviceLabels("leak-web")).containsExactly("leak-web");
      assertThat(devices("leak-web").get(0).nodeId()).isNotEqualTo(first);
      assertThat(condition("leak", "web").orElseThrow().getStatus()).isEqualTo("True");
    });
    assertThat(env.tailnet().device(first)).isEmpty();
    String second = devices("leak-web").get(0).nodeId();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(registry()).containsKey(second)
        .doesNotContainKey(first));

    // The Secret deleted while the operator is down, then the Service: both devices' fate is known, nothing is left.
    env.stopOperator();
    env.kube().kubectl("delete", "secret", "-n", OperatorEnvironment.NAMESPACE, sts + "-0");
    env.client().services().inNamespace("leak").withName("web").delete();
    env.startOperator();
    await().atMost(Duration.ofSeconds(60)).until(() -> svc("leak", "web") == null);
    assertThat(env.tailnet().device(second)).as("the device of the deleted Secret").isEmpty();
    assertThat(deviceLabels("leak-web")).isEmpty();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(registry()).doesNotContainKey(second));
  }

  // ------------------------------------------------------------------------------------------------ 4

  /**
   * Parents force-deleted while the operator is down (finalizer removed by hand): at start-up the operator removes
   * their proxies' StatefulSets, Secrets, Services and devices, for a Service and an Ingress alike.
   */
  @Test
  void item4ParentlessProxiesAreRemovedDeviceIncluded() {
    env.createNamespace("orphan");
    env.backendService("orphan", "backend", 80);
    env.client().resource(clusterIp("orphan", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "orphan-web"))).create();
    Ingress site = env.client().resource(Serialization.unmarshal("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: site, namespace: orphan}
        spec:
          ingressClassName: tailscale
          tls: [{hosts: [orphan-site]}]
          defaultBackend: {service: {name: backend, port: {number: 80}}}
        """, Ingress.class)).create();
    awaitCondition("orphan", "web", "True", "ProxyCreated");
    awaitEvent(site, "ProxyReady");
    String webDevice = devices("orphan-web").get(0).nodeId();
    String siteDevice = devices("orphan-site").get(0).nodeId();
    String webProxy = env.awaitProxy("svc", "orphan", "web");

    env.stopOperator();
    for (String kind : List.of("service/web", "ingress/site")) {
      env.kube().kubectl("patch", "-n", "orphan", kind, "--type=merge", "-p", "{\"metadata\":{\"finalizers\":null}}");
      env.kube().kubectl("delete", "-n", "orphan", kind, "--wait=true");
    }
    assertThat(env.statefulSets("svc", "orphan", "web")).hasSize(1);
    env.startOperator();

    awaitNoProxy("svc", "orphan", "web");
    awaitNoProxy("ingress", "orphan", "site");
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(env.tailnet().device(webDevice)).isEmpty();
      assertThat(env.tailnet().device(siteDevice)).isEmpty();
      assertThat(env.client().services().inNamespace(OperatorEnvironment.NAMESPACE).withName(webProxy).get())
          .isNull();
      assertThat(registry()).doesNotContainKeys(webDevice, siteDevice);
    });
  }

  static Map<String, String> registry() {
    var cm = env.client().configMaps().inNamespace(OperatorEnvironment.NAMESPACE)
        .withName(io.tailops.operator.proxy.DeviceRegistry.CONFIG_MAP).get();
    return cm == null || cm.getData() == null ? Map.of() : cm.getData();
  }

  static Comparator<FakeDevice> byName() {
    return Comparator.comparing(FakeDevice::dnsLabel);
  }
}
