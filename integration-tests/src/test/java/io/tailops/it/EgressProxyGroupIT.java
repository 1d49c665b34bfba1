package io.tailops.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.kube.AuditEvent;
import io.tailops.testkit.tailscale.FakeDevice;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Egress through a ProxyGroup (official {@code egress-services.go}, {@code egress-eps.go},
 * {@code egress-services-readiness.go}): an ExternalName Service naming an egress group and a tailnet target gets its
 * entry in the group's ConfigMap ({@code <pg>-egress-config}, key {@code egress-services}), a ClusterIP Service
 * {@code ts-<name>-xxxxx} in the operator namespace, an EndpointSlice listing the replica pods that report (in their
 * state Secret, as containerboot does; the proxy simulator plays it, and one test writes it by hand) that they route
 * it, and its {@code externalName} pointed at the ClusterIP Service, against the real API server under the chart's
 * RBAC. Two Services share a group; deleting one removes only its entry. Bad inputs (a group that does not exist, an
 * ingress group, no target, both targets) are said in the condition and an Event, with nothing else changed.
 */
class EgressProxyGroupIT {
  static final String NS = OperatorEnvironment.NAMESPACE;
  static final String APP = "pgegress";
  static final Duration WAIT = Duration.ofSeconds(120);
  static final ObjectMapper JSON = new ObjectMapper();
  static OperatorEnvironment env;
  static FakeDevice db;
  static FakeDevice cache;

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
          name: eg
        spec:
          type: egress
          replicas: 2
        """);
    create(ProxyGroup.class, """
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: ing
        spec:
          type: ingress
          replicas: 0
        """);
    db = env.tailnet().addForeignDevice("pg-db", List.of());
    cache = env.tailnet().addForeignDevice("pg-cache", List.of());
    await().atMost(WAIT).until(() -> env.client().resources(ProxyGroup.class).withName("eg").get(), p -> p != null
        && p.getStatus() != null && p.getStatus().getDevices() != null && p.getStatus().getDevices().size() == 2
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

  static Service egress(String name, String group, String targetAnnotations) {
    return create(Service.class, """
        apiVersion: v1
        kind: Service
        metadata:
          name: %s
          namespace: %s
          annotations:
            tailscale.com/proxy-group: %s
            %s
        spec:
          type: ExternalName
          externalName: placeholder
          ports:
          - {name: pg, port: 5432, protocol: TCP}
        """.formatted(name, APP, group, targetAnnotations));
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

  static JsonNode egressServices(String group) throws Exception {
    ConfigMap cm = env.client().configMaps().inNamespace(NS).withName(group + "-egress-config").get();
    String b64 = cm.getBinaryData() == null ? null : cm.getBinaryData().get("egress-services");
    return b64 == null ? JSON.createObjectNode() : JSON.readTree(Base64.getDecoder().decode(b64));
  }

  static List<Service> clusterIpServices(String name) {
    return env.client().services().inNamespace(NS).withLabel("tailscale.com/svc-type", "egress")
        .withLabel("tailscale.com/parent-resource", name).list().getItems();
  }

  static List<EndpointSlice> endpointSlices(String name) {
    return env.client().discovery().v1().endpointSlices().inNamespace(NS)
        .withLabel("tailscale.com/svc-type", "egress").withLabel("tailscale.com/parent-resource", name).list()
        .getItems();
  }

  static List<String> endpointAddresses(String name) {
    List<EndpointSlice> eps = endpointSlices(name);
    if (eps.size() != 1 || eps.get(0).getEndpoints() == null) {
      return List.of();
    }
    return eps.get(0).getEndpoints().stream().flatMap(e -> e.getAddresses().stream()).sorted().toList();
  }

  static String podIp(String pod) {
    Pod p = env.client().pods().inNamespace(NS).withName(pod).get();
    return p == null || p.getStatus() == null ? null : p.getStatus().getPodIP();
  }

  static Service awaitReady(String name, String message) {
    return await().atMost(WAIT).until(() -> svc(name), s -> condition(s, "TailscaleEgressSvcReady")
        .map(c -> "True".equals(c.getStatus()) && message.equals(c.getMessage())).orElse(false));
  }

  @Test
  void anEgressServiceIsServedByTheGroupAndFollowsItsReplicasStatus() throws Exception {
    egress("db", "eg", "tailscale.com/tailnet-fqdn: " + db.name());
    Service served = awaitReady("db", "2 out of 2 replicas are ready to route traffic");

    // Conditions, as the official operator sets them.
    assertThat(condition(served, "TailscaleEgressSvcValid").orElseThrow()).satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getReason()).isEqualTo("EgressSvcValid");
    });
    assertThat(condition(served, "TailscaleEgressSvcConfigured").orElseThrow()).satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getReason()).matches("ConfiguredFor:ProxyGroup:eg:Config:[0-9a-f]{64}");
    });
    assertThat(condition(served, "TailscaleEgressSvcReady").orElseThrow().getReason())
        .isEqualTo("ReadyToRouteTraffic");
    assertThat(served.getMetadata().getFinalizers()).contains("tailscale.com/finalizer");

    // The ClusterIP Service in the operator namespace: a container port per Service port, and the health check.
    Service clusterIp = clusterIpServices("db").get(0);
    assertThat(clusterIpServices("db")).hasSize(1);
    assertThat(clusterIp.getMetadata().getName()).startsWith("ts-db-");
    assertThat(clusterIp.getSpec().getType()).isEqualTo("ClusterIP");
    assertThat(clusterIp.getMetadata().getLabels()).containsEntry("tailscale.com/managed", "true")
        .containsEntry("tailscale.com/parent-resource-type", "svc")
        .containsEntry("tailscale.com/parent-resource-ns", APP).containsEntry("tailscale.com/proxy-group", "eg");
    assertThat(clusterIp.getSpec().getPorts()).hasSize(2);
    var pgPort = clusterIp.getSpec().getPorts().get(0);
    assertThat(pgPort.getName()).isEqualTo("pg");
    assertThat(pgPort.getPort()).isEqualTo(5432);
    int matchPort = pgPort.getTargetPort().getIntVal();
    assertThat(matchPort).isBetween(10000, 10999);
    assertThat(clusterIp.getSpec().getPorts().get(1)).satisfies(p -> {
      assertThat(p.getName()).isEqualTo("tailscale-health-check");
      assertThat(p.getPort()).isEqualTo(9002);
      assertThat(p.getTargetPort().getIntVal()).isEqualTo(9002);
    });

    // The user's Service points at it.
    String host = clusterIp.getMetadata().getName() + "." + NS + ".svc.cluster.local";
    assertThat(served.getSpec().getExternalName()).isEqualTo(host);

    // The group's ConfigMap entry, in the official format.
    JsonNode entry = egressServices("eg").path(APP + "-db");
    assertThat(entry.path("healthCheckEndpoint").asText()).isEqualTo("http://" + host + ":9002/healthz");
    assertThat(entry.path("tailnetTarget").path("fqdn").asText()).isEqualTo(db.name());
    assertThat(entry.path("tailnetTarget").path("ip").asText()).isEmpty();
    assertThat(entry.path("ports")).singleElement().satisfies(p -> {
      assertThat(p.path("protocol").asText()).isEqualTo("TCP");
      assertThat(p.path("matchPort").asInt()).isEqualTo(matchPort);
      assertThat(p.path("targetPort").asInt()).isEqualTo(5432);
    });
    ConfigMap cm = env.client().configMaps().inNamespace(NS).withName("eg-egress-config").get();
    assertThat(cm.getBinaryData()).containsKey("hep-pings");

    // The EndpointSlice: both replica pods, which report routing the entry.
    EndpointSlice eps = endpointSlices("db").get(0);
    assertThat(eps.getMetadata().getName()).isEqualTo(clusterIp.getMetadata().getName() + "-ipv4");
    assertThat(eps.getMetadata().getLabels()).containsEntry("kubernetes.io/service-name",
        clusterIp.getMetadata().getName()).containsEntry("endpointslice.kubernetes.io/managed-by", "tailscale.com");
    assertThat(eps.getAddressType()).isEqualTo("IPv4");
    assertThat(eps.getPorts()).extracting(p -> p.getPort()).containsExactly(matchPort, 9002);
    assertThat(endpointAddresses("db")).containsExactlyInAnyOrder(podIp("eg-0"), podIp("eg-1"));
    for (Endpoint e : eps.getEndpoints()) {
      assertThat(e.getConditions().getReady()).isTrue();
      assertThat(e.getConditions().getServing()).isTrue();
      assertThat(e.getConditions().getTerminating()).isFalse();
    }

    // A replica whose status no longer lists the service (containerboot written by hand while the simulator is
    // paused) leaves the EndpointSlice; listing it again brings it back.
    env.proxies().pause("eg");
    try {
      String status = new String(Base64.getDecoder().decode(env.client().secrets().inNamespace(NS).withName("eg-1")
          .get().getData().get("egress-services")), StandardCharsets.UTF_8);
      ObjectNode without = (ObjectNode) JSON.readTree(status);
      ((ObjectNode) without.path("services")).remove(APP + "-db");
      writeEgressStatus("eg-1", without.toString());
      await().atMost(WAIT).until(() -> endpointAddresses("db"), a -> a.equals(List.of(podIp("eg-0"))));
      awaitReady("db", "1 out of 2 replicas are ready to route traffic");
      assertThat(condition(svc("db"), "TailscaleEgressSvcReady").orElseThrow().getReason())
          .isEqualTo("PartiallyReadyToRouteTraffic");
      writeEgressStatus("eg-1", status);
      await().atMost(WAIT).until(() -> endpointAddresses("db").size() == 2);
      // A status written from another pod IP (before the pod was recreated) does not count either.
      ObjectNode stale = (ObjectNode) JSON.readTree(status);
      stale.put("podIPv4", "10.255.255.254");
      writeEgressStatus("eg-1", stale.toString());
      await().atMost(WAIT).until(() -> endpointAddresses("db"), a -> a.equals(List.of(podIp("eg-0"))));
      writeEgressStatus("eg-1", status);
      await().atMost(WAIT).until(() -> endpointAddresses("db").size() == 2);
    } finally {
      env.proxies().resume("eg");
    }
    awaitReady("db", "2 out of 2 replicas are ready to route traffic");

    // Out of the group: entry, ClusterIP Service, EndpointSlice and conditions go.
    Conflicts.retry(() -> env.client().services().inNamespace(APP).withName("db").edit(s -> {
      s.getMetadata().getAnnotations().remove("tailscale.com/proxy-group");
      return s;
    }));
    await().atMost(WAIT).until(() -> !egressServices("eg").has(APP + "-db") && clusterIpServices("db").isEmpty()
        && endpointSlices("db").isEmpty() && condition(svc("db"), "TailscaleEgressSvcValid").isEmpty()
        && condition(svc("db"), "TailscaleEgressSvcConfigured").isEmpty());
    env.client().services().inNamespace(APP).withName("db").delete();
    await().atMost(WAIT).until(() -> svc("db") == null);
  }

  static void writeEgressStatus(String secret, String json) {
    env.client().secrets().inNamespace(NS).withName(secret).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"data\":{\"egress-services\":\"" + Base64.getEncoder().encodeToString(json.getBytes(StandardCharsets.UTF_8))
            + "\"}}");
  }

  @Test
  void twoServicesShareTheGroupAndDeletingOneRemovesOnlyItsOwn() throws Exception {
    var mark = env.mark();
    egress("one", "eg", "tailscale.com/tailnet-fqdn: " + cache.name());
    egress("two", "eg", "tailscale.com/tailnet-ip: " + db.addresses().get(0));
    awaitReady("one", "2 out of 2 replicas are ready to route traffic");
    awaitReady("two", "2 out of 2 replicas are ready to route traffic");
    // What serving two Services cost in API writes (finalizer, ClusterIP Service, EndpointSlice as the replicas
    // report, the ConfigMap entry, externalName, status, Events), for the record (measured: 10 per Service).
    var writes = env.operatorRequestsSince(mark).writes().filter(w -> !"leases".equals(w.resource())
        && !"tailscale-operator-status".equals(w.name()));
    System.out.println("EGRESS-GROUP-WRITES two Services: " + writes.count() + "\n" + writes.summary());
    assertThat(writes.count()).as(writes.summary()).isLessThanOrEqualTo(2 * 12);
    JsonNode both = egressServices("eg");
    assertThat(both.has(APP + "-one")).isTrue();
    assertThat(both.path(APP + "-two").path("tailnetTarget").path("ip").asText()).isEqualTo(db.addresses().get(0));
    int one = both.path(APP + "-one").path("ports").get(0).path("matchPort").asInt();
    int two = both.path(APP + "-two").path("ports").get(0).path("matchPort").asInt();
    assertThat(one).as("each Service has its own container port on the group").isNotEqualTo(two);
    assertThat(svc("one").getSpec().getExternalName()).isNotEqualTo(svc("two").getSpec().getExternalName());

    env.client().services().inNamespace(APP).withName("one").delete();
    await().atMost(WAIT).until(() -> svc("one") == null);
    await().atMost(WAIT).until(() -> !egressServices("eg").has(APP + "-one") && clusterIpServices("one").isEmpty()
        && endpointSlices("one").isEmpty());
    assertThat(egressServices("eg").path(APP + "-two")).isEqualTo(both.path(APP + "-two"));
    assertThat(clusterIpServices("two")).hasSize(1);
    assertThat(endpointAddresses("two")).hasSize(2);
    assertThat(condition(svc("two"), "TailscaleEgressSvcReady").orElseThrow().getStatus()).isEqualTo("True");
    env.client().services().inNamespace(APP).withName("two").delete();
    await().atMost(WAIT).until(() -> svc("two") == null && !egressServices("eg").has(APP + "-two"));
  }

  /**
   * A Service force-deleted while the operator is down (finalizer removed by hand): at start-up its entry in the group's
   * egress configuration, its ClusterIP Service and EndpointSlice are removed; another Service of the group keeps its.
   */
  @Test
  void aServiceForceDeletedWhileTheOperatorIsDownLeavesNothingOnTheGroup() throws Exception {
    egress("forced", "eg", "tailscale.com/tailnet-ip: " + db.addresses().get(0));
    egress("stays", "eg", "tailscale.com/tailnet-fqdn: " + cache.name());
    awaitReady("forced", "2 out of 2 replicas are ready to route traffic");
    awaitReady("stays", "2 out of 2 replicas are ready to route traffic");
    JsonNode before = egressServices("eg").path(APP + "-stays");
    String staysClusterIp = clusterIpServices("stays").get(0).getMetadata().getName();

    env.stopOperator();
    env.kube().kubectl("patch", "-n", APP, "service/forced", "--type=merge", "-p",
        "{\"metadata\":{\"finalizers\":null}}");
    env.kube().kubectl("delete", "-n", APP, "service/forced", "--wait=true");
    assertThat(clusterIpServices("forced")).hasSize(1);
    env.startOperator();

    await().atMost(WAIT).until(() -> !egressServices("eg").has(APP + "-forced") && clusterIpServices("forced").isEmpty()
        && endpointSlices("forced").isEmpty());
    assertThat(egressServices("eg").path(APP + "-stays")).isEqualTo(before);
    assertThat(clusterIpServices("stays")).extracting(s -> s.getMetadata().getName()).containsExactly(staysClusterIp);
    assertThat(endpointAddresses("stays")).hasSize(2);
    env.client().services().inNamespace(APP).withName("stays").delete();
    await().atMost(WAIT).until(() -> svc("stays") == null && !egressServices("eg").has(APP + "-stays"));
  }

  @Test
  void aServiceWithAProxyOfItsOwnMovesToTheGroupAndItsProxyGoes() throws Exception {
    create(Service.class, """
        apiVersion: v1
        kind: Service
        metadata:
          name: moved
          namespace: %s
          annotations:
            tailscale.com/tailnet-fqdn: %s
        spec:
          type: ExternalName
          externalName: placeholder
          ports:
          - {name: pg, port: 5432, protocol: TCP}
        """.formatted(APP, db.name()));
    await().atMost(WAIT).until(() -> env.client().apps().statefulSets().inNamespace(NS)
        .withLabel("tailscale.com/parent-resource", "moved").list().getItems().size() == 1);

    // The Service's own proxy is held in deletion (a finalizer) until the group serves the Service, so that the proxy's
    // last removal step runs when the group's ClusterIP Service, which carries the Service's labels too, exists.
    String own = env.client().apps().statefulSets().inNamespace(NS).withLabel("tailscale.com/parent-resource", "moved")
        .list().getItems().get(0).getMetadata().getName();
    Conflicts.retry(() -> env.client().apps().statefulSets().inNamespace(NS).withName(own).edit(s -> {
      s.getMetadata().getFinalizers().add("test.tailops.io/hold");
      return s;
    }));
    var mark = env.mark();
    Conflicts.retry(() -> env.client().services().inNamespace(APP).withName("moved").edit(s -> {
      s.getMetadata().getAnnotations().put("tailscale.com/proxy-group", "eg");
      return s;
    }));
    Service served = awaitReady("moved", "2 out of 2 replicas are ready to route traffic");
    await().atMost(WAIT).until(() -> env.client().apps().statefulSets().inNamespace(NS).withName(own).get()
        .getMetadata().getDeletionTimestamp() != null);
    Conflicts.retry(() -> env.client().apps().statefulSets().inNamespace(NS).withName(own).edit(s -> {
      s.getMetadata().getFinalizers().remove("test.tailops.io/hold");
      return s;
    }));
    await().atMost(WAIT).until(() -> env.client().apps().statefulSets().inNamespace(NS)
        .withLabel("tailscale.com/parent-resource", "moved").list().getItems().isEmpty()
        && env.client().secrets().inNamespace(NS).withLabel("tailscale.com/parent-resource", "moved").list()
            .getItems().isEmpty());
    // Removing the Service's own proxy leaves the group's ClusterIP Service alone (it carries the Service's labels too).
    var services = env.operatorRequestsSince(mark).byResource("services");
    assertThat(services.byVerb("delete").stream().map(AuditEvent::name))
        .as("the group's ClusterIP Service is no proxy object: only the proxy's headless Service goes")
        .containsOnly(own);
    assertThat(services.byVerb("create").count()).as("one ClusterIP Service, made once").isEqualTo(1);
    assertThat(clusterIpServices("moved")).hasSize(1);
    assertThat(svc("moved").getSpec().getExternalName()).isEqualTo(clusterIpServices("moved").get(0).getMetadata()
        .getName() + "." + NS + ".svc.cluster.local");
    assertThat(served.getMetadata().getFinalizers()).contains("tailscale.com/finalizer");
    assertThat(egressServices("eg").has(APP + "-moved")).isTrue();

    env.client().services().inNamespace(APP).withName("moved").delete();
    await().atMost(WAIT).until(() -> svc("moved") == null);
    await().atMost(WAIT).until(() -> !egressServices("eg").has(APP + "-moved") && clusterIpServices("moved").isEmpty());
  }

  @Test
  void aServiceMovedToAnotherGroupLeavesTheFirst() throws Exception {
    create(ProxyGroup.class, """
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: eg2
        spec:
          type: egress
          replicas: 1
        """);
    egress("mover", "eg", "tailscale.com/tailnet-fqdn: " + db.name());
    awaitReady("mover", "2 out of 2 replicas are ready to route traffic");
    String first = clusterIpServices("mover").get(0).getMetadata().getName();

    Conflicts.retry(() -> env.client().services().inNamespace(APP).withName("mover").edit(s -> {
      s.getMetadata().getAnnotations().put("tailscale.com/proxy-group", "eg2");
      return s;
    }));
    Service moved = awaitReady("mover", "1 out of 1 replicas are ready to route traffic");
    assertThat(condition(moved, "TailscaleEgressSvcConfigured").orElseThrow().getReason())
        .startsWith("ConfiguredFor:ProxyGroup:eg2:");
    await().atMost(WAIT).until(() -> !egressServices("eg").has(APP + "-mover")
        && clusterIpServices("mover").size() == 1 && endpointSlices("mover").size() == 1);
    Service second = clusterIpServices("mover").get(0);
    assertThat(second.getMetadata().getName()).isNotEqualTo(first);
    assertThat(second.getMetadata().getLabels()).containsEntry("tailscale.com/proxy-group", "eg2");
    assertThat(egressServices("eg2").has(APP + "-mover")).isTrue();
    assertThat(endpointAddresses("mover")).containsExactly(podIp("eg2-0"));
    assertThat(moved.getSpec().getExternalName()).startsWith(second.getMetadata().getName() + ".");
    env.client().services().inNamespace(APP).withName("mover").delete();
    await().atMost(WAIT).until(() -> svc("mover") == null && !egressServices("eg2").has(APP + "-mover"));
  }

  @Test
  void aGroupThatDoesNotExistIsToldSo() throws Exception {
    Service s = egress("nogroup", "missing", "tailscale.com/tailnet-fqdn: " + db.name());
    Condition c = await().atMost(WAIT).until(() -> condition(svc("nogroup"), "TailscaleEgressSvcValid"),
        Optional::isPresent).orElseThrow();
    assertThat(c.getStatus()).isEqualTo("Unknown");
    assertThat(c.getReason()).isEqualTo("ProxyGroupNotReady");
    assertThat(c.getMessage()).isEqualTo("ProxyGroup \"missing\" does not exist: create an egress ProxyGroup named "
        + "missing, or name an existing one in tailscale.com/proxy-group");
    assertThat(await().atMost(WAIT).until(() -> env.event(s, "ProxyGroupNotFound"), Optional::isPresent)
        .orElseThrow().getType()).isEqualTo("Warning");
    assertNothingElse("nogroup");
  }

  @Test
  void anIngressGroupIsRefused() throws Exception {
    refused("wrongtype", "ing", "tailscale.com/tailnet-fqdn: " + db.name(),
        "invalid egress Service: egress Service references ProxyGroup of type ingress, must be type egress");
  }

  @Test
  void aServiceWithoutATargetIsRefused() throws Exception {
    refused("notarget", "eg", "", "invalid egress Service: egress Service for ProxyGroup must have one of "
        + "tailscale.com/tailnet-fqdn, tailscale.com/tailnet-ip annotations set");
  }

  @Test
  void aServiceWithBothTargetsIsRefused() throws Exception {
    refused("bothtargets", "eg", "tailscale.com/tailnet-fqdn: " + db.name() + "\n    tailscale.com/tailnet-ip: "
        + db.addresses().get(0), "invalid egress Service: only one of annotations tailscale.com/tailnet-ip and "
        + "tailscale.com/tailnet-fqdn can be set");
  }

  private static void refused(String name, String group, String annotations, String message) throws Exception {
    Service s = egress(name, group, annotations);
    Condition c = await().atMost(WAIT).until(() -> condition(svc(name), "TailscaleEgressSvcValid"),
        Optional::isPresent).orElseThrow();
    assertThat(c.getStatus()).isEqualTo("False");
    assertThat(c.getReason()).isEqualTo("EgressSvcInvalid");
    assertThat(c.getMessage()).isEqualTo(message);
    var event = await().atMost(WAIT).until(() -> env.event(s, "INVALIDSERVICE"), Optional::isPresent).orElseThrow();
    assertThat(event.getType()).isEqualTo("Warning");
    assertThat(event.getMessage()).isEqualTo(message);
    assertNothingElse(name);
  }

  /** The refused Service got no finalizer, no Configured condition, no objects, no entry; its spec is unchanged. */
  private static void assertNothingElse(String name) throws Exception {
    Service now = svc(name);
    assertThat(now.getMetadata().getFinalizers()).isNullOrEmpty();
    assertThat(now.getSpec().getExternalName()).isEqualTo("placeholder");
    assertThat(condition(now, "TailscaleEgressSvcConfigured")).isEmpty();
    assertThat(clusterIpServices(name)).isEmpty();
    assertThat(endpointSlices(name)).isEmpty();
    assertThat(egressServices("eg").has(APP + "-" + name)).isFalse();
    assertThat(env.client().apps().statefulSets().inNamespace(NS).withLabel("tailscale.com/parent-resource", name)
        .list().getItems()).as("no proxy of its own").isEmpty();
    assertThat(env.client().secrets().inNamespace(NS).withLabel("tailscale.com/parent-resource", name).list()
        .getItems()).isEmpty();
  }
}
