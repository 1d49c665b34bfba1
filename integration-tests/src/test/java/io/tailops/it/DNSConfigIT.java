package io.tailops.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.DNSConfig;
import io.tailops.local.OperatorEnvironment;
import io.tailops.operator.dns.DnsRecords;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * A DNSConfig against the real API server (with the controller manager: Deployments get ReplicaSets and Pods,
 * EndpointSlices follow Pods, owned objects are garbage-collected), the fake tailnet and the proxy simulator: the
 * nameserver's objects and status, its records following an Ingress proxy and an egress proxy to a MagicDNS name as
 * their pods get addresses, change names and go away, a spec change, a second DNSConfig, and the deletion. No kubelet
 * runs here: a proxy pod "gets" its address by a status patch, as a kubelet would write it.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DNSConfigIT {
  static OperatorEnvironment env;
  static final String NS = "dns-it";
  static final String OPERATOR_NS = OperatorEnvironment.NAMESPACE;
  static final String NODE = "dns-it-node";

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    env.createNamespace(NS);
    env.startOperator();
  }

  @AfterAll
  static void stop() {
    env.close();
  }

  static DNSConfig dnsConfig(String name) {
    return env.client().resources(DNSConfig.class).withName(name).get();
  }

  static Optional<io.fabric8.kubernetes.api.model.Condition> nameserverReady(DNSConfig dc) {
    return dc == null || dc.getStatus() == null ? Optional.empty() : dc.getStatus().getConditions().stream()
        .filter(c -> "NameserverReady".equals(c.getType())).findFirst();
  }

  static DnsRecords records() throws IOException {
    ConfigMap cm = env.client().configMaps().inNamespace(OPERATOR_NS).withName("dnsrecords").get();
    return DnsRecords.parse(cm == null || cm.getData() == null ? null : cm.getData().get("records.json"));
  }

  /**
   * What the scheduler and a kubelet write when the proxy pod runs and is ready: its node (the EndpointSlice controller
   * leaves out pods whose node it does not know), its address and the Ready condition.
   */
  static String podRuns(String pod, String ip) {
    if (env.client().nodes().withName(NODE).get() == null) {
      env.client().nodes().resource(new io.fabric8.kubernetes.api.model.NodeBuilder().withNewMetadata().withName(NODE)
          .endMetadata().build()).create();
    }
    Pod p = env.client().pods().inNamespace(OPERATOR_NS).withName(pod).get();
    env.client().bindings().inNamespace(OPERATOR_NS).resource(new io.fabric8.kubernetes.api.model.BindingBuilder()
        .withNewMetadata().withName(pod).withNamespace(OPERATOR_NS).withUid(p.getMetadata().getUid()).endMetadata()
        .withNewTarget().withApiVersion("v1").withKind("Node").withName(NODE).endTarget().build()).create();
    Map<String, Object> status = Map.of("status", Map.of("phase", "Running", "podIP", ip,
        "podIPs", List.of(Map.of("ip", ip)), "conditions", List.of(Map.of("type", "Ready", "status", "True"),
            Map.of("type", "ContainersReady", "status", "True"))));
    // A JSON merge patch replaces podIPs whole: the proxy simulator may have marked the pod running with an IP of its
    // own already (a strategic merge would add this one beside it, which the API server refuses).
    env.client().pods().inNamespace(OPERATOR_NS).withName(pod).subresource("status")
        .patch(PatchContext.of(PatchType.JSON_MERGE), Serialization.asJson(status));
    return ip;
  }

  static String awaitProxyPod(String type, String name) {
    String pod = env.awaitProxy(type, NS, name) + "-0";
    await().atMost(Duration.ofSeconds(60)).until(() -> env.client().pods().inNamespace(OPERATOR_NS).withName(pod)
        .get() != null);
    return pod;
  }

  static Service headless(String type, String name) {
    return env.client().services().inNamespace(OPERATOR_NS).withLabel("tailscale.com/parent-resource-type", type)
        .withLabel("tailscale.com/parent-resource", name).withLabel("tailscale.com/parent-resource-ns", NS).list()
        .getItems().stream().filter(s -> "None".equals(s.getSpec().getClusterIP())).findFirst().orElse(null);
  }

  @Test
  @Order(1)
  void theNameserverIsDeployedAsTheOfficialOperatorDeploysItAndReportsItsAddress() {
    env.client().resource(Serialization.unmarshal("""
        apiVersion: tailscale.com/v1alpha1
        kind: DNSConfig
        metadata:
          name: ts-dns
        spec:
          nameserver:
            image:
              repo: mirror.example/k8s-nameserver
              tag: v1.94.2
        """, DNSConfig.class)).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> nameserverReady(dnsConfig("ts-dns"))
        .filter(c -> "True".equals(c.getStatus())).isPresent());
    DNSConfig dc = dnsConfig("ts-dns");
    Service svc = env.client().services().inNamespace(OPERATOR_NS).withName("nameserver").get();
    assertThat(dc.getStatus().getNameserver().getIp()).isEqualTo(svc.getSpec().getClusterIP());
    assertThat(nameserverReady(dc).orElseThrow().getReason()).isEqualTo("NameserverCreated");
    assertThat(dc.getMetadata().getFinalizers()).containsExactly("tailscale.com/finalizer");
    Deployment d = env.client().apps().deployments().inNamespace(OPERATOR_NS).withName("nameserver").get();
    assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo("mirror.example/k8s-nameserver:v1.94.2");
    for (var o : List.of(d, svc, env.client().serviceAccounts().inNamespace(OPERATOR_NS).withName("nameserver").get(),
        env.client().configMaps().inNamespace(OPERATOR_NS).withName("dnsrecords").get())) {
      assertThat(o.getMetadata().getOwnerReferences()).singleElement()
          .satisfies(r -> assertThat(r.getUid()).isEqualTo(dc.getMetadata().getUid()));
      assertThat(o.getMetadata().getLabels()).containsEntry("tailscale.com/parent-resource-type", "nameserver")
          .containsEntry("tailscale.com/parent-resource", "ts-dns");
    }
    assertThat(env.event(dc, "NameserverCreated")).isPresent();
  }

  @Test
  @Order(2)
  void theRecordsFollowAnIngressProxyAndAnEgressProxyToAMagicDnsName() throws Exception {
    env.client().resource(new ServiceBuilder().withNewMetadata().withNamespace(NS).withName("web").endMetadata()
        .withNewSpec().addToSelector("app", "web").addNewPort().withPort(3000).endPort().endSpec().build()).create();
    env.client().resource(Serialization.unmarshal("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: web
          namespace: dns-it
        spec:
          ingressClassName: tailscale
          defaultBackend:
            service:
              name: web
              port:
                number: 3000
        """, Ingress.class)).create();
    env.client().resource(new ServiceBuilder().withNewMetadata().withNamespace(NS).withName("db")
        .addToAnnotations("tailscale.com/tailnet-fqdn", "db.tailnet-abc.ts.net").endMetadata().withNewSpec()
        .addNewPort().withPort(5432).endPort().endSpec().build()).create();

    String ingressIp = podRuns(awaitProxyPod("ingress", "web"), "10.244.7.10");
    String egressIp = podRuns(awaitProxyPod("svc", "db"), "10.244.7.11");
    // the premise: the cluster's EndpointSlice controller lists the proxy pods' addresses
    await("EndpointSlices of the egress proxy").atMost(Duration.ofSeconds(60)).until(() -> env.client().discovery()
        .v1().endpointSlices().inNamespace(OPERATOR_NS).withLabel("kubernetes.io/service-name",
            headless("svc", "db").getMetadata().getName()).list().getItems().stream()
        .anyMatch(es -> es.getEndpoints() != null && es.getEndpoints().stream()
            .anyMatch(ep -> ep.getAddresses().contains(egressIp))));
    String ingressName = await().atMost(Duration.ofSeconds(60)).until(() -> {
      Ingress ing = env.client().network().v1().ingresses().inNamespace(NS).withName("web").get();
      return ing.getStatus() == null || ing.getStatus().getLoadBalancer() == null
          || ing.getStatus().getLoadBalancer().getIngress().isEmpty() ? null
          : ing.getStatus().getLoadBalancer().getIngress().get(0).getHostname();
    }, n -> n != null);
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(records().ip4()).containsEntry("db.tailnet-abc.ts.net", List.of(egressIp))
          .containsEntry(ingressName, List.of(ingressIp));
    });
    assertThat(records().version()).isEqualTo("v1alpha1");
    Service h = headless("svc", "db");
    assertThat(h.getMetadata().getAnnotations()).containsEntry("tailscale.com/magic-dnsname", "db.tailnet-abc.ts.net");
    assertThat(h.getMetadata().getFinalizers()).containsExactly("tailscale.com/dns-records-reconciler");
    assertThat(headless("ingress", "web").getMetadata().getAnnotations())
        .containsEntry("tailscale.com/magic-dnsname", ingressName);

    // the name changes: the record moves
    Conflicts.retry(() -> env.client().services().inNamespace(NS).withName("db").edit(s -> {
      s.getMetadata().getAnnotations().put("tailscale.com/tailnet-fqdn", "postgres.tailnet-abc.ts.net.");
      return s;
    }));
    // the pod restarts with the new target (a new address, as a new pod gets)
    String restarted = awaitNewPod("svc", "db");
    String newIp = podRuns(restarted, "10.244.7.12");
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(records().ip4()).containsEntry("postgres.tailnet-abc.ts.net.", List.of(newIp))
          .doesNotContainKey("db.tailnet-abc.ts.net");
    });

    // the egress Service goes: its record goes, and the headless Service is not held by the finalizer
    env.client().services().inNamespace(NS).withName("db").delete();
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      confirmPodDeletions();
      assertThat(records().ip4()).doesNotContainKey("postgres.tailnet-abc.ts.net.").containsKey(ingressName);
      assertThat(headless("svc", "db")).isNull();
    });
  }

  static Service groupClusterIp(String parent) {
    return env.client().services().inNamespace(OPERATOR_NS).withLabel("tailscale.com/svc-type", "egress")
        .withLabel("tailscale.com/parent-resource", parent).withLabel("tailscale.com/parent-resource-ns", NS).list()
        .getItems().stream().findFirst().orElse(null);
  }

  static Service groupEgress(String name, String targetAnnotation, String target) {
    return env.client().resource(new ServiceBuilder().withNewMetadata().withNamespace(NS).withName(name)
        .addToAnnotations(targetAnnotation, target).addToAnnotations("tailscale.com/proxy-group", "dns-eg")
        .endMetadata().withNewSpec().withType("ExternalName").withExternalName("placeholder").addNewPort()
        .withName("tcp").withPort(6379).endPort().endSpec().build()).create();
  }

  /**
   * A Service egressing through an egress ProxyGroup to a MagicDNS name: the name answers with the cluster IP of the
   * group's ClusterIP Service for it (which maps the ports to the replicas), as upstream; a target given as an address
   * gets no record; the record goes with the Service.
   */
  @Test
  @Order(3)
  void aServiceEgressingThroughAProxyGroupToAMagicDnsNameGetsARecordOfItsClusterIp() throws Exception {
    env.client().resource(Serialization.unmarshal("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: dns-eg
        spec:
          type: egress
          replicas: 1
        """, io.tailops.api.v1alpha1.ProxyGroup.class)).create();
    groupEgress("cache", "tailscale.com/tailnet-fqdn", "cache.tailnet-abc.ts.net");
    groupEgress("byip", "tailscale.com/tailnet-ip", "100.64.0.9");
    String clusterIp = await().atMost(Duration.ofSeconds(90)).until(() -> {
      Service s = groupClusterIp("cache");
      return s == null ? null : s.getSpec().getClusterIP();
    }, ip -> ip != null && !ip.isEmpty());
    await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> assertThat(records().ip4())
        .containsEntry("cache.tailnet-abc.ts.net", List.of(clusterIp)));
    Service cacheSvc = groupClusterIp("cache");
    assertThat(cacheSvc.getMetadata().getAnnotations()).containsEntry("tailscale.com/magic-dnsname",
        "cache.tailnet-abc.ts.net");
    assertThat(cacheSvc.getMetadata().getFinalizers()).containsExactly("tailscale.com/dns-records-reconciler");

    Service byIp = await().atMost(Duration.ofSeconds(90)).until(() -> groupClusterIp("byip"), s -> s != null);
    env.awaitCurrentVersionsReconciled(byIp);
    String byIpAddress = groupClusterIp("byip").getSpec().getClusterIP();
    assertThat(records().ip4().values()).noneMatch(ips -> ips.contains(byIpAddress));
    assertThat(groupClusterIp("byip").getMetadata().getFinalizers()).isNullOrEmpty();

    env.client().services().inNamespace(NS).withName("cache").delete();
    env.client().services().inNamespace(NS).withName("byip").delete();
    await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
      assertThat(records().ip4()).doesNotContainKey("cache.tailnet-abc.ts.net");
      assertThat(groupClusterIp("cache")).isNull();
      assertThat(groupClusterIp("byip")).isNull();
    });
    env.client().resources(io.tailops.api.v1alpha1.ProxyGroup.class).withName("dns-eg").delete();
  }

  /** What the kubelet of a bound pod does once its containers stopped: it confirms the pod's deletion. */
  static void confirmPodDeletions() {
    for (Pod p : env.client().pods().inNamespace(OPERATOR_NS).list().getItems()) {
      if (p.getMetadata().getDeletionTimestamp() != null && NODE.equals(p.getSpec().getNodeName())) {
        env.client().pods().inNamespace(OPERATOR_NS).withName(p.getMetadata().getName()).withGracePeriod(0).delete();
      }
    }
  }

  /** Deletes the proxy's pod and waits for the StatefulSet's replacement (a new UID). */
  static String awaitNewPod(String type, String name) {
    String pod = env.awaitProxy(type, NS, name) + "-0";
    Pod old = env.client().pods().inNamespace(OPERATOR_NS).withName(pod).get();
    String target = await().atMost(Duration.ofSeconds(60)).until(() -> env.client().apps().statefulSets()
        .inNamespace(OPERATOR_NS).withName(env.awaitProxy(type, NS, name)).get().getSpec().getTemplate().getSpec()
        .getContainers().get(0).getEnv().stream().filter(e -> "TS_TAILNET_TARGET_FQDN".equals(e.getName()))
        .findFirst().map(e -> e.getValue()).orElse(""), v -> v.startsWith("postgres"));
    assertThat(target).isEqualTo("postgres.tailnet-abc.ts.net.");
    env.client().pods().inNamespace(OPERATOR_NS).withName(pod).withGracePeriod(0).delete();
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      Pod p = env.client().pods().inNamespace(OPERATOR_NS).withName(pod).get();
      return p != null && !p.getMetadata().getUid().equals(old.getMetadata().getUid());
    });
    return pod;
  }

  @Test
  @Order(4)
  void aSpecChangeReachesTheDeploymentAndAHandEditIsPutBack() {
    Conflicts.retry(() -> env.client().resources(DNSConfig.class).withName("ts-dns").edit(dc -> {
      dc.getSpec().getNameserver().getImage().setTag("v1.94.3");
      dc.getSpec().getNameserver().setReplicas(2);
      return dc;
    }));
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      Deployment d = env.client().apps().deployments().inNamespace(OPERATOR_NS).withName("nameserver").get();
      assertThat(d.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
          .isEqualTo("mirror.example/k8s-nameserver:v1.94.3");
      assertThat(d.getSpec().getReplicas()).isEqualTo(2);
    });
    env.client().apps().deployments().inNamespace(OPERATOR_NS).withName("nameserver")
        .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"replicas\":5}}");
    await().atMost(Duration.ofSeconds(60)).until(() -> env.client().apps().deployments().inNamespace(OPERATOR_NS)
        .withName("nameserver").get().getSpec().getReplicas() == 2);
    assertThat(env.events(dnsConfig("ts-dns"))).anyMatch(e -> "NameserverUpdated".equals(e.getReason())
        && e.getMessage().contains("spec.replicas"));
  }

  @Test
  @Order(5)
  void aSecondDnsConfigIsRefusedAndChangesNothing() {
    env.client().resource(Serialization.unmarshal("""
        apiVersion: tailscale.com/v1alpha1
        kind: DNSConfig
        metadata:
          name: second
        spec:
          nameserver: {}
        """, DNSConfig.class)).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> nameserverReady(dnsConfig("second"))
        .filter(c -> "MultipleDNSConfigsPresent".equals(c.getReason())).isPresent());
    var c = nameserverReady(dnsConfig("second")).orElseThrow();
    assertThat(c.getStatus()).isEqualTo("False");
    assertThat(c.getMessage()).isEqualTo("Multiple DNSConfig resources found in cluster. Please ensure no more than "
        + "one is present. The nameserver serves DNSConfig ts-dns (the oldest); delete this one.");
    await().atMost(Duration.ofSeconds(30)).until(() -> env.event(dnsConfig("second"), "MultipleDNSConfigsPresent")
        .filter(e -> "Warning".equals(e.getType())).isPresent());
    assertThat(dnsConfig("second").getMetadata().getFinalizers()).isNullOrEmpty();
    assertThat(dnsConfig("second").getStatus().getNameserver()).isNull();
    assertThat(env.client().apps().deployments().inNamespace(OPERATOR_NS).withName("nameserver").get()
        .getMetadata().getOwnerReferences().get(0).getName()).isEqualTo("ts-dns");
    assertThat(nameserverReady(dnsConfig("ts-dns")).orElseThrow().getStatus()).isEqualTo("True");
    env.client().resources(DNSConfig.class).withName("second").delete();
    await().atMost(Duration.ofSeconds(30)).until(() -> dnsConfig("second") == null);
  }

  @Test
  @Order(6)
  void deletingTheDnsConfigDeletesTheNameserver() {
    env.client().resources(DNSConfig.class).withName("ts-dns").delete();
    await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
      assertThat(dnsConfig("ts-dns")).isNull();
      assertThat(env.client().apps().deployments().inNamespace(OPERATOR_NS).withName("nameserver").get()).isNull();
      assertThat(env.client().services().inNamespace(OPERATOR_NS).withName("nameserver").get()).isNull();
      assertThat(env.client().configMaps().inNamespace(OPERATOR_NS).withName("dnsrecords").get()).isNull();
      ServiceAccount sa = env.client().serviceAccounts().inNamespace(OPERATOR_NS).withName("nameserver").get();
      assertThat(sa).isNull();
    });
  }
}
