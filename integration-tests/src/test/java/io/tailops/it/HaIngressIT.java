package io.tailops.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressLoadBalancerIngress;
import io.fabric8.kubernetes.api.model.networking.v1.IngressPortStatus;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyGroup;
import io.tailops.local.OperatorEnvironment;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * HA Ingress: an Ingress of class tailscale naming an ingress ProxyGroup is served by the group's replicas as the
 * Tailscale Service {@code svc:<hostname>} (official {@code ingress-for-pg.go}): its serve config in the group's
 * ConfigMap, the TLS certificate Secret the first replica issues (with its Role and RoleBinding), the replicas
 * advertising it, the stable MagicDNS name in the Ingress's status; Funnel said not to be honoured; everything released
 * when the Ingress goes; a group that does not exist told in an Event with nothing created.
 */
class HaIngressIT {
  static final String NS = OperatorEnvironment.NAMESPACE;
  static final String APP = "hai";
  static final Duration WAIT = Duration.ofSeconds(120);
  static OperatorEnvironment env;

  @BeforeAll
  static void start() {
    env = OperatorEnvironment.create();
    env.startOperator();
    env.createNamespace(APP);
    env.backendService(APP, "backend", 8080);
    env.client().resource(Serialization.unmarshal("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyGroup
        metadata:
          name: web-pg
        spec:
          type: ingress
          replicas: 2
        """, ProxyGroup.class)).create();
    await().atMost(WAIT).until(() -> env.client().resources(ProxyGroup.class).withName("web-pg").get(), p -> p != null
        && p.getStatus() != null && p.getStatus().getDevices() != null && p.getStatus().getDevices().size() == 2
        && p.getStatus().getConditions().stream().anyMatch(c -> c.getType().equals("ProxyGroupReady")
            && "True".equals(c.getStatus())));
  }

  @AfterAll
  static void stop() {
    env.close();
  }

  static Ingress create(String name, String group, String host, String extraAnnotations) {
    return env.client().resource(Serialization.unmarshal("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata:
          name: %s
          namespace: %s
          annotations:
            tailscale.com/proxy-group: %s
            %s
        spec:
          ingressClassName: tailscale
          defaultBackend:
            service: {name: backend, port: {number: 8080}}
          tls:
          - hosts: [%s]
        """.formatted(name, APP, group, extraAnnotations, host), Ingress.class)).create();
  }

  static Ingress ingress(String name) {
    return env.client().network().v1().ingresses().inNamespace(APP).withName(name).get();
  }

  static List<IngressLoadBalancerIngress> status(Ingress ing) {
    return ing == null || ing.getStatus() == null || ing.getStatus().getLoadBalancer() == null
        || ing.getStatus().getLoadBalancer().getIngress() == null ? List.of()
        : ing.getStatus().getLoadBalancer().getIngress();
  }

  static JsonNode serveConfig() throws Exception {
    return IngressGroupFiles.configMapJson(env, "web-pg", "serve-config.json");
  }

  static List<String> advertised(String replicaConfigSecret) throws Exception {
    return IngressGroupFiles.advertised(env, replicaConfigSecret);
  }

  @Test
  void anIngressIsServedByTheGroupOverHttpsAsATailscaleServiceAndReleasedWhenDeleted() throws Exception {
    Service backend = env.client().services().inNamespace(APP).withName("backend").get();
    Ingress ing = create("app", "web-pg", "app", "tailscale.com/funnel: \"true\"");

    Ingress served = await().atMost(WAIT).until(() -> ingress("app"), i -> !status(i).isEmpty());
    IngressLoadBalancerIngress lb = status(served).get(0);
    assertThat(lb.getHostname()).startsWith("app.").endsWith(".ts.net");
    assertThat(lb.getPorts()).extracting(IngressPortStatus::getPort).containsExactly(443);
    String dnsName = lb.getHostname();
    assertThat(served.getMetadata().getFinalizers()).contains("tailscale.com/ingress-pg-finalizer");

    // The Tailscale Service: HTTPS only, the operator's tags, owned by this operator.
    JsonNode ts = env.tailnet().service("svc:app").orElseThrow();
    assertThat(ts.path("ports")).extracting(JsonNode::asText).containsExactly("tcp:443");
    assertThat(ts.path("tags")).extracting(JsonNode::asText).containsExactly("tag:k8s");
    assertThat(ts.path("annotations").path("tailscale.com/owner-references").asText()).contains("operatorID");

    // The serve config: HTTPS on 443 proxying / to the backend's cluster IP.
    JsonNode entry = serveConfig().path("Services").path("svc:app");
    assertThat(entry.path("TCP").path("443").path("HTTPS").asBoolean()).isTrue();
    assertThat(entry.path("Web").path(dnsName + ":443").path("Handlers").path("/").path("Proxy").asText())
        .isEqualTo("http://" + backend.getSpec().getClusterIP() + ":8080/");

    // The certificate Secret (issued by replica 0), its Role and RoleBinding; both replicas advertise the service.
    Secret cert = env.client().secrets().inNamespace(NS).withName(dnsName).get();
    assertThat(cert.getType()).isEqualTo("kubernetes.io/tls");
    assertThat(cert.getMetadata().getLabels()).containsEntry("tailscale.com/proxy-group", "web-pg")
        .containsEntry("tailscale.com/domain", dnsName);
    assertThat(cert.getData().get("tls.crt")).isNotEmpty();
    assertThat(env.client().rbac().roles().inNamespace(NS).withName(dnsName).get()).isNotNull();
    assertThat(env.client().rbac().roleBindings().inNamespace(NS).withName(dnsName).get()).isNotNull();
    await().atMost(WAIT).until(() -> advertised("web-pg-0-config").contains("svc:app")
        && advertised("web-pg-1-config").contains("svc:app"));
    assertThat(await().atMost(WAIT).until(() -> env.event(ing, "ProxyReady"), Optional::isPresent).orElseThrow()
        .getMessage()).contains("ProxyGroup web-pg").contains("https://" + dnsName);

    // Funnel cannot be honoured through a Tailscale Service: said, not ignored.
    assertThat(await().atMost(WAIT).until(() -> env.event(ing, "FunnelNotSupported"), Optional::isPresent)
        .orElseThrow()).satisfies(e -> {
          assertThat(e.getType()).isEqualTo("Warning");
          assertThat(e.getMessage()).contains("served on the tailnet only");
        });
    assertThat(env.client().apps().statefulSets().inNamespace(NS).withLabel("tailscale.com/parent-resource", "app")
        .list().getItems()).isEmpty();

    // Deleted: the service is released, unadvertised and unconfigured, its certificate resources removed.
    env.client().network().v1().ingresses().inNamespace(APP).withName("app").delete();
    await().atMost(WAIT).until(() -> ingress("app") == null);
    assertThat(env.tailnet().service("svc:app")).isEmpty();
    assertThat(serveConfig().path("Services").has("svc:app")).isFalse();
    assertThat(advertised("web-pg-0-config")).doesNotContain("svc:app");
    assertThat(advertised("web-pg-1-config")).doesNotContain("svc:app");
    assertThat(env.client().secrets().inNamespace(NS).withName(dnsName).get()).isNull();
    assertThat(env.client().rbac().roles().inNamespace(NS).withName(dnsName).get()).isNull();
    assertThat(env.client().rbac().roleBindings().inNamespace(NS).withName(dnsName).get()).isNull();
  }

  @Test
  void anIngressNamingAGroupThatDoesNotExistIsToldSoAndGetsNothing() {
    Ingress ing = create("lost", "no-such-group", "lost", "");
    assertThat(await().atMost(WAIT).until(() -> env.event(ing, "ProxyGroupNotFound"), Optional::isPresent)
        .orElseThrow()).satisfies(e -> {
          assertThat(e.getType()).isEqualTo("Warning");
          assertThat(e.getMessage()).contains("ProxyGroup \"no-such-group\" does not exist");
        });
    Ingress now = ingress("lost");
    assertThat(now.getMetadata().getFinalizers()).isNullOrEmpty();
    assertThat(status(now)).isEmpty();
    assertThat(env.tailnet().service("svc:lost")).isEmpty();
    assertThat(env.client().apps().statefulSets().inNamespace(NS).withLabel("tailscale.com/parent-resource", "lost")
        .list().getItems()).isEmpty();
    assertThat(env.client().secrets().inNamespace(NS).withLabel("tailscale.com/parent-resource", "lost").list()
        .getItems()).isEmpty();
    assertThat(env.client().resources(StatefulSet.class).inNamespace(NS).list().getItems())
        .extracting(s -> s.getMetadata().getName()).containsExactly("web-pg");
    assertThat(List.of(Role.class, RoleBinding.class)).allSatisfy(t -> assertThat(env.client().resources(t)
        .inNamespace(NS).withLabel("tailscale.com/domain").list().getItems()).isEmpty());
  }
}
