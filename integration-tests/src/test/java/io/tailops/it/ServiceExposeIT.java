package io.tailops.it;

import io.tailops.local.OperatorEnvironment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LoadBalancerIngress;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.tailops.testkit.kube.AuditLog;
import io.tailops.testkit.tailscale.Endpoint;
import io.tailops.testkit.tailscale.FakeDevice;
import io.tailops.testkit.tailscale.Fault;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Methods 1 and 2 of the seed guide (expose annotation, LoadBalancer class tailscale) against the real API server,
 * the fake tailnet and the proxy simulator: the life of a proxy from creation to deletion, as a user sees it.
 */
class ServiceExposeIT {
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

  static Service clusterIp(String ns, String name, Map<String, String> annotations) {
    return new ServiceBuilder().withNewMetadata().withNamespace(ns).withName(name).withAnnotations(annotations)
        .endMetadata().withNewSpec().withType("ClusterIP").addToSelector("app", "my-app")
        .addNewPort().withPort(8080).endPort().endSpec().build();
  }

  static Service loadBalancer(String ns, String name, Map<String, String> annotations) {
    return new ServiceBuilder(clusterIp(ns, name, annotations)).editSpec().withType("LoadBalancer")
        .withLoadBalancerClass("tailscale").endSpec().build();
  }

  static Service get(String ns, String name) {
    return env.client().services().inNamespace(ns).withName(name).get();
  }

  static Optional<Condition> ready(Service svc) {
    if (svc == null || svc.getStatus() == null || svc.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return svc.getStatus().getConditions().stream().filter(c -> "TailscaleProxyReady".equals(c.getType()))
        .findFirst();
  }

  static Condition awaitCondition(String ns, String name, String status, String reason) {
    await().atMost(Duration.ofSeconds(60)).until(() -> ready(get(ns, name))
        .filter(c -> status.equals(c.getStatus()) && reason.equals(c.getReason())).isPresent());
    return ready(get(ns, name)).orElseThrow();
  }

  static FakeDevice device(String hostnameLabel) {
    return env.tailnet().devices().stream().filter(d -> d.dnsLabel().equals(hostnameLabel)).findFirst()
        .orElseThrow(() -> new AssertionError("no device " + hostnameLabel + " in " + env.tailnet().devices()));
  }

  static void assertNothingLeftFor(String ns, String name) {
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(env.statefulSets("svc", ns, name)).isEmpty();
      assertThat(env.secrets("svc", ns, name)).isEmpty();
      assertThat(env.client().services().inNamespace(OperatorEnvironment.NAMESPACE)
          .withLabel("tailscale.com/parent-resource", name).withLabel("tailscale.com/parent-resource-ns", ns).list()
          .getItems()).isEmpty();
    });
  }

  @Test
  void seedMethod1ExposedServiceGetsAProxyADeviceAndAReadyCondition() {
    env.createNamespace("method1");
    env.client().resource(clusterIp("method1", "my-service", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "my-service"))).create();
    String sts = env.awaitProxy("svc", "method1", "my-service");
    assertThat(sts).startsWith("ts-my-service-").hasSize("ts-my-service-".length() + 5);
    Condition ready = awaitCondition("method1", "my-service", "True", "ProxyCreated");
    Service svc = get("method1", "my-service");
    FakeDevice device = device("my-service");
    assertThat(ready.getMessage()).contains(device.name()).contains(device.ipv4());
    assertThat(svc.getMetadata().getFinalizers()).contains("tailscale.com/finalizer");
    assertThat(device.tags()).containsExactly("tag:k8s");
    StatefulSet set = env.client().apps().statefulSets().inNamespace("tailscale").withName(sts).get();
    assertThat(set.getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry("tailscale.com/operator-last-set-cluster-ip", svc.getSpec().getClusterIP());
    // The auth key is gone from the config once the device exists.
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(configOf(sts)).doesNotContain("AuthKey"));
    assertThat(env.event(svc, "ProxyReady")).isPresent();
  }

  static String configOf(String sts) {
    return env.tailscaledConfig(sts);
  }

  @Test
  void seedMethod2LoadBalancerShowsTheTailnetIpAsExternalIp() {
    env.createNamespace("method2");
    env.client().resource(loadBalancer("method2", "web", Map.of("tailscale.com/hostname", "web-lb"))).create();
    awaitCondition("method2", "web", "True", "ProxyCreated");
    FakeDevice device = device("web-lb");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      List<LoadBalancerIngress> ingress = get("method2", "web").getStatus().getLoadBalancer().getIngress();
      assertThat(ingress).extracting(LoadBalancerIngress::getHostname, LoadBalancerIngress::getIp)
          .containsExactly(org.assertj.core.groups.Tuple.tuple(device.name(), null),
              org.assertj.core.groups.Tuple.tuple(null, device.ipv4()));
    });
  }

  @Test
  void aServiceWithA63CharacterNameGetsAValidProxy() {
    env.createNamespace("longname");
    String name = "s" + "x".repeat(62);
    env.client().resource(clusterIp("longname", name, Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "long-one"))).create();
    String sts = env.awaitProxy("svc", "longname", name);
    assertThat(sts).hasSize(52);
    awaitCondition("longname", name, "True", "ProxyCreated");
    // The StatefulSet controller could create the pod: its name and revision label fit the limits.
    await().atMost(Duration.ofSeconds(30)).until(() -> env.client().pods().inNamespace("tailscale")
        .withName(sts + "-0").get() != null);
  }

  @Test
  void aHostnameChangeRenamesTheDeviceWithoutANewKey() {
    env.createNamespace("rename");
    env.client().resource(clusterIp("rename", "app", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "before"))).create();
    awaitCondition("rename", "app", "True", "ProxyCreated");
    String nodeId = device("before").nodeId();
    int keys = env.tailnet().keys().size();
    Conflicts.retry(() -> env.client().services().inNamespace("rename").withName("app")
        .edit(s -> new ServiceBuilder(s).editMetadata().addToAnnotations("tailscale.com/hostname", "after")
            .endMetadata().build()));
    await().atMost(Duration.ofSeconds(60)).until(() -> ready(get("rename", "app"))
        .map(c -> c.getMessage().contains("after.")).orElse(false));
    assertThat(device("after").nodeId()).isEqualTo(nodeId);
    assertThat(env.tailnet().keys()).hasSize(keys);
  }

  @Test
  void switchingBetweenLoadBalancerAndExposeReusesTheProxy() {
    env.createNamespace("switch");
    env.client().resource(loadBalancer("switch", "web", Map.of("tailscale.com/hostname", "switch-web"))).create();
    awaitCondition("switch", "web", "True", "ProxyCreated");
    await().atMost(Duration.ofSeconds(30)).until(() -> !get("switch", "web").getStatus().getLoadBalancer()
        .getIngress().isEmpty());
    String sts = env.statefulSets("svc", "switch", "web").get(0).getMetadata().getName();
    String nodeId = device("switch-web").nodeId();
    int keys = env.tailnet().keys().size();
    Conflicts.retry(() -> env.client().services().inNamespace("switch").withName("web").edit(s -> new ServiceBuilder(s).editMetadata()
        .addToAnnotations("tailscale.com/expose", "true").endMetadata().editSpec().withType("ClusterIP")
        .withLoadBalancerClass(null).endSpec().build()));
    await().atMost(Duration.ofSeconds(30)).until(() -> get("switch", "web").getStatus().getLoadBalancer()
        .getIngress().isEmpty());
    awaitCondition("switch", "web", "True", "ProxyCreated");
    assertThat(env.statefulSets("svc", "switch", "web")).extracting(s -> s.getMetadata().getName())
        .containsExactly(sts);
    assertThat(device("switch-web").nodeId()).isEqualTo(nodeId);
    assertThat(env.tailnet().keys()).hasSize(keys);
  }

  @Test
  void removingTheAnnotationRemovesTheProxyTheDeviceAndTheCondition() {
    env.createNamespace("unexpose");
    env.client().resource(loadBalancer("unexpose", "lb", Map.of("tailscale.com/hostname", "unexpose-lb"))).create();
    awaitCondition("unexpose", "lb", "True", "ProxyCreated");
    String nodeId = device("unexpose-lb").nodeId();
    Conflicts.retry(() -> env.client().services().inNamespace("unexpose").withName("lb")
        .edit(s -> new ServiceBuilder(s).editSpec().withLoadBalancerClass(null).withType("ClusterIP")
            .endSpec().build()));
    assertNothingLeftFor("unexpose", "lb");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Service svc = get("unexpose", "lb");
      assertThat(ready(svc)).isEmpty();
      assertThat(svc.getMetadata().getFinalizers()).doesNotContain("tailscale.com/finalizer");
      assertThat(env.tailnet().device(nodeId)).isEmpty();
    });
  }

  @Test
  void deletingTheServiceDeletesTheDeviceAndEveryObject() {
    env.createNamespace("delete");
    env.client().resource(clusterIp("delete", "gone", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "gone"))).create();
    awaitCondition("delete", "gone", "True", "ProxyCreated");
    String nodeId = device("gone").nodeId();
    env.client().services().inNamespace("delete").withName("gone").delete();
    await().atMost(Duration.ofSeconds(60)).until(() -> get("delete", "gone") == null);
    assertNothingLeftFor("delete", "gone");
    assertThat(env.tailnet().device(nodeId)).isEmpty();
    assertThat(env.tailnet().calls(Endpoint.DELETE_DEVICE)).isGreaterThanOrEqualTo(1);
  }

  @Test
  void aResyncOfAnUnchangedServiceMakesNoWritesAndNoControlPlaneCalls() {
    env.createNamespace("resync");
    env.client().resource(loadBalancer("resync", "steady", Map.of("tailscale.com/hostname", "steady"))).create();
    awaitCondition("resync", "steady", "True", "ProxyCreated");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(configOf(env.statefulSets("svc", "resync", "steady").get(0).getMetadata().getName()))
            .doesNotContain("AuthKey"));
    env.awaitCurrentVersionsReconciled(get("resync", "steady")); // the last write of the proxy is handled
    env.stopOperator();
    AuditLog.Mark mark = env.mark();
    env.tailnet().resetCallCounts();
    env.startOperator(); // a restart reconciles every Service from scratch
    // An irrelevant change triggers another reconcile of this Service.
    Service touched = Conflicts.retry(() -> env.client().services().inNamespace("resync").withName("steady")
        .edit(s -> new ServiceBuilder(s).editMetadata().addToLabels("touched", "yes").endMetadata().build()));
    env.awaitReconciled(touched);
    // ... and every other Service the operator watches (all but its own) has been reconciled since the restart.
    env.awaitCurrentVersionsReconciled(env.client().services().inAnyNamespace()
        .withLabelNotIn("tailscale.com/managed", "true").list().getItems().toArray(HasMetadata[]::new));
    // Besides leader election, the restarted operator publishes its own status ConfigMap (what it serves, since when):
    // its report, not a write the Service's resync made.
    var writes = env.operatorRequestsSince(mark).writes().filter(e -> !"leases".equals(e.resource())
        && !"tailscale-operator-status".equals(e.name()));
    assertThat(writes.list()).as(writes.summary()).isEmpty();
    // The only control-plane traffic after a restart is the operator's one credential check at start-up (a token and
    // GET /keys) and its key sweep (GET /keys, and GET /keys/{id} of keys no Secret holds: the earlier tests' deleted
    // proxies'); reconciling the unchanged Services calls nothing.
    assertThat(env.tailnet().callCounts()).as("calls").containsOnlyKeys(Endpoint.TOKEN, Endpoint.LIST_KEYS,
        Endpoint.GET_KEY);
  }

  @Test
  void twoServicesAskingForTheSameHostnameDoNotGetASuffixedDevice() {
    env.createNamespace("dup");
    env.client().resource(clusterIp("dup", "first", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "shared-name"))).create();
    awaitCondition("dup", "first", "True", "ProxyCreated");
    env.client().resource(clusterIp("dup", "second", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "shared-name"))).create();
    Condition c = awaitCondition("dup", "second", "False", "HostnameConflict");
    assertThat(c.getMessage()).isEqualTo("hostname shared-name is already used by Service dup/first; set a different "
        + "tailscale.com/hostname annotation");
    env.awaitCurrentVersionsReconciled(get("dup", "second"));
    assertThat(env.statefulSets("svc", "dup", "second")).isEmpty();
    assertThat(env.tailnet().devices()).noneMatch(d -> d.dnsLabel().startsWith("shared-name-"));
    await().atMost(Duration.ofSeconds(10)).until(() -> env.event(get("dup", "second"), "HostnameConflict")
        .isPresent());
    // When the first one goes away, the second takes the name.
    env.client().services().inNamespace("dup").withName("first").delete();
    awaitCondition("dup", "second", "True", "ProxyCreated");
    assertThat(device("shared-name")).isNotNull();
  }

  @Test
  void badInputIsExplainedAndCreatesNothing() {
    env.createNamespace("bad");
    record Case(String name, Service svc, String reason, String message, String event) {
    }
    List<Case> cases = List.of(
        new Case("bad-hostname", clusterIp("bad", "bad-hostname", Map.of("tailscale.com/expose", "true",
            "tailscale.com/hostname", "not_valid")), "ProxyInvalid", "unable to provision proxy resources: invalid "
            + "Service: invalid Tailscale hostname specified \"not_valid\": \"not_valid\" is not a valid DNS label: "
            + "contains invalid character \"_\"", "INVALIDSERVICE"),
        new Case("long-hostname", clusterIp("bad", "long-hostname", Map.of("tailscale.com/expose", "true",
            "tailscale.com/hostname", "h".repeat(64))), "ProxyInvalid", "unable to provision proxy resources: invalid "
            + "Service: invalid Tailscale hostname specified \"" + "h".repeat(64) + "\": \"" + "h".repeat(64)
            + "\" is too long, max length is 63 bytes", "INVALIDSERVICE"),
        new Case("bad-tag", clusterIp("bad", "bad-tag", Map.of("tailscale.com/expose", "true",
            "tailscale.com/tags", "k8s")), "ProxyInvalid", "unable to provision proxy resources: invalid Service: "
            + "invalid tag \"k8s\": tags must start with 'tag:'", "INVALIDSERVICE"),
        new Case("headless", new ServiceBuilder(clusterIp("bad", "headless", Map.of("tailscale.com/expose", "true")))
            .editSpec().withClusterIP("None").endSpec().build(), "ProxyInvalid", "unable to provision proxy "
            + "resources: invalid Service: headless Services are not supported.", "INVALIDSERVICE"),
        new Case("both-egress", clusterIp("bad", "both-egress", Map.of("tailscale.com/expose", "true",
            "tailscale.com/tailnet-ip", "100.64.0.9", "tailscale.com/tailnet-fqdn", "db.tailnet-abc.ts.net")),
            "ProxyInvalid", "unable to provision proxy resources: invalid Service: only one of annotations "
            + "tailscale.com/tailnet-ip and tailscale.com/tailnet-fqdn can be set", "INVALIDSERVICE"));
    int keysBefore = env.tailnet().keys().size();
    for (Case c : cases) {
      env.client().resource(c.svc()).create();
    }
    for (Case c : cases) {
      Condition cond = awaitCondition("bad", c.name(), "False", c.reason());
      assertThat(cond.getMessage()).as(c.name()).isEqualTo(c.message());
      await().atMost(Duration.ofSeconds(10)).until(() -> env.event(get("bad", c.name()), c.event()).isPresent());
      Event e = env.event(get("bad", c.name()), c.event()).orElseThrow();
      assertThat(e.getType()).isEqualTo("Warning");
      assertThat(e.getMessage()).isEqualTo(c.message());
      env.awaitCurrentVersionsReconciled(get("bad", c.name()));
      assertThat(env.statefulSets("svc", "bad", c.name())).as(c.name()).isEmpty();
      assertThat(env.secrets("svc", "bad", c.name())).as(c.name()).isEmpty();
      assertThat(get("bad", c.name()).getMetadata().getFinalizers()).as(c.name()).isNullOrEmpty();
    }
    assertThat(env.tailnet().keys()).hasSize(keysBefore);
  }

  @Test
  void exposeMustBeExactlyTrue() {
    env.createNamespace("notexact");
    env.awaitReconciled(
        env.client().resource(clusterIp("notexact", "yes", Map.of("tailscale.com/expose", "yes"))).create(),
        env.client().resource(clusterIp("notexact", "capital", Map.of("tailscale.com/expose", "True"))).create());
    for (String n : List.of("yes", "capital")) {
      Service svc = get("notexact", n);
      assertThat(ready(svc)).isEmpty();
      assertThat(svc.getMetadata().getFinalizers()).isNullOrEmpty();
      assertThat(env.statefulSets("svc", "notexact", n)).isEmpty();
    }
  }

  @Test
  void aTagTheOAuthClientMayNotUseIsExplained() {
    env.createNamespace("tags");
    env.client().resource(clusterIp("tags", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/tags", "tag:not-owned"))).create();
    Condition c = awaitCondition("tags", "web", "False", "ProxyFailed");
    assertThat(c.getMessage()).contains("requested tags [tag:not-owned] are invalid or not permitted")
        .contains("tagOwners");
    env.awaitCurrentVersionsReconciled(get("tags", "web"));
    assertThat(env.statefulSets("svc", "tags", "web")).isEmpty();
    await().atMost(Duration.ofSeconds(10)).until(() -> env.event(get("tags", "web"), "AuthKeyFailed").isPresent());
  }

  @Test
  void rateLimitsAndServerErrorsAreRetried() {
    env.createNamespace("retry");
    var fault429 = env.tailnet().inject(Fault.status(429).retryAfter("1")).on(Endpoint.CREATE_KEY)
        .times(2);
    env.client().resource(clusterIp("retry", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "retried"))).create();
    awaitCondition("retry", "web", "True", "ProxyCreated");
    assertThat(fault429.triggered()).isEqualTo(2);
    var fault500 = env.tailnet().inject(Fault.status(500)).on(Endpoint.CREATE_KEY).times(6);
    env.client().resource(clusterIp("retry", "web2", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "retried-2"))).create();
    awaitCondition("retry", "web2", "True", "ProxyCreated");
    assertThat(fault500.triggered()).isEqualTo(6);
    assertThat(env.tailnet().devices()).filteredOn(d -> d.dnsLabel().startsWith("retried")).hasSize(2);
  }
}
