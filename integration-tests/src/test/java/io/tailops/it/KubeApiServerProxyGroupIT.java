package io.tailops.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.api.v1alpha1.TailnetDevice;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.tailscale.FakeDevice;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * ProxyGroups of type kube-apiserver (the HA API server proxy, official {@code api-server-proxy-pg.go}) against the real
 * API server and the fake Tailscale API, the proxy simulator playing each replica's k8s-proxy (it logs in with
 * {@code config.hujson}, issues the certificate on replica 0 and advertises what its config lists): the official
 * objects, the Tailscale Service owned by the group alone, {@code status.url} and the conditions, scaling 1 → 2 → 1,
 * deletion leaving nothing, and every refusal with its condition and Event.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KubeApiServerProxyGroupIT {
  static final String NS = OperatorEnvironment.NAMESPACE;
  static final Duration WAIT = Duration.ofSeconds(90);
  static final String AUTH_SA = "kube-apiserver-auth-proxy";
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

  static ProxyGroup create(String yaml) {
    return env.client().resource(Serialization.unmarshal(yaml, ProxyGroup.class)).create();
  }

  static ProxyGroup pg(String name) {
    return env.client().resources(ProxyGroup.class).withName(name).get();
  }

  static Optional<Condition> condition(ProxyGroup pg, String type) {
    if (pg == null || pg.getStatus() == null || pg.getStatus().getConditions() == null) {
      return Optional.empty();
    }
    return pg.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  static boolean isTrue(ProxyGroup p, String type) {
    return condition(p, type).map(c -> "True".equals(c.getStatus())).orElse(false);
  }

  /** Ready with {@code replicas} devices, all advertising the API server proxy's service. */
  static ProxyGroup awaitServed(String name, int replicas) {
    return await().atMost(WAIT).until(() -> pg(name), p -> p != null && isTrue(p, "ProxyGroupReady")
        && p.getStatus().getDevices() != null && p.getStatus().getDevices().size() == replicas
        && condition(p, "KubeAPIServerProxyConfigured").map(c -> c.getMessage().equals(replicas + "/" + replicas
            + " proxy backends ready and advertising")).orElse(false));
  }

  static <T extends HasMetadata> T get(Class<T> type, String name) {
    return env.client().resources(type).inNamespace(NS).withName(name).get();
  }

  static String config(String secret) {
    Secret s = get(Secret.class, secret);
    return new String(Base64.getDecoder().decode(s.getData().get("config.hujson")), StandardCharsets.UTF_8);
  }

  static List<FakeDevice> devicesNamed(String prefix) {
    return env.tailnet().devices().stream().filter(d -> d.hostname().startsWith(prefix + "-")).toList();
  }

  static void touch(String name, String value) {
    env.client().resources(ProxyGroup.class).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"metadata\":{\"labels\":{\"touched\":\"" + value + "\"}}}");
  }

  static void delete(String name) {
    env.client().resources(ProxyGroup.class).withName(name).delete();
    await().atMost(WAIT).until(() -> pg(name) == null);
  }

  @Test
  @Order(1)
  void inAuthModeWithoutTheChartsServiceAccountTheGroupIsRefusedThenServedOnceItExists() {
    ProxyGroup created = create("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: early
        spec:
          type: kube-apiserver
          replicas: 1
        """);
    Condition c = await().atMost(WAIT).until(() -> condition(pg("early"), "ProxyGroupReady"), Optional::isPresent)
        .orElseThrow();
    assertThat(c.getStatus()).isEqualTo("False");
    assertThat(c.getReason()).isEqualTo("ProxyGroupInvalid");
    assertThat(c.getMessage()).isEqualTo("invalid ProxyGroup spec: the ServiceAccount \"kube-apiserver-auth-proxy\" "
        + "used for the API server proxy in auth mode does not exist but should have been created during operator "
        + "installation; use apiServerProxyConfig.allowImpersonation=true in the helm chart, or authproxy-rbac.yaml "
        + "from the static manifests");
    Event e = await().atMost(WAIT).until(() -> env.event(created, "ProxyGroupInvalid"), Optional::isPresent)
        .orElseThrow();
    assertThat(e.getType()).isEqualTo("Warning");
    assertThat(get(StatefulSet.class, "early")).isNull();
    assertThat(env.client().secrets().inNamespace(NS).withLabel("tailscale.com/parent-resource", "early").list()
        .getItems()).isEmpty();
    assertThat(env.tailnet().services()).isEmpty();

    // helm upgrade --set apiServerProxyConfig.allowImpersonation=true creates it; the group is served.
    env.client().serviceAccounts().inNamespace(NS).resource(new ServiceAccountBuilder().withNewMetadata()
        .withName(AUTH_SA).withNamespace(NS).endMetadata().build()).create();
    touch("early", "1");
    awaitServed("early", 1);
    delete("early");
    await().atMost(WAIT).until(() -> env.tailnet().service("svc:early").isEmpty());
  }

  @Test
  @Order(2)
  void anAuthModeGroupIsServedAsATailscaleServiceScalesOneToTwoToOneAndLeavesNothingWhenDeleted() {
    ProxyGroup created = create("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: api
        spec:
          type: kube-apiserver
          replicas: 1
          kubeAPIServer:
            hostname: k8s-api
        """);
    ProxyGroup served = awaitServed("api", 1);
    String uid = served.getMetadata().getUid();
    String dnsName = "k8s-api." + env.tailnet().tailnetDomain();
    assertThat(served.getStatus().getUrl()).isEqualTo("https://" + dnsName);
    assertThat(served.getStatus().getDevices()).extracting(TailnetDevice::getHostname).containsExactly("api-0");
    assertThat(served.getMetadata().getFinalizers()).containsExactlyInAnyOrder("tailscale.com/finalizer",
        "tailscale.com/kube-apiserver-finalizer");
    assertThat(condition(served, "KubeAPIServerProxyValid").orElseThrow()).satisfies(c -> {
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getReason()).isEqualTo("KubeAPIServerProxyValid");
    });
    assertThat(condition(served, "KubeAPIServerProxyConfigured").orElseThrow().getReason())
        .isEqualTo("KubeAPIServerProxyConfigured");
    assertThat(condition(served, "ProxyGroupReady").orElseThrow().getReason()).isEqualTo("ProxyGroupReady");
    assertThat(await().atMost(WAIT).until(() -> env.event(created, "KubeAPIServerProxyConfigured"),
        Optional::isPresent).orElseThrow().getMessage()).contains("https://" + dnsName).contains("svc:k8s-api");

    // The Tailscale Service: HTTPS, the operator's tags, owned by this operator for this group alone.
    JsonNode ts = env.tailnet().service("svc:k8s-api").orElseThrow();
    assertThat(ts.path("ports")).extracting(JsonNode::asText).containsExactly("tcp:443");
    assertThat(ts.path("tags")).extracting(JsonNode::asText).containsExactly("tag:k8s");
    assertThat(ts.path("comment").asText()).contains("managed by the Tailscale Kubernetes Operator");
    assertThat(ts.path("annotations").path("tailscale.com/owner-references").asText())
        .endsWith(",\"resource\":{\"kind\":\"ProxyGroup\",\"name\":\"api\",\"uid\":\"" + uid + "\"}}]}")
        .startsWith("{\"ownerRefs\":[{\"operatorID\":\"");

    // The official objects: the k8s-proxy StatefulSet running as the chart's account, Role and RoleBinding, Secrets.
    StatefulSet sts = get(StatefulSet.class, "api");
    var podSpec = sts.getSpec().getTemplate().getSpec();
    assertThat(podSpec.getServiceAccountName()).isEqualTo(AUTH_SA);
    Container main = podSpec.getContainers().get(0);
    assertThat(main.getImage()).isEqualTo("tailscale/k8s-proxy:latest");
    assertThat(main.getEnv()).anySatisfy(v -> {
      assertThat(v.getName()).isEqualTo("TS_K8S_PROXY_CONFIG");
      assertThat(v.getValue()).isEqualTo("kube:" + NS + "/$(POD_NAME)-config");
    });
    assertThat(get(ServiceAccount.class, "api")).isNull();
    assertThat(get(ConfigMap.class, "api-ingress-config")).isNull();
    assertThat(get(RoleBinding.class, "api").getSubjects()).singleElement()
        .satisfies(s -> assertThat(s.getName()).isEqualTo(AUTH_SA));
    for (HasMetadata o : List.of(sts, get(Role.class, "api"), get(RoleBinding.class, "api"),
        get(Secret.class, "api-0"), get(Secret.class, "api-0-config"))) {
      assertThat(o.getMetadata().getLabels()).as(o.getKind()).containsEntry("tailscale.com/managed", "true")
          .containsEntry("tailscale.com/parent-resource-type", "proxygroup")
          .containsEntry("tailscale.com/parent-resource", "api");
      assertThat(o.getMetadata().getOwnerReferences()).as(o.getKind()).singleElement()
          .satisfies(r -> assertThat(r.getUid()).isEqualTo(uid));
    }
    assertThat(get(Secret.class, "api-0-config").getData()).containsOnlyKeys("config.hujson");
    // LogLevel: as the operator logs (these tests run it at debug).
    String level = switch (env.config().logging()) {
      case DEBUG, DEV -> "debug";
      default -> "info";
    };
    assertThat(config("api-0-config")).isEqualTo("{\"Version\":\"v1alpha1\",\"State\":\"kube:api-0\","
        + "\"LogLevel\":\"" + level + "\",\"App\":\"k8s-operator-proxygroup-kube-apiserver\",\"ServerURL\":\""
        + env.tailnet().baseUrl() + "\",\"LocalPort\":9002,\"HealthCheckEnabled\":true,\"Hostname\":\"api-0\","
        + "\"AdvertiseServices\":[\"svc:k8s-api\"],\"APIServerProxy\":{\"Enabled\":true,\"Mode\":\"auth\","
        + "\"ServiceName\":\"svc:k8s-api\",\"IssueCerts\":true}}");
    // The certificate Secret replica 0 issued into, and the Role and RoleBinding letting the pods manage it.
    Secret cert = get(Secret.class, dnsName);
    assertThat(cert.getType()).isEqualTo("kubernetes.io/tls");
    assertThat(cert.getMetadata().getLabels()).containsEntry("tailscale.com/proxy-group", "api")
        .containsEntry("tailscale.com/domain", dnsName).containsEntry("tailscale.com/secret-type", "certs");
    assertThat(get(RoleBinding.class, dnsName).getSubjects()).singleElement()
        .satisfies(s -> assertThat(s.getName()).isEqualTo(AUTH_SA));
    assertThat(get(Role.class, dnsName).getRules().get(0).getResourceNames()).containsExactly(dnsName);

    // 1 → 2: the second replica advertises the service too, and does not issue the certificate.
    edit("api", 2);
    awaitServed("api", 2);
    assertThat(config("api-1-config")).contains("\"IssueCerts\":false").contains("\"AdvertiseServices\":[\"svc:k8s-api\"]");
    assertThat(devicesNamed("api")).extracting(FakeDevice::hostname).containsExactlyInAnyOrder("api-0", "api-1");

    // 2 → 1: the surplus replica's device and Secrets go.
    edit("api", 1);
    awaitServed("api", 1);
    await().atMost(WAIT).untilAsserted(() -> assertThat(devicesNamed("api")).extracting(FakeDevice::hostname)
        .containsExactly("api-0"));
    await().atMost(WAIT).untilAsserted(() -> assertThat(env.client().secrets().inNamespace(NS)
        .withLabel("tailscale.com/parent-resource", "api").list().getItems()).extracting(s -> s.getMetadata()
        .getName()).containsExactlyInAnyOrder("api-0", "api-0-config", dnsName));

    // Deleted: the Tailscale Service, the devices and every object go.
    delete("api");
    assertThat(env.tailnet().service("svc:k8s-api")).isEmpty();
    assertThat(devicesNamed("api")).isEmpty();
    assertThat(env.client().secrets().inNamespace(NS).withLabel("tailscale.com/parent-resource", "api").list()
        .getItems()).isEmpty();
    assertThat(get(Secret.class, dnsName)).isNull();
    assertThat(get(Role.class, dnsName)).isNull();
    assertThat(get(RoleBinding.class, dnsName)).isNull();
    await().atMost(WAIT).untilAsserted(() -> assertThat(get(StatefulSet.class, "api")).isNull());
    assertThat(get(Role.class, "api")).isNull();
    assertThat(get(RoleBinding.class, "api")).isNull();
  }

  @Test
  @Order(3)
  void aNoauthGroupRunsAsItsOwnServiceAccountUnderItsOwnNameAndMovesToANewHostname() {
    create("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: open
        spec:
          type: kube-apiserver
          replicas: 1
          kubeAPIServer:
            mode: noauth
        """);
    ProxyGroup served = awaitServed("open", 1);
    assertThat(served.getStatus().getUrl()).isEqualTo("https://open." + env.tailnet().tailnetDomain());
    assertThat(env.tailnet().service("svc:open")).isPresent();
    assertThat(get(ServiceAccount.class, "open")).isNotNull();
    assertThat(get(StatefulSet.class, "open").getSpec().getTemplate().getSpec().getServiceAccountName())
        .isEqualTo("open");
    assertThat(config("open-0-config")).contains("\"Mode\":\"noauth\"");

    // A new hostname: the new service is served, the old one and its certificate resources go.
    String oldCert = "open." + env.tailnet().tailnetDomain();
    assertThat(get(Secret.class, oldCert)).isNotNull();
    env.client().resources(ProxyGroup.class).withName("open").patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"spec\":{\"kubeAPIServer\":{\"hostname\":\"open2\"}}}");
    await().atMost(WAIT).until(() -> pg("open"), p -> ("https://open2." + env.tailnet().tailnetDomain())
        .equals(p.getStatus().getUrl()) && isTrue(p, "ProxyGroupReady"));
    await().atMost(WAIT).until(() -> env.tailnet().service("svc:open").isEmpty());
    assertThat(env.tailnet().service("svc:open2")).isPresent();
    assertThat(config("open-0-config")).contains("\"ServiceName\":\"svc:open2\"")
        .contains("\"AdvertiseServices\":[\"svc:open2\"]");
    await().atMost(WAIT).untilAsserted(() -> assertThat(get(Secret.class, oldCert)).isNull());
    assertThat(get(Role.class, oldCert)).isNull();

    delete("open");
    assertThat(env.tailnet().service("svc:open2")).isEmpty();
    assertThat(env.client().secrets().inNamespace(NS).withLabel("tailscale.com/proxy-group", "open").list()
        .getItems()).isEmpty();
  }

  @Test
  @Order(4)
  void aHostnameOrModeTheCrdDoesNotAllowIsRejectedByTheApiServer() {
    assertThatThrownBy(() -> create("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: bad-host
        spec:
          type: kube-apiserver
          kubeAPIServer:
            hostname: Not_A_Label
        """)).isInstanceOf(KubernetesClientException.class).hasMessageContaining("spec.kubeAPIServer.hostname");
    assertThatThrownBy(() -> env.client().resource(Serialization.unmarshal("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: bad-mode
        spec:
          type: kube-apiserver
          kubeAPIServer:
            mode: sometimes
        """, io.fabric8.kubernetes.api.model.GenericKubernetesResource.class)).create())
        .isInstanceOf(KubernetesClientException.class).hasMessageContaining("spec.kubeAPIServer.mode");
    assertThat(pg("bad-host")).isNull();
    assertThat(pg("bad-mode")).isNull();
  }

  @Test
  @Order(5)
  void aTailscaleServiceHeldBySomeoneElseIsLeftAloneAndSaidSo() {
    JsonNode theirs = env.tailnet().putServiceDirectly("svc:taken", """
        {"name":"svc:taken","comment":"made by hand","ports":["tcp:443"],"tags":["tag:other"]}
        """);
    ProxyGroup created = create("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: wants
        spec:
          type: kube-apiserver
          replicas: 1
          kubeAPIServer:
            hostname: taken
        """);
    ProxyGroup refused = await().atMost(WAIT).until(() -> pg("wants"), p -> condition(p, "KubeAPIServerProxyValid")
        .map(c -> "False".equals(c.getStatus())).orElse(false) && condition(p, "ProxyGroupReady")
        .map(c -> "ProxyGroupInvalid".equals(c.getReason())).orElse(false));
    assertThat(condition(refused, "KubeAPIServerProxyValid").orElseThrow()).satisfies(c -> {
      assertThat(c.getReason()).isEqualTo("KubeAPIServerProxyInvalid");
      assertThat(c.getMessage()).startsWith("error ensuring exclusive ownership of Tailscale Service taken: "
          + "Tailscale Service svc:taken exists, but does not contain owner annotation")
          .endsWith("choose a different hostname in the ProxyGroup's spec.kubeAPIServer.hostname field");
    });
    assertThat(condition(refused, "ProxyGroupReady").orElseThrow().getMessage())
        .isEqualTo("waiting for config in spec.kubeAPIServer to be marked valid");
    assertThat(await().atMost(WAIT).until(() -> env.event(created, "InvalidTailscaleService"), Optional::isPresent)
        .orElseThrow().getType()).isEqualTo("Warning");
    assertThat(refused.getStatus().getUrl()).isNull();
    assertThat(env.tailnet().service("svc:taken").orElseThrow()).isEqualTo(theirs);
    assertThat(config("wants-0-config")).doesNotContain("ServiceName").doesNotContain("AdvertiseServices");
    delete("wants");
    assertThat(env.tailnet().service("svc:taken").orElseThrow()).isEqualTo(theirs);
  }

  @Test
  @Order(6)
  void aProxyClassWithATailscaleImageOrInitContainerIsRefusedWithTheOfficialWords() {
    env.client().resource(Serialization.unmarshal("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyClass
        metadata:
          name: wrong-image
        spec:
          statefulSet:
            pod:
              tailscaleContainer:
                image: tailscale/tailscale:v1.94.2
              tailscaleInitContainer:
                image: tailscale/tailscale:v1.94.2
        """, ProxyClass.class)).create();
    ProxyGroup created = create("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: wrongimg
        spec:
          type: kube-apiserver
          replicas: 1
          proxyClass: wrong-image
        """);
    Condition c = await().atMost(WAIT).until(() -> condition(pg("wrongimg"), "ProxyGroupReady"), o -> o
        .map(x -> "ProxyGroupInvalid".equals(x.getReason())).orElse(false)).orElseThrow();
    assertThat(c.getMessage()).isEqualTo("invalid ProxyGroup spec: the configured ProxyClass \"wrong-image\" "
        + "specifies to use image \"tailscale/tailscale:v1.94.2\" but expected a \"k8s-proxy\" image for ProxyGroup "
        + "of type \"kube-apiserver\"; the configured ProxyClass \"wrong-image\" specifies Tailscale init container "
        + "config, but ProxyGroups of type \"kube-apiserver\" do not use init containers");
    assertThat(await().atMost(WAIT).until(() -> env.event(created, "ProxyGroupInvalid"), Optional::isPresent)
        .orElseThrow().getMessage()).isEqualTo(c.getMessage());
    assertThat(get(StatefulSet.class, "wrongimg")).isNull();
    assertThat(env.client().secrets().inNamespace(NS).withLabel("tailscale.com/parent-resource", "wrongimg").list()
        .getItems()).isEmpty();
    delete("wrongimg");
  }

  static void edit(String name, int replicas) {
    env.client().resources(ProxyGroup.class).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"spec\":{\"replicas\":" + replicas + "}}");
  }
}
