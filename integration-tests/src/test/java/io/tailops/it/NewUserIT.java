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
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.tailscale.CredentialSource;
import io.tailops.controlplane.tailscale.RetryPolicy;
import io.tailops.controlplane.tailscale.TailscaleApiClient;
import io.tailops.local.OperatorEnvironment;
import io.tailops.operator.doctor.Doctor;
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
      Conflicts.retry(() -> env.client().services().inNamespace(ns).withName("web").edit(s -> {
        s.getMetadata().getAnnotations().put("example.com/touched", "1");
        return s;
      }));
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
    Conflicts.retry(() -> env.client().services().inNamespace("race-c").withName("first").edit(s -> {
      s.getMetadata().getAnnotations().put("tailscale.com/hostname", "race-taken");
      return s;
    }));
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
    // The Service must be older by the API server's second (same clock as this machine's): within one second the
    // documented order puts the Ingress kind first.
    var holderCreated = HostnameClaims.created(svc("race-ing", "holder").getMetadata().getCreationTimestamp());
    await().atMost(Duration.ofSeconds(5)).until(() -> java.time.Instant.now().getEpochSecond()
        > holderCreated.getEpochSecond());
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

  // ------------------------------------------------------------------------------------------------ 5

  /** Doctor as the user runs it (the command), against the fake tailnet. */
  static List<Doctor.Check> doctor() {
    ControlPlane cp = TailscaleApiClient.builder(CredentialSource.fromFiles(env.dir().resolve("client_id"),
            env.dir().resolve("client_secret")))
        .loginServer(env.tailnet().baseUrl()).retryPolicy(RetryPolicy.noRetries()).build();
    return io.tailops.operator.runtime.DoctorChecks.doctor(env.config(), env.client(), cp, false).run();
  }

  /** Doctor's check {@code name} once it has it (the operator publishes what it found within a second or so). */
  static Doctor.Check awaitDoctorCheck(String name) {
    await().atMost(Duration.ofSeconds(30)).until(() -> doctor().stream().anyMatch(c -> c.name().equals(name)));
    return doctor().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
  }

  /** The Warning events of {@code obj} with {@code reason}, once there is one. */
  static List<Event> awaitWarnings(HasMetadata obj, String reason) {
    await().atMost(Duration.ofSeconds(60)).until(() -> env.event(obj, reason).isPresent());
    return env.events(obj).stream().filter(e -> reason.equals(e.getReason())).toList();
  }

  static String statusPage() throws Exception {
    return java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
        "http://127.0.0.1:" + env.operator().adminPort() + "/status")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
  }

  /** A near miss: the object, the reason and message of its one Warning, and whether it is served nonetheless. */
  record NearMiss(HasMetadata object, String reason, String message, boolean served) {
  }

  /**
   * Inputs that mean yes to a human but are not the accepted form: each gets exactly one Warning event naming the
   * accepted form, the operator acts on none of them (no proxy, no key, no finalizer; an Ingress of our class is served
   * as if the ignored annotation were absent), and doctor and the status page list each.
   */
  @Test
  void item5NearMissesAreToldNotGuessed() throws Exception {
    env.createNamespace("near");
    env.backendService("near", "backend", 80);
    int keys = env.tailnet().keys().size();
    kubectlApply("""
        apiVersion: v1
        kind: Service
        metadata: {name: capital, namespace: near, annotations: {tailscale.com/expose: "True"}}
        spec: {selector: {app: x}, ports: [{port: 80}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: expose-yes, namespace: near, annotations: {tailscale.com/expose: "yes"}}
        spec: {selector: {app: x}, ports: [{port: 80}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: misspelt, namespace: near, annotations: {tailscale.com/exposed: "true"}}
        spec: {selector: {app: x}, ports: [{port: 80}]}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: lb-case, namespace: near}
        spec: {type: LoadBalancer, loadBalancerClass: Tailscale, selector: {app: x}, ports: [{port: 80}]}
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: funnel-yes, namespace: near, annotations: {tailscale.com/funnel: "yes"}}
        spec:
          ingressClassName: tailscale
          tls: [{hosts: [near-funnel]}]
          defaultBackend: {service: {name: backend, port: {number: 80}}}
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: legacy-class, namespace: near, annotations: {kubernetes.io/ingress.class: tailscale}}
        spec:
          tls: [{hosts: [near-class]}]
          defaultBackend: {service: {name: backend, port: {number: 80}}}
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: svc-annotation, namespace: near, annotations: {tailscale.com/hostname: near-named}}
        spec:
          ingressClassName: tailscale
          tls: [{hosts: [near-tls]}]
          defaultBackend: {service: {name: backend, port: {number: 80}}}
        """);
    String yesForm = "; the accepted values are \"true\" and \"false\" (lower case, quoted in YAML: ";
    List<NearMiss> cases = List.of(
        new NearMiss(svc("near", "capital"), "AnnotationValueIgnored", "tailscale.com/expose: \"True\" is not "
            + "\"true\", so the Service is not exposed" + yesForm + "tailscale.com/expose: \"true\")", false),
        new NearMiss(svc("near", "expose-yes"), "AnnotationValueIgnored", "tailscale.com/expose: \"yes\" is not \"true\", so "
            + "the Service is not exposed" + yesForm + "tailscale.com/expose: \"true\")", false),
        new NearMiss(svc("near", "misspelt"), "AnnotationIgnored", "unknown annotation tailscale.com/exposed, ignored; "
            + "did you mean tailscale.com/expose?", false),
        new NearMiss(svc("near", "lb-case"), "ClassIgnored", "spec.loadBalancerClass \"Tailscale\" is not "
            + "\"tailscale\" (class names are case-sensitive), so this operator does not serve the LoadBalancer (the "
            + "class cannot be changed once set: recreate the Service); use spec.loadBalancerClass: tailscale", false),
        new NearMiss(ing("near", "legacy-class"), "ClassIgnored", "the annotation kubernetes.io/ingress.class: "
            + "tailscale is deprecated and not read (neither by the official operator), so this operator does not serve "
            + "the Ingress; use spec.ingressClassName: tailscale", false),
        new NearMiss(ing("near", "funnel-yes"), "AnnotationValueIgnored", "tailscale.com/funnel: \"yes\" is not "
            + "\"true\", so the Ingress is not published through Funnel" + yesForm + "tailscale.com/funnel: \"true\")",
            true),
        new NearMiss(ing("near", "svc-annotation"), "AnnotationIgnored", "tailscale.com/hostname is read on Services "
            + "only; this Ingress ignores it: an Ingress's tailnet hostname is the first label of "
            + "spec.tls[0].hosts[0] (set spec.tls: [{hosts: [<hostname>]}])", true));
    for (NearMiss c : cases) {
      String who = c.object().getKind() + " " + c.object().getMetadata().getName();
      List<Event> warnings = awaitWarnings(c.object(), c.reason());
      assertThat(warnings).as(who).singleElement().satisfies(e -> {
        assertThat(e.getType()).isEqualTo("Warning");
        assertThat(e.getMessage()).isEqualTo(c.message());
      });
      String type = c.object() instanceof Service ? "svc" : "ingress";
      if (c.served()) {
        awaitEvent(c.object(), "ProxyReady");
        assertThat(env.statefulSets(type, "near", c.object().getMetadata().getName())).as(who).hasSize(1);
      } else {
        String name = c.object().getMetadata().getName();
        HasMetadata now = c.object() instanceof Service ? svc("near", name) : ing("near", name);
        if (now instanceof Service s) {
          assertThat(ServiceExposeIT.ready(s)).as(who + " condition").isEmpty();
          assertThat(s.getStatus().getLoadBalancer().getIngress()).as(who + " load balancer").isNullOrEmpty();
        } else {
          Ingress i = (Ingress) now;
          assertThat(i.getStatus() == null || i.getStatus().getLoadBalancer() == null
              || i.getStatus().getLoadBalancer().getIngress() == null
              || i.getStatus().getLoadBalancer().getIngress().isEmpty()).as(who + " load balancer").isTrue();
        }
        assertThat(now.getMetadata().getFinalizers()).as(who + " finalizers").isNullOrEmpty();
        assertThat(env.statefulSets(type, "near", name)).as(who).isEmpty();
        assertThat(env.secrets(type, "near", name)).as(who).isEmpty();
      }
      Doctor.Check check = awaitDoctorCheck(c.object().getKind().toLowerCase(java.util.Locale.ROOT) + " near/"
          + c.object().getMetadata().getName());
      assertThat(check.status()).as(who).isEqualTo(Doctor.Status.WARN);
      assertThat(check.detail()).as(who).isEqualTo((c.served() ? "ready, but: " : "ignored: ") + c.reason() + ": "
          + c.message());
    }
    // Served without the guess: the Funnel Ingress is on the tailnet only, the other one is named by its TLS host.
    assertThat(env.tailscaledConfig(env.awaitProxy("ingress", "near", "funnel-yes"))).doesNotContain("AllowFunnel");
    assertThat(deviceLabels("near-tls")).hasSize(1);
    assertThat(deviceLabels("near-named")).isEmpty();
    assertThat(env.tailnet().keys()).as("keys minted: the two served Ingresses only").hasSize(keys + 2);
    assertThat(statusPage()).contains("near/capital").contains("near/lb-case").contains("ignored")
        .contains("AnnotationIgnored").contains("near/funnel-yes");

    // Later reconciles (a change to the object) tell it no second time; the fix is taken at once.
    Conflicts.retry(() -> env.client().services().inNamespace("near").withName("expose-yes").edit(s -> {
      s.getMetadata().getAnnotations().put("example.com/touched", "1");
      return s;
    }));
    Conflicts.retry(() -> env.client().services().inNamespace("near").withName("capital").edit(s -> {
      s.getMetadata().getAnnotations().put("tailscale.com/expose", "true");
      return s;
    }));
    awaitCondition("near", "capital", "True", "ProxyCreated");
    assertThat(env.events(svc("near", "expose-yes"))).filteredOn(e -> "AnnotationValueIgnored".equals(e.getReason()))
        .singleElement().satisfies(e -> assertThat(e.getCount()).isEqualTo(1));
    await().atMost(Duration.ofSeconds(30)).until(() -> doctor().stream()
        .noneMatch(c -> c.name().equals("service near/capital")));
  }

  // ------------------------------------------------------------------------------------------------ 6

  /**
   * The seed's {@code prod} class sets {@code TS_EXTRA_ARGS=--advertise-tags=...} on the init container, which reads
   * no environment: the class stays valid (as upstream) but says so in its condition message and a Warning event, its
   * users get a Warning naming where tags come from, doctor lists it, and the devices keep the operator's tags. A
   * variable that breaks containerboot on the tailscale container is told the same way.
   */
  @Test
  void item6AProxyClassSettingThatDoesNothingIsTold() {
    kubectlApply("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyClass
        metadata: {name: seed-prod}
        spec:
          statefulSet:
            pod:
              tailscaleInitContainer:
                env:
                  - {name: TS_EXTRA_ARGS, value: "--advertise-tags=tag:prod"}
        ---
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyClass
        metadata: {name: seed-hostname}
        spec:
          statefulSet:
            pod:
              tailscaleContainer:
                env:
                  - {name: TS_HOSTNAME, value: "my-proxy"}
        """);
    String tags = "a proxy's tags come from the tailscale.com/tags annotation of its Service or Ingress, else the "
        + "operator's PROXY_TAGS (chart value proxyConfig.defaultTags): the operator mints the proxy's auth key with "
        + "them";
    String initFinding = "spec.statefulSet.pod.tailscaleInitContainer.env [TS_EXTRA_ARGS] has no effect: the init "
        + "container (sysctler) only runs sysctl to enable IP forwarding and reads no environment variables "
        + "(userspace Ingress proxies have no init container at all); containerboot's TS_* variables are read by the "
        + "tailscale container (spec.statefulSet.pod.tailscaleContainer.env); and " + tags;
    String hostnameFinding = "spec.statefulSet.pod.tailscaleContainer.env TS_HOSTNAME breaks the proxy: the operator "
        + "configures it through a tailscaled config file (TS_EXPERIMENTAL_VERSIONED_CONFIG_DIR), and containerboot "
        + "refuses to start with TS_HOSTNAME set next to one, so the proxy crash-loops; remove it";
    for (String[] c : new String[][] {{"seed-prod", initFinding}, {"seed-hostname", hostnameFinding}}) {
      var pc = env.client().resources(io.tailops.api.v1alpha1.ProxyClass.class).withName(c[0]);
      await().atMost(Duration.ofSeconds(60)).until(() -> pc.get().getStatus() != null
          && pc.get().getStatus().getConditions() != null && !pc.get().getStatus().getConditions().isEmpty());
      Condition ready = pc.get().getStatus().getConditions().get(0);
      assertThat(ready.getType()).isEqualTo("ProxyClassReady");
      assertThat(ready.getStatus()).as(c[0]).isEqualTo("True");
      assertThat(ready.getMessage()).as(c[0]).isEqualTo("ProxyClassValid, but: " + c[1]);
      assertThat(awaitWarnings(pc.get(), "ProxyClassSettingIgnored")).as(c[0]).singleElement()
          .satisfies(e -> assertThat(e.getMessage()).isEqualTo(c[1]));
      Doctor.Check check = doctor().stream().filter(x -> x.name().equals("proxyclass " + c[0])).findFirst()
          .orElseThrow();
      assertThat(check.status()).isEqualTo(Doctor.Status.WARN);
      assertThat(check.detail()).isEqualTo(c[1]);
    }

    // The guide's Service with the class: served, tagged as the operator's default, and told why.
    env.createNamespace("seed-prod");
    env.client().resource(clusterIp("seed-prod", "my-service", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "seed-prod", "tailscale.com/proxy-class", "seed-prod"))).create();
    awaitCondition("seed-prod", "my-service", "True", "ProxyCreated");
    assertThat(awaitWarnings(svc("seed-prod", "my-service"), "ProxyClassSettingIgnored")).singleElement()
        .satisfies(e -> assertThat(e.getMessage()).isEqualTo("ProxyClass seed-prod: " + initFinding));
    await().atMost(Duration.ofSeconds(60)).until(() -> devices("seed-prod").size() == 1);
    assertThat(devices("seed-prod").get(0).tags()).containsExactly("tag:k8s");
    Doctor.Check user = awaitDoctorCheck("service seed-prod/my-service");
    assertThat(user.status()).isEqualTo(Doctor.Status.WARN);
    assertThat(user.detail()).isEqualTo("ready, but: ProxyClassSettingIgnored: ProxyClass seed-prod: " + initFinding);
  }

  // ------------------------------------------------------------------------------------------------ 7

  static Service funnelService(String ns, String name) {
    return env.client().resource(new io.fabric8.kubernetes.api.model.ServiceBuilder().withNewMetadata()
        .withNamespace(ns).withName(name).addToAnnotations("tailscale.com/hostname", name)
        .addToAnnotations("tailscale.com/funnel", "true").endMetadata().withNewSpec().withType("LoadBalancer")
        .withLoadBalancerClass("tailscale").addToSelector("app", name).addNewPort().withPort(443)
        .withNewTargetPort(8080).endPort().endSpec().build()).create();
  }

  /**
   * Funnel is claimed only when the operator knows it works: with credentials that cannot read the policy the status
   * says "Funnel requested; the tailnet policy is not readable" (and doctor warns how to check it); with a policy
   * that lacks the funnel attribute it says plainly that it is not public, with a Warning; with one that grants it,
   * public.
   */
  @Test
  void item7FunnelClaimsOnlyWhatIsKnown() {
    env.createNamespace("funnel");
    funnelService("funnel", "funnel-unknown");
    Condition unknown = awaitCondition("funnel", "funnel-unknown", "True", "ProxyCreated");
    assertThat(unknown.getMessage()).endsWith("; port 443: Funnel requested; the tailnet policy is not readable by "
        + "the operator, so whether https://funnel-unknown." + env.tailnet().tailnetDomain() + " is public is not "
        + "known (doctor's funnel check says how to let the operator read it)").doesNotContain("public through");
    Doctor.Check funnelCheck = awaitDoctorCheck("funnel");
    assertThat(funnelCheck.status()).isEqualTo(Doctor.Status.WARN);
    assertThat(funnelCheck.fix()).startsWith("give the OAuth client the policy_file:read scope");

    // Credentials that may read the policy, which does not grant funnel: said plainly.
    env.stopOperator();
    var withPolicy = env.tailnet().addOAuthClient(List.of(
        io.tailops.testkit.tailscale.FakeTailscaleApi.SCOPE_AUTH_KEYS,
        io.tailops.testkit.tailscale.FakeTailscaleApi.SCOPE_DEVICES_CORE,
        io.tailops.testkit.tailscale.FakeTailscaleApi.SCOPE_SERVICES,
        io.tailops.testkit.tailscale.FakeTailscaleApi.SCOPE_POLICY_READ), List.of("tag:k8s-operator"));
    env.writeCredentials(withPolicy.id(), withPolicy.secret());
    env.startOperator();
    Service denied = funnelService("funnel", "funnel-denied");
    Condition deniedCondition = awaitCondition("funnel", "funnel-denied", "True", "ProxyCreated");
    assertThat(deniedCondition.getMessage()).endsWith("; port 443: Funnel requested, but the tailnet policy does not "
        + "grant the funnel node attribute to the proxy's tags, so it is not public (see the FunnelNotPermitted "
        + "event)");
    assertThat(awaitWarnings(denied, "FunnelNotPermitted")).singleElement().satisfies(e -> assertThat(e.getMessage())
        .isEqualTo("the tailnet policy does not grant the \"funnel\" node attribute to [tag:k8s], so Funnel will be "
            + "refused with a permission error; add \"nodeAttrs\": [{\"target\": [\"tag:k8s\"], \"attr\": "
            + "[\"funnel\"]}] to the policy"));
    assertThat(awaitDoctorCheck("funnel").status()).isEqualTo(Doctor.Status.FAIL);

    // The policy grants it: public.
    env.tailnet().addNodeAttr(List.of("tag:k8s"), List.of("funnel"));
    funnelService("funnel", "funnel-granted");
    Condition granted = awaitCondition("funnel", "funnel-granted", "True", "ProxyCreated");
    assertThat(granted.getMessage()).endsWith("; port 443: public through Funnel at https://funnel-granted."
        + env.tailnet().tailnetDomain());
  }

  // ------------------------------------------------------------------------------------------------ 8

  /**
   * Ingresses the operator is asked to serve but that have no proxy at all (no valid backend, an invalid hostname)
   * fail in doctor, which no longer reports 0 failures, and are on the status page; once fixed they leave doctor.
   */
  @Test
  void item8DoctorListsUnservedParents() throws Exception {
    env.createNamespace("unserved");
    env.backendService("unserved", "present", 80);
    String label64 = "l".repeat(64);
    kubectlApply("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: no-backend, namespace: unserved}
        spec:
          ingressClassName: tailscale
          defaultBackend: {service: {name: missing, port: {number: 80}}}
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: bad-host, namespace: unserved}
        spec:
          ingressClassName: tailscale
          tls: [{hosts: [LABEL.example.com]}]
          defaultBackend: {service: {name: present, port: {number: 80}}}
        """.replace("LABEL", label64));
    Doctor.Check noBackend = awaitDoctorCheck("ingress unserved/no-backend");
    assertThat(noBackend.status()).isEqualTo(Doctor.Status.FAIL);
    assertThat(noBackend.detail()).isEqualTo("not served: ProxyInvalid: failed to get service \"missing\" for path "
        + "\"/\": services \"missing\" not found");
    assertThat(noBackend.fix()).isEqualTo("see its events: kubectl describe ingress -n unserved no-backend");
    Doctor.Check badHost = awaitDoctorCheck("ingress unserved/bad-host");
    assertThat(badHost.status()).isEqualTo(Doctor.Status.FAIL);
    assertThat(badHost.detail()).isEqualTo("not served: ProxyInvalid: invalid Tailscale hostname \"" + label64
        + "\" (the first label of spec.tls[0].hosts[0] \"" + label64 + ".example.com\"): \"" + label64 + "\" is too "
        + "long, max length is 63 bytes; use a TLS host whose first label is a valid DNS label (letters, digits and "
        + "'-', at most 63 characters)");
    assertThat(Doctor.failed(doctor())).isTrue();
    assertThat(env.statefulSets("ingress", "unserved", "no-backend")).isEmpty();
    assertThat(statusPage()).contains("unserved/no-backend").contains("unserved/bad-host").contains("ProxyInvalid");

    // Fixed: served, and out of doctor's list.
    env.backendService("unserved", "missing", 80);
    awaitEvent(ing("unserved", "no-backend"), "ProxyReady");
    await().atMost(Duration.ofSeconds(30)).until(() -> doctor().stream()
        .noneMatch(c -> c.name().equals("ingress unserved/no-backend")));
    assertThat(doctor().stream().filter(c -> c.name().equals("ingress unserved/bad-host")).findFirst().orElseThrow()
        .status()).isEqualTo(Doctor.Status.FAIL);
  }

  // ------------------------------------------------------------------------------------------------ 9

  /**
   * Backend errors name their cause: an Ingress whose backend is an ExternalName Service, and one naming a port the
   * Service does not have (the Warning lists the ports it has); neither gets a proxy, doctor says why; after the fix
   * the Ingress is served.
   */
  @Test
  void item9BackendErrorsNameTheCause() {
    env.createNamespace("backends");
    kubectlApply("""
        apiVersion: v1
        kind: Service
        metadata: {name: db, namespace: backends}
        spec: {type: ExternalName, externalName: db.example.com}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: web, namespace: backends}
        spec: {selector: {app: web}, ports: [{name: http, port: 8080}]}
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: external, namespace: backends}
        spec:
          ingressClassName: tailscale
          defaultBackend: {service: {name: db, port: {number: 80}}}
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: port-name, namespace: backends}
        spec:
          ingressClassName: tailscale
          defaultBackend: {service: {name: web, port: {name: web}}}
        """);
    String external = "backend for path \"/\" has invalid ClusterIP: Service \"db\" is of type ExternalName "
        + "(\"db.example.com\") and has no cluster IP; the proxy forwards to a Service's cluster IP: point the Ingress "
        + "at a Service of type ClusterIP";
    String portName = "backend for path \"/\" has invalid port: Service \"web\" has no port named \"web\" (its "
        + "ports: http (8080))";
    for (String[] c : new String[][] {{"external", external}, {"port-name", portName}}) {
      Ingress i = ing("backends", c[0]);
      assertThat(awaitWarnings(i, "InvalidIngressBackend")).as(c[0]).singleElement()
          .satisfies(e -> assertThat(e.getMessage()).isEqualTo(c[1]));
      assertThat(env.event(i, "NoValidBackends")).as(c[0]).isPresent();
      assertThat(env.statefulSets("ingress", "backends", c[0])).as(c[0]).isEmpty();
      assertThat(env.secrets("ingress", "backends", c[0])).as(c[0]).isEmpty();
      Doctor.Check check = awaitDoctorCheck("ingress backends/" + c[0]);
      assertThat(check.status()).isEqualTo(Doctor.Status.FAIL);
      assertThat(check.detail()).isEqualTo("not served: ProxyInvalid: " + c[1]);
    }
    // The fix the message names: the port's name.
    Conflicts.retry(() -> env.client().network().v1().ingresses().inNamespace("backends").withName("port-name").edit(i -> {
      i.getSpec().getDefaultBackend().getService().getPort().setName("http");
      return i;
    }));
    awaitEvent(ing("backends", "port-name"), "ProxyReady");
    assertThat(env.statefulSets("ingress", "backends", "port-name")).hasSize(1);
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
