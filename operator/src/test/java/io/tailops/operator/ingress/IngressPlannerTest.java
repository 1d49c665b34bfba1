package io.tailops.operator.ingress;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.operator.status.Problem;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class IngressPlannerTest {
  private final IngressPlanner planner = new IngressPlanner("tailscale", List.of("tag:k8s"), "", ns -> true, true);

  private final Map<String, Service> services = Map.of(
      "app/web", svc("web", "10.0.0.12", 8080, null),
      "app/api", svc("api", "10.0.0.13", 80, null),
      "app/secure", new ServiceBuilder(svc("secure", "10.0.0.14", 443, null)).editSpec().addNewPort()
          .withName("https").withPort(8443).endPort().endSpec().build(),
      "app/headless", svc("headless", "None", 80, null),
      "app/external", new ServiceBuilder(svc("external", null, 80, null)).editSpec().withType("ExternalName")
          .withExternalName("db.example.com").endSpec().build(),
      "my-dashboard/my-dashboard", svc("my-dashboard", "10.0.0.20", 3000, null));

  static Service svc(String name, String clusterIp, int port, String portName) {
    return new ServiceBuilder().withNewMetadata().withName(name).endMetadata().withNewSpec().withClusterIP(clusterIp)
        .addNewPort().withName(portName).withPort(port).endPort().endSpec().build();
  }

  private Optional<Service> lookup(String ns, String name) {
    return Optional.ofNullable(services.get(ns + "/" + name));
  }

  static Ingress ingress(String yaml) {
    return Serialization.unmarshal(yaml, Ingress.class);
  }

  static String fixture(String name) throws IOException {
    try (InputStream in = IngressPlannerTest.class.getResourceAsStream("/serve-config/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private IngressPlan.Expose expose(Ingress ing) {
    IngressPlan p = planner.plan(ing, this::lookup);
    assertThat(p).isInstanceOf(IngressPlan.Expose.class);
    return (IngressPlan.Expose) p;
  }

  @Test
  void seedMyDashboardIngress() throws IOException {
    IngressPlan.Expose e = expose(ingress("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: my-dashboard, namespace: my-dashboard, uid: u1, annotations: {tailscale.com/proxy-class: prod}}
        spec:
          ingressClassName: tailscale
          rules:
            - http:
                paths:
                  - path: /
                    pathType: Prefix
                    backend: {service: {name: my-dashboard, port: {number: 3000}}}
          tls:
            - hosts: [my-dashboard]
        """));
    assertThat(e.hostname()).isEqualTo("my-dashboard");
    assertThat(e.proxyClassName()).isEqualTo("prod");
    assertThat(e.funnel()).isFalse();
    assertThat(e.serveConfigJson()).isEqualTo(fixture("seed-my-dashboard.json"));
    assertThat(e.problems()).isEmpty();
  }

  @Test
  void funnelWithTwoPathsMatchesTheOfficialBytes() throws IOException {
    IngressPlan.Expose e = expose(ingress("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: public, namespace: app, annotations: {tailscale.com/funnel: "true"}}
        spec:
          ingressClassName: tailscale
          rules:
            - http:
                paths:
                  - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
                  - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}
        """));
    assertThat(e.hostname()).isEqualTo("app-public-ingress");
    assertThat(e.funnel()).isTrue();
    assertThat(e.serveConfigJson()).isEqualTo(fixture("funnel-two-paths.json"));
  }

  @Test
  void httpRedirectAddsPort80HandlersAndFunnelOn80() throws IOException {
    IngressPlan.Expose e = expose(ingress("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: public, namespace: app, annotations: {tailscale.com/funnel: "true", tailscale.com/http-redirect: "true"}}
        spec:
          ingressClassName: tailscale
          rules:
            - http:
                paths:
                  - {path: /api, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}
                  - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}
        """));
    assertThat(e.httpRedirect()).isTrue();
    assertThat(e.serveConfigJson()).isEqualTo(fixture("funnel-redirect.json"));
  }

  @Test
  void defaultBackendAndHttpsBackendsByPortNumberAndName() throws IOException {
    IngressPlan.Expose e = expose(ingress("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: mixed, namespace: app}
        spec:
          ingressClassName: tailscale
          defaultBackend: {service: {name: web, port: {number: 8080}}}
          tls: [{hosts: [mixed.tailnet-abc.ts.net]}]
          rules:
            - host: mixed.tailnet-abc.ts.net
              http:
                paths:
                  - {path: /secure, pathType: Prefix, backend: {service: {name: secure, port: {number: 443}}}}
                  - {path: /named, pathType: Prefix, backend: {service: {name: secure, port: {name: https}}}}
        """));
    assertThat(e.hostname()).isEqualTo("mixed");
    assertThat(e.serveConfigJson()).isEqualTo(fixture("default-backend-https.json"));
  }

  @Test
  void anIngressNamedLikeADomainGetsAValidDefaultHostnameAndIsTold() {
    IngressPlan.Expose e = expose(ingress("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: grafana.example.com, namespace: app, uid: u9}
        spec:
          ingressClassName: tailscale
          defaultBackend: {service: {name: web, port: {number: 8080}}}
        """));
    assertThat(e.hostname()).isEqualTo("app-grafana-example-com-ingress");
    assertThat(e.problems()).contains(Problem.normal("DefaultHostnameAdjusted", "the default hostname "
        + "\"app-grafana.example.com-ingress\" (from the Ingress's namespace and name, as it has no "
        + "spec.tls[0].hosts[0]) is not a valid DNS label (\"app-grafana.example.com-ingress\" is not a valid DNS "
        + "label: contains invalid character \".\"), so the proxy uses \"app-grafana-example-com-ingress\"; set "
        + "spec.tls[0].hosts[0] to choose another"));
  }

  @Test
  void anInvalidTlsHostIsNamedAsTheSourceOfTheHostname() {
    IngressPlan p = planner.plan(ingress("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: wild, namespace: app}
        spec:
          ingressClassName: tailscale
          tls: [{hosts: ["*.example.com"]}]
          defaultBackend: {service: {name: web, port: {number: 8080}}}
        """), this::lookup);
    assertThat(((IngressPlan.Unservable) p).problems()).containsExactly(Problem.warning("InvalidHostname",
        "invalid Tailscale hostname \"*\" (the first label of spec.tls[0].hosts[0] \"*.example.com\"): \"*\" is not "
            + "a valid DNS label: must start with a letter or number; use a TLS host whose first label is a valid "
            + "DNS label (letters, digits and '-', at most 63 characters)"));
  }

  @Test
  void everyBackendProblemIsReported() {
    IngressPlan p = planner.plan(ingress("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: broken, namespace: app}
        spec:
          ingressClassName: tailscale
          tls: [{hosts: [broken]}]
          rules:
            - host: other.example.com
              http:
                paths:
                  - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 8080}}}}
            - http:
                paths:
                  - {path: /missing, pathType: Prefix, backend: {service: {name: nope, port: {number: 80}}}}
                  - {path: /badport, pathType: Prefix, backend: {service: {name: web, port: {name: nosuch}}}}
                  - {path: /headless, pathType: Prefix, backend: {service: {name: headless, port: {number: 80}}}}
                  - {path: /external, pathType: Prefix, backend: {service: {name: external, port: {number: 80}}}}
                  - {path: /exact, pathType: Exact, backend: {resource: {kind: Bucket, name: b}}}
        """), this::lookup);
    assertThat(p).isInstanceOf(IngressPlan.Unservable.class);
    assertThat(((IngressPlan.Unservable) p).problems()).extracting(Problem::reason, Problem::message).containsExactly(
        org.assertj.core.groups.Tuple.tuple("InvalidIngressBackend", "rule with host \"other.example.com\" ignored, "
            + "unsupported"),
        org.assertj.core.groups.Tuple.tuple("InvalidIngressBackend", "failed to get service \"nope\" for path "
            + "\"/missing\": services \"nope\" not found"),
        org.assertj.core.groups.Tuple.tuple("InvalidIngressBackend", "backend for path \"/badport\" has invalid port: "
            + "Service \"web\" has no port named \"nosuch\" (its ports: 8080)"),
        org.assertj.core.groups.Tuple.tuple("InvalidIngressBackend", "backend for path \"/headless\" has invalid "
            + "ClusterIP: Service \"headless\" is headless (clusterIP: None); the proxy forwards to a Service's cluster "
            + "IP: point the Ingress at a Service of type ClusterIP"),
        org.assertj.core.groups.Tuple.tuple("InvalidIngressBackend", "backend for path \"/external\" has invalid "
            + "ClusterIP: Service \"external\" is of type ExternalName (\"db.example.com\") and has no cluster IP; the "
            + "proxy forwards to a Service's cluster IP: point the Ingress at a Service of type ClusterIP"),
        org.assertj.core.groups.Tuple.tuple("UnsupportedPathTypeExact", "Exact path type strict matching is currently "
            + "not supported and requests will be routed as for Prefix path type. This behaviour might change in the "
            + "future."),
        org.assertj.core.groups.Tuple.tuple("InvalidIngressBackend", "backend for path \"/exact\" is missing service"),
        org.assertj.core.groups.Tuple.tuple("NoValidBackends", "no valid backends"));
  }

  @Test
  void anEmptyPathDefaultsToRootWithANormalEvent() {
    IngressPlan.Expose e = expose(ingress("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: nopath, namespace: app}
        spec:
          ingressClassName: tailscale
          rules:
            - http:
                paths:
                  - {pathType: ImplementationSpecific, backend: {service: {name: web, port: {number: 8080}}}}
        """));
    assertThat(e.problems()).containsExactly(Problem.normal("PathUndefined",
        "configured backend is missing a path, defaulting to '/'"));
    assertThat(e.serveConfigJson()).contains("\"/\":{\"Proxy\":\"http://10.0.0.12:8080/\"}");
  }

  @Test
  void funnelIsRefusedOutsideTheAllowedNamespacesButTheIngressIsStillServed() {
    IngressPlanner strict = new IngressPlanner("tailscale", List.of("tag:k8s"), "", ns -> ns.equals("public"), true);
    IngressPlan p = strict.plan(ingress("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: x, namespace: app, annotations: {tailscale.com/funnel: "true"}}
        spec:
          ingressClassName: tailscale
          defaultBackend: {service: {name: web, port: {number: 8080}}}
        """), this::lookup);
    IngressPlan.Expose e = (IngressPlan.Expose) p;
    assertThat(e.funnel()).isFalse();
    assertThat(e.serveConfigJson()).doesNotContain("AllowFunnel");
    assertThat(e.problems()).extracting(Problem::reason).containsExactly("FunnelNotAllowed");
  }

  @Test
  void otherClassesAndProxyGroupIngressesAreNotOurs() {
    assertThat(planner.plan(ingress("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: x, namespace: app}
        spec: {ingressClassName: nginx}
        """), this::lookup)).isInstanceOf(IngressPlan.NotOurs.class);
    assertThat(planner.plan(ingress("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: x, namespace: app, annotations: {tailscale.com/proxy-group: pg}}
        spec: {ingressClassName: tailscale}
        """), this::lookup)).isInstanceOf(IngressPlan.NotOurs.class);
  }

  @Test
  void withoutCertificatesAnHttpsIngressIsRefusedAndPlainHttpIsOffered() {
    IngressPlanner headscale = new IngressPlanner("tailscale", List.of("tag:k8s"), "", ns -> true, false);
    Ingress https = ingress("""
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: x, namespace: app}
        spec:
          ingressClassName: tailscale
          defaultBackend: {service: {name: web, port: {number: 8080}}}
        """);
    IngressPlan p = headscale.plan(https, this::lookup);
    assertThat(((IngressPlan.Unservable) p).problems().get(0).reason()).isEqualTo("HTTPSNotAvailable");
    https.getMetadata().setAnnotations(Map.of("tailscale.com/http", "true"));
    IngressPlan.Expose e = (IngressPlan.Expose) headscale.plan(https, this::lookup);
    assertThat(e.plainHttp()).isTrue();
    assertThat(e.serveConfigJson()).isEqualTo("{\"TCP\":{\"80\":{\"HTTP\":true}},\"Web\":{\"${TS_CERT_DOMAIN}:80\":"
        + "{\"Handlers\":{\"/\":{\"Proxy\":\"http://10.0.0.12:8080/\"}}}}}");
  }
}
