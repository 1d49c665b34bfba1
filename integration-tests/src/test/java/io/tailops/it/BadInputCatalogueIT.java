package io.tailops.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.Ingress;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyClass;
import io.tailops.local.OperatorEnvironment;
import io.tailops.operator.config.ConfigException;
import io.tailops.operator.config.OperatorConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The bad-input catalogue: malformed annotations, hostnames, tags, ProxyClass specs, Ingress shapes and operator
 * settings, each with exactly what the user sees (condition reason and message, or event, or the settings error) and
 * a check that nothing else happened (no proxy object, no auth key, no finalizer).
 */
class BadInputCatalogueIT {
  static OperatorEnvironment env;
  static final String NS = "bad-input";

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

  /** A Service case: the object, then the expected condition (null reason = no condition at all). */
  record ServiceCase(String name, Service svc, String reason, String message) {
  }

  static Service svc(String name, Map<String, String> annotations) {
    return new ServiceBuilder().withNewMetadata().withNamespace(NS).withName(name).withAnnotations(annotations)
        .endMetadata().withNewSpec().addToSelector("app", name).addNewPort().withPort(8080).endPort().endSpec()
        .build();
  }

  static Service lb(String name, Map<String, String> annotations, int port) {
    return new ServiceBuilder(svc(name, annotations)).editSpec().withType("LoadBalancer")
        .withLoadBalancerClass("tailscale").withPorts().addNewPort().withPort(port).endPort().endSpec().build();
  }

  static Map<String, String> expose(String... kv) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("tailscale.com/expose", "true");
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }

  static final String INVALID = "unable to provision proxy resources: invalid Service: ";

  static List<ServiceCase> serviceCases() {
    String long64 = "h".repeat(64);
    List<ServiceCase> c = new ArrayList<>();
    c.add(new ServiceCase("hn-underscore", svc("hn-underscore", expose("tailscale.com/hostname", "my_app")),
        "ProxyInvalid", INVALID + "invalid Tailscale hostname specified \"my_app\": \"my_app\" is not a valid DNS "
        + "label: contains invalid character \"_\""));
    c.add(new ServiceCase("hn-long", svc("hn-long", expose("tailscale.com/hostname", long64)), "ProxyInvalid",
        INVALID + "invalid Tailscale hostname specified \"" + long64 + "\": \"" + long64 + "\" is too long, max "
        + "length is 63 bytes"));
    c.add(new ServiceCase("hn-empty", svc("hn-empty", expose("tailscale.com/hostname", "")), "ProxyInvalid",
        INVALID + "invalid Tailscale hostname specified \"\": empty DNS label"));
    c.add(new ServiceCase("hn-dash-start", svc("hn-dash-start", expose("tailscale.com/hostname", "-app")),
        "ProxyInvalid", INVALID + "invalid Tailscale hostname specified \"-app\": \"-app\" is not a valid DNS label: "
        + "must start with a letter or number"));
    c.add(new ServiceCase("hn-dash-end", svc("hn-dash-end", expose("tailscale.com/hostname", "app-")),
        "ProxyInvalid", INVALID + "invalid Tailscale hostname specified \"app-\": \"app-\" is not a valid DNS label: "
        + "must end with a letter or number"));
    c.add(new ServiceCase("hn-dot", svc("hn-dot", expose("tailscale.com/hostname", "my.app")), "ProxyInvalid",
        INVALID + "invalid Tailscale hostname specified \"my.app\": \"my.app\" is not a valid DNS label: contains "
        + "invalid character \".\""));
    c.add(new ServiceCase("hn-space", svc("hn-space", expose("tailscale.com/hostname", "my app")), "ProxyInvalid",
        INVALID + "invalid Tailscale hostname specified \"my app\": \"my app\" is not a valid DNS label: contains "
        + "invalid character \" \""));
    // A Service whose <namespace>-<name> is too long for a hostname is no longer bad input: the default hostname is
    // shortened, with the event DefaultHostnameAdjusted (issue 13 item 2, NewUserIT.item2NamesDerivedFromParents).
    c.add(new ServiceCase("tag-no-prefix", svc("tag-no-prefix", expose("tailscale.com/tags", "k8s")), "ProxyInvalid",
        INVALID + "invalid tag \"k8s\": tags must start with 'tag:'"));
    c.add(new ServiceCase("tag-empty-name", svc("tag-empty-name", expose("tailscale.com/tags", "tag:")),
        "ProxyInvalid", INVALID + "invalid tag \"tag:\": tag names must not be empty"));
    c.add(new ServiceCase("tag-digit", svc("tag-digit", expose("tailscale.com/tags", "tag:1abc")), "ProxyInvalid",
        INVALID + "invalid tag \"tag:1abc\": tag names must start with a letter, after 'tag:'"));
    c.add(new ServiceCase("tag-underscore", svc("tag-underscore", expose("tailscale.com/tags", "tag:a_b")),
        "ProxyInvalid", INVALID + "invalid tag \"tag:a_b\": tag names can only contain numbers, letters, or dashes"));
    c.add(new ServiceCase("tag-empty-item", svc("tag-empty-item", expose("tailscale.com/tags", "tag:ok,,tag:x")),
        "ProxyInvalid", INVALID + "invalid tag \"\": tags must start with 'tag:'"));
    c.add(new ServiceCase("headless", new ServiceBuilder(svc("headless", expose())).editSpec().withClusterIP("None")
        .endSpec().build(), "ProxyInvalid", INVALID + "headless Services are not supported."));
    c.add(new ServiceCase("two-problems", new ServiceBuilder(svc("two-problems", expose("tailscale.com/tags",
        "nope"))).editSpec().withClusterIP("None").endSpec().build(), "ProxyInvalid", INVALID + "headless Services "
        + "are not supported., invalid tag \"nope\": tags must start with 'tag:'"));
    c.add(new ServiceCase("both-egress", svc("both-egress", expose("tailscale.com/tailnet-ip", "100.64.0.9",
        "tailscale.com/tailnet-fqdn", "db.tailnet-abc.ts.net")), "ProxyInvalid", INVALID + "only one of annotations "
        + "tailscale.com/tailnet-ip and tailscale.com/tailnet-fqdn can be set"));
    // egress Services (tailscale.com/tailnet-ip, tailscale.com/tailnet-fqdn): the Service is not pointed at a proxy
    c.add(new ServiceCase("egress-both", svc("egress-both", Map.of("tailscale.com/tailnet-ip", "100.64.0.9",
        "tailscale.com/tailnet-fqdn", "db.tailnet-abc.ts.net")), "ProxyInvalid", INVALID + "only one of "
        + "annotations tailscale.com/tailnet-ip and tailscale.com/tailnet-fqdn can be set"));
    c.add(new ServiceCase("egress-ip-256", svc("egress-ip-256", Map.of("tailscale.com/tailnet-ip", "100.64.0.256")),
        "ProxyInvalid", INVALID + "invalid value of annotation tailscale.com/tailnet-ip: \"100.64.0.256\" could not "
        + "be parsed as a valid IP Address, error: ParseAddr(\"100.64.0.256\"): IPv4 field has value >255"));
    c.add(new ServiceCase("egress-ip-name", svc("egress-ip-name", Map.of("tailscale.com/ts-tailnet-target-ip",
        "nas")), "ProxyInvalid", INVALID + "invalid value of annotation tailscale.com/ts-tailnet-target-ip: \"nas\" "
        + "could not be parsed as a valid IP Address, error: ParseAddr(\"nas\"): unable to parse IP"));
    c.add(new ServiceCase("egress-loopback", svc("egress-loopback", Map.of("tailscale.com/tailnet-ip", "127.0.0.1")),
        "ProxyInvalid", INVALID + "invalid value of annotation tailscale.com/tailnet-ip: \"127.0.0.1\" is a loopback "
        + "address, which no device in the tailnet or behind a subnet router can have; use the device's tailnet "
        + "address (100.x.y.z or fd7a:115c:a1e0::…) or an address a subnet router advertises"));
    c.add(new ServiceCase("egress-not-magicdns", svc("egress-not-magicdns", Map.of("tailscale.com/tailnet-fqdn",
        "db.example.com")), "ProxyInvalid", INVALID + "invalid value of annotation tailscale.com/tailnet-fqdn: "
        + "\"db.example.com\" does not appear to be a valid MagicDNS name"));
    c.add(new ServiceCase("egress-nodeport", new ServiceBuilder(svc("egress-nodeport", Map.of(
        "tailscale.com/tailnet-ip", "100.64.0.9"))).editSpec().withType("NodePort").endSpec().build(), "ProxyInvalid",
        INVALID + "a Service of type NodePort cannot be an egress Service: the operator points an egress Service at "
        + "its proxy by making it type ExternalName, which has no node ports; use type ClusterIP (and a separate "
        + "NodePort Service if something outside the cluster needs the target)"));
    c.add(new ServiceCase("egress-lb", new ServiceBuilder(svc("egress-lb", Map.of("tailscale.com/tailnet-fqdn",
        "db.tailnet-abc.ts.net"))).editSpec().withType("LoadBalancer").withLoadBalancerClass("example.com/lb")
        .endSpec().build(), "ProxyInvalid", INVALID + "a Service of type LoadBalancer cannot be an egress Service: "
        + "the operator points an egress Service at its proxy by making it type ExternalName, which releases the load "
        + "balancer; use type ClusterIP"));
    c.add(new ServiceCase("egress-headless", new ServiceBuilder(svc("egress-headless", Map.of(
        "tailscale.com/tailnet-ip", "100.64.0.9"))).editSpec().withClusterIP("None").endSpec().build(),
        "ProxyInvalid", INVALID + "headless Services are not supported."));
    c.add(new ServiceCase("ephemeral-yes", svc("ephemeral-yes", expose("tailscale.com/ephemeral", "yes")),
        "ProxyInvalid", INVALID + "invalid value of annotation tailscale.com/ephemeral: \"yes\", use \"true\" or "
        + "\"false\""));
    c.add(new ServiceCase("funnel-clusterip", svc("funnel-clusterip", expose("tailscale.com/funnel", "true")),
        "FunnelInvalid", "Funnel is only supported on Services of type LoadBalancer with loadBalancerClass tailscale "
        + "(or on Ingresses); remove tailscale.com/funnel or change the Service type"));
    c.add(new ServiceCase("funnel-no443", lb("funnel-no443", Map.of("tailscale.com/funnel", "true"), 8443),
        "FunnelInvalid", "Funnel is only available on port 443: add a TCP port 443 to the Service (for example port: "
        + "443, targetPort: 8080) or remove tailscale.com/funnel"));
    c.add(new ServiceCase("funnel-maybe", lb("funnel-maybe", Map.of("tailscale.com/funnel", "maybe"), 443),
        "ProxyInvalid", "unable to provision proxy resources: invalid value of annotation tailscale.com/funnel: "
        + "\"maybe\", use \"true\" or \"false\""));
    c.add(new ServiceCase("no-class", svc("no-class", expose("tailscale.com/proxy-class", "does-not-exist")),
        "ProxyFailed", "error verifying ProxyClass for Service: ProxyClass does-not-exist not found; create it or "
        + "remove the tailscale.com/proxy-class label/annotation"));
    c.add(new ServiceCase("invalid-class", svc("invalid-class", expose("tailscale.com/proxy-class",
        "catalogue-invalid")), "ProxyPending", "ProxyClass catalogue-invalid specified for the Service, but is not "
        + "(yet) Ready, waiting.. (ProxyClass is not valid: .spec.statefulSet.labels: Invalid value: \"a b\": name "
        + "part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
        + "character)"));
    c.add(new ServiceCase("expose-capital", svc("expose-capital", Map.of("tailscale.com/expose", "True")), null, null));
    c.add(new ServiceCase("expose-yes", svc("expose-yes", Map.of("tailscale.com/expose", "yes")), null, null));
    c.add(new ServiceCase("lb-other-class", new ServiceBuilder(lb("lb-other-class", Map.of(), 80)).editSpec()
        .withLoadBalancerClass("example.com/other").endSpec().build(), null, null));
    return c;
  }

  static Service getSvc(String name) {
    return env.client().services().inNamespace(NS).withName(name).get();
  }

  static void invalidClass() {
    if (env.client().resources(ProxyClass.class).withName("catalogue-invalid").get() == null) {
      env.client().resource(Serialization.unmarshal("apiVersion: tailscale.com/v1alpha1\nkind: ProxyClass\n"
          + "metadata: {name: catalogue-invalid}\nspec: {statefulSet: {labels: {\"a b\": x}}}\n", ProxyClass.class))
          .create();
    }
  }

  @TestFactory
  Stream<DynamicTest> services() {
    invalidClass();
    List<ServiceCase> cases = serviceCases();
    int keys = env.tailnet().keys().size();
    for (ServiceCase c : cases) {
      env.client().resource(c.svc()).create();
    }
    return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
      if (c.reason() == null) {
        env.awaitCurrentVersionsReconciled(getSvc(c.name()));
        assertThat(ServiceExposeIT.ready(getSvc(c.name()))).as(c.name() + " condition").isEmpty();
      } else {
        await().atMost(Duration.ofSeconds(60)).until(() -> ServiceExposeIT.ready(getSvc(c.name()))
            .filter(x -> c.reason().equals(x.getReason())).isPresent());
        assertThat(ServiceExposeIT.ready(getSvc(c.name())).get().getMessage()).isEqualTo(c.message());
        assertThat(ServiceExposeIT.ready(getSvc(c.name())).get().getStatus()).isEqualTo("False");
        await().atMost(Duration.ofSeconds(20)).until(() -> env.events(getSvc(c.name())).stream()
            .anyMatch(e -> "Warning".equals(e.getType()) && c.message().equals(e.getMessage())));
        env.awaitCurrentVersionsReconciled(getSvc(c.name()));
      }
      assertNothingFor("svc", c.name(), getSvc(c.name()));
      assertThat(getSvc(c.name()).getSpec().getType()).as("type unchanged (an egress Service is not rewritten)")
          .isEqualTo(c.svc().getSpec().getType() == null ? "ClusterIP" : c.svc().getSpec().getType());
      assertThat(env.tailnet().keys()).as("keys minted").hasSize(keys);
    }));
  }

  static void assertNothingFor(String type, String name, HasMetadata parent) {
    assertThat(env.statefulSets(type, NS, name)).as(name + " StatefulSets").isEmpty();
    assertThat(env.secrets(type, NS, name)).as(name + " Secrets").isEmpty();
    assertThat(parent.getMetadata().getFinalizers()).as(name + " finalizers").isNullOrEmpty();
  }

  /** An Ingress case: YAML and the expected Warning event (reason, message). */
  record IngressCase(String name, String yaml, String reason, String message) {
  }

  static List<IngressCase> ingressCases() {
    List<IngressCase> c = new ArrayList<>();
    String label64 = "l".repeat(64);
    c.add(new IngressCase("ing-bad-host", ingress("ing-bad-host", "tls: [{hosts: [" + label64 + ".example.com]}]",
        "defaultBackend: {service: {name: backend, port: {number: 80}}}", ""), "InvalidHostname",
        "invalid Tailscale hostname \"" + label64 + "\" (the first label of spec.tls[0].hosts[0] \"" + label64
        + ".example.com\"): \"" + label64 + "\" is too long, max length is 63 bytes; use a TLS host whose first label "
        + "is a valid DNS label (letters, digits and '-', at most 63 characters)"));
    c.add(new IngressCase("ing-bad-tags", ingress("ing-bad-tags", "", "defaultBackend: {service: {name: backend, "
        + "port: {number: 80}}}", "tailscale.com/tags: k8s"), "InvalidTags",
        "invalid tag \"k8s\": tags must start with 'tag:'"));
    c.add(new IngressCase("ing-missing-svc", ingress("ing-missing-svc", "", "defaultBackend: {service: {name: nope, "
        + "port: {number: 80}}}", ""), "InvalidIngressBackend",
        "failed to get service \"nope\" for path \"/\": services \"nope\" not found"));
    c.add(new IngressCase("ing-no-backends", ingress("ing-no-backends", "", "defaultBackend: {service: {name: nope, "
        + "port: {number: 80}}}", ""), "NoValidBackends", "no valid backends"));
    c.add(new IngressCase("ing-bad-port-name", ingress("ing-bad-port-name", "", "defaultBackend: {service: {name: "
        + "backend, port: {name: nosuch}}}", ""), "InvalidIngressBackend",
        "backend for path \"/\" has invalid port: Service \"backend\" has no port named \"nosuch\" (its ports: 80)"));
    c.add(new IngressCase("ing-port-name-typo", ingress("ing-port-name-typo", "", "defaultBackend: {service: {name: "
        + "named-be, port: {name: metric}}}", ""), "InvalidIngressBackend", "backend for path \"/\" has invalid port: "
        + "Service \"named-be\" has no port named \"metric\" (its ports: http (8080), metrics (9090))"));
    c.add(new IngressCase("ing-headless", ingress("ing-headless", "", "defaultBackend: {service: {name: headless-be, "
        + "port: {number: 80}}}", ""), "InvalidIngressBackend", "backend for path \"/\" has invalid ClusterIP: Service \"headless-be\" is headless "
        + "(clusterIP: None); the proxy forwards to a Service's cluster IP: point the Ingress at a Service of type "
        + "ClusterIP"));
    c.add(new IngressCase("ing-external-name", ingress("ing-external-name", "", "defaultBackend: {service: {name: "
        + "external-be, port: {number: 80}}}", ""), "InvalidIngressBackend", "backend for path \"/\" has invalid "
        + "ClusterIP: Service \"external-be\" is of type ExternalName (\"db.example.com\") and has no cluster IP; the "
        + "proxy forwards to a Service's cluster IP: point the Ingress at a Service of type ClusterIP"));
    c.add(new IngressCase("ing-other-host", ingress("ing-other-host", "tls: [{hosts: [mine]}]",
        "rules: [{host: theirs.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: "
        + "backend, port: {number: 80}}}}]}}]", ""), "InvalidIngressBackend",
        "rule with host \"theirs.example.com\" ignored, unsupported"));
    c.add(new IngressCase("ing-exact", ingress("ing-exact", "", "rules: [{http: {paths: [{path: /x, pathType: Exact, "
        + "backend: {service: {name: backend, port: {number: 80}}}}]}}]", ""), "UnsupportedPathTypeExact",
        "Exact path type strict matching is currently not supported and requests will be routed as for Prefix path "
        + "type. This behaviour might change in the future."));
    c.add(new IngressCase("ing-resource-backend", ingress("ing-resource-backend", "", "rules: [{http: {paths: "
        + "[{path: /b, pathType: Prefix, backend: {resource: {kind: Bucket, name: b}}}]}}]", ""),
        "InvalidIngressBackend", "backend for path \"/b\" is missing service"));
    c.add(new IngressCase("ing-invalid-class", ingress("ing-invalid-class", "", "defaultBackend: {service: {name: "
        + "backend, port: {number: 80}}}", "tailscale.com/proxy-class: catalogue-invalid"), "ProxyClassNotReady",
        "ProxyClass catalogue-invalid specified for the Ingress, but is not (yet) Ready, waiting.. (ProxyClass is not "
        + "valid: .spec.statefulSet.labels: Invalid value: \"a b\": name part must consist of alphanumeric "
        + "characters, '-', '_' or '.', and must start and end with an alphanumeric character)"));
    return c;
  }

  static String ingress(String name, String tls, String backends, String annotations) {
    return "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: " + name + "\n  namespace: " + NS
        + "\n" + (annotations.isEmpty() ? "" : "  annotations: {" + annotations + "}\n")
        + "spec:\n  ingressClassName: tailscale\n" + (tls.isEmpty() ? "" : "  " + tls + "\n") + "  " + backends + "\n";
  }

  @TestFactory
  Stream<DynamicTest> ingresses() {
    if (env.client().services().inNamespace(NS).withName("backend").get() == null) {
      env.backendService(NS, "backend", 80);
    }
    for (Service be : List.of(
        new ServiceBuilder().withNewMetadata().withNamespace(NS).withName("headless-be").endMetadata().withNewSpec()
            .withClusterIP("None").addToSelector("app", "x").addNewPort().withPort(80).endPort().endSpec().build(),
        new ServiceBuilder().withNewMetadata().withNamespace(NS).withName("external-be").endMetadata().withNewSpec()
            .withType("ExternalName").withExternalName("db.example.com").endSpec().build(),
        new ServiceBuilder().withNewMetadata().withNamespace(NS).withName("named-be").endMetadata().withNewSpec()
            .addToSelector("app", "x").addNewPort().withName("http").withPort(8080).endPort().addNewPort()
            .withName("metrics").withPort(9090).endPort().endSpec().build())) {
      if (env.client().services().inNamespace(NS).withName(be.getMetadata().getName()).get() == null) {
        env.client().resource(be).create();
      }
    }
    invalidClass();
    List<IngressCase> cases = ingressCases();
    int keys = env.tailnet().keys().size();
    for (IngressCase c : cases) {
      env.client().resource(Serialization.unmarshal(c.yaml(), Ingress.class)).create();
    }
    return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
      Ingress ing = env.client().network().v1().ingresses().inNamespace(NS).withName(c.name()).get();
      await().atMost(Duration.ofSeconds(60)).until(() -> env.events(ing).stream()
          .anyMatch(e -> c.reason().equals(e.getReason())));
      assertThat(env.events(ing)).filteredOn(e -> c.reason().equals(e.getReason()))
          .extracting(e -> e.getMessage()).contains(c.message());
      env.awaitCurrentVersionsReconciled(ing);
      if (c.name().equals("ing-exact")) {
        // A warning only: the Ingress is served (as a Prefix path), as upstream does.
        assertThat(env.statefulSets("ingress", NS, c.name())).hasSize(1);
      } else {
        assertThat(env.statefulSets("ingress", NS, c.name())).as(c.name() + " StatefulSets").isEmpty();
        assertThat(env.secrets("ingress", NS, c.name())).as(c.name() + " Secrets").isEmpty();
      }
      assertThat(env.tailnet().keys()).filteredOn(k -> !String.valueOf(k.description()).contains("ing-exact"))
          .hasSize(keys);
    }));
  }

  /**
   * A near miss (issue 13 item 5): YAML of an object that looks like a request but is not the accepted form, the one
   * Warning it gets (reason, message), and whether it is served nonetheless (an Ingress of our class is, as if the
   * ignored annotation were absent).
   */
  record NearMissCase(String name, String yaml, String reason, String message, boolean served) {
  }

  static final String BOOLEAN_FORM = "; the accepted values are \"true\" and \"false\" (lower case, quoted in YAML: ";

  static String plainService(String name, String annotations, String spec) {
    return "apiVersion: v1\nkind: Service\nmetadata:\n  name: " + name + "\n  namespace: " + NS + "\n"
        + (annotations.isEmpty() ? "" : "  annotations: {" + annotations + "}\n") + "spec: {" + spec
        + (spec.isEmpty() ? "" : ", ") + "selector: {app: x}, ports: [{port: 80}]}\n";
  }

  static List<NearMissCase> nearMissCases() {
    List<NearMissCase> c = new ArrayList<>();
    for (String v : List.of("True", "yes", "1", "on")) {
      String name = "nm-expose-" + v.toLowerCase();
      c.add(new NearMissCase(name, plainService(name, "tailscale.com/expose: \"" + v + "\"", ""),
          "AnnotationValueIgnored", "tailscale.com/expose: \"" + v + "\" is not \"true\", so the Service is not "
          + "exposed" + BOOLEAN_FORM + "tailscale.com/expose: \"true\")", false));
    }
    for (String k : List.of("exposed", "expos", "hostnme")) {
      String name = "nm-key-" + k;
      String meant = k.equals("hostnme") ? "hostname" : "expose";
      c.add(new NearMissCase(name, plainService(name, "tailscale.com/" + k + ": \"true\"", ""), "AnnotationIgnored",
          "unknown annotation tailscale.com/" + k + ", ignored; did you mean tailscale.com/" + meant + "?", false));
    }
    for (String cls : List.of("Tailscale", "TAILSCALE")) {
      String name = "nm-lb-" + cls.toLowerCase() + (cls.equals("TAILSCALE") ? "-upper" : "");
      c.add(new NearMissCase(name, plainService(name, "", "type: LoadBalancer, loadBalancerClass: " + cls),
          "ClassIgnored", "spec.loadBalancerClass \"" + cls + "\" is not \"tailscale\" (class names are "
          + "case-sensitive), so this operator does not serve the LoadBalancer (the class cannot be changed once set: "
          + "recreate the Service); use spec.loadBalancerClass: tailscale", false));
    }
    String backend = "defaultBackend: {service: {name: backend, port: {number: 80}}}";
    // spec.ingressClassName "Tailscale" is refused by the API server itself (a lowercase RFC 1123 subdomain); the
    // deprecated annotation is not read by either operator.
    for (String cls : List.of("tailscale", "Tailscale")) {
      String name = "nm-legacy-class-" + (cls.equals("tailscale") ? "lower" : "capital");
      c.add(new NearMissCase(name, ingress(name, "", backend, "kubernetes.io/ingress.class: " + cls)
          .replace("  ingressClassName: tailscale\n", ""), "ClassIgnored", "the annotation kubernetes.io/ingress.class: "
          + cls + " is deprecated and not read (neither by the official operator), so this operator does not serve the "
          + "Ingress; use spec.ingressClassName: tailscale", false));
    }
    for (String v : List.of("yes", "1")) {
      String name = "nm-funnel-" + v;
      c.add(new NearMissCase(name, ingress(name, "", backend, "tailscale.com/funnel: \"" + v + "\""),
          "AnnotationValueIgnored", "tailscale.com/funnel: \"" + v + "\" is not \"true\", so the Ingress is not "
          + "published through Funnel" + BOOLEAN_FORM + "tailscale.com/funnel: \"true\")", true));
    }
    c.add(new NearMissCase("nm-ing-hostname", ingress("nm-ing-hostname", "", backend, "tailscale.com/hostname: x"),
        "AnnotationIgnored", "tailscale.com/hostname is read on Services only; this Ingress ignores it: an Ingress's "
        + "tailnet hostname is the first label of spec.tls[0].hosts[0] (set spec.tls: [{hosts: [<hostname>]}])",
        true));
    c.add(new NearMissCase("nm-ing-expose", ingress("nm-ing-expose", "", backend, "tailscale.com/expose: \"true\""),
        "AnnotationIgnored", "tailscale.com/expose is read on Services only; this Ingress ignores it: an Ingress is "
        + "served because of spec.ingressClassName: tailscale", true));
    c.add(new NearMissCase("nm-svc-redirect", plainService("nm-svc-redirect", "tailscale.com/expose: \"true\", "
        + "tailscale.com/http-redirect: \"true\"", ""), "AnnotationIgnored", "tailscale.com/http-redirect is read "
        + "on Ingresses only; this Service ignores it", true));
    return c;
  }

  @TestFactory
  Stream<DynamicTest> nearMisses() {
    if (env.client().services().inNamespace(NS).withName("backend").get() == null) {
      env.backendService(NS, "backend", 80);
    }
    List<NearMissCase> cases = nearMissCases();
    for (NearMissCase c : cases) {
      HasMetadata obj = c.yaml().contains("kind: Service") ? Serialization.unmarshal(c.yaml(), Service.class)
          : Serialization.unmarshal(c.yaml(), Ingress.class);
      env.client().resource(obj).create();
    }
    // The served ones have their keys before the other factories count theirs.
    for (NearMissCase c : cases) {
      if (c.served()) {
        env.awaitProxy(c.yaml().contains("kind: Service") ? "svc" : "ingress", NS, c.name());
      }
    }
    return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
      boolean isService = c.yaml().contains("kind: Service");
      String type = isService ? "svc" : "ingress";
      HasMetadata obj = isService ? getSvc(c.name())
          : env.client().network().v1().ingresses().inNamespace(NS).withName(c.name()).get();
      // The Warning is the signal that the operator reconciled the object.
      await().atMost(Duration.ofSeconds(60)).until(() -> env.event(obj, c.reason()).isPresent());
      assertThat(env.events(obj)).filteredOn(e -> c.reason().equals(e.getReason())).singleElement()
          .satisfies(e -> {
            assertThat(e.getType()).isEqualTo("Warning");
            assertThat(e.getMessage()).isEqualTo(c.message());
          });
      if (c.served()) {
        await().atMost(Duration.ofSeconds(60)).until(() -> env.event(obj, isService ? "ProxyCreated" : "ProxyReady")
            .isPresent() || !env.statefulSets(type, NS, c.name()).isEmpty());
        assertThat(env.statefulSets(type, NS, c.name())).hasSize(1);
        if (!isService) {
          assertThat(env.tailscaledConfig(env.statefulSets(type, NS, c.name()).get(0).getMetadata().getName()))
              .doesNotContain("AllowFunnel");
        }
      } else {
        HasMetadata now = isService ? getSvc(c.name())
            : env.client().network().v1().ingresses().inNamespace(NS).withName(c.name()).get();
        assertNothingFor(type, c.name(), now);
        if (now instanceof Service s) {
          assertThat(ServiceExposeIT.ready(s)).isEmpty();
        }
      }
    }));
  }

  /** A ProxyClass case: spec YAML and the expected ProxyClassReady message. */
  record ClassCase(String name, String spec, String message) {
  }

  static List<ClassCase> classCases() {
    return List.of(
        new ClassCase("pc-label-key", "statefulSet: {labels: {\"a b\": x}}", "ProxyClass is not valid: "
            + ".spec.statefulSet.labels: Invalid value: \"a b\": name part must consist of alphanumeric characters, "
            + "'-', '_' or '.', and must start and end with an alphanumeric character"),
        new ClassCase("pc-label-prefix", "statefulSet: {labels: {\"Bad_Prefix/x\": y}}", "ProxyClass is not valid: "
            + ".spec.statefulSet.labels: Invalid value: \"Bad_Prefix/x\": prefix part a lowercase RFC 1123 subdomain "
            + "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
            + "alphanumeric character"),
        new ClassCase("pc-annotation-key", "statefulSet: {annotations: {\"/x\": y}}", "ProxyClass is not valid: "
            + ".spec.statefulSet.annotations: Invalid value: \"/x\": prefix part must be non-empty"),
        new ClassCase("pc-image", "statefulSet: {pod: {tailscaleContainer: {image: \"Repo/Image:tag\"}}}",
            "ProxyClass is not valid: .spec.statefulSet.pod.tailscaleContainer.image: Invalid value: "
            + "\"Repo/Image:tag\": invalid reference format"),
        new ClassCase("pc-init-image", "statefulSet: {pod: {tailscaleInitContainer: {image: \"img:bad tag\"}}}",
            "ProxyClass is not valid: .spec.statefulSet.pod.tailscaleInitContainer.image: Invalid value: "
            + "\"img:bad tag\": invalid reference format"),
        new ClassCase("pc-init-debug", "statefulSet: {pod: {tailscaleInitContainer: {debug: {enable: false}}}}",
            "ProxyClass is not valid: .spec.statefulSet.pod.tailscaleInitContainer.debug: Invalid value: \"enable\": "
            + "debug settings cannot be configured on the init container"),
        new ClassCase("pc-monitor", "metrics: {enable: true, serviceMonitor: {enable: true}}", "ProxyClass is not "
            + "valid: .spec.metrics.serviceMonitor: Invalid value: \"enable\": ProxyClass defines that a "
            + "ServiceMonitor custom resource should be created, but \"servicemonitors.monitoring.coreos.com\" CRD "
            + "was not found"),
        new ClassCase("pc-ports-overlap", "staticEndpoints: {nodePort: {ports: [{port: 30000, endPort: 30010}, {port: "
            + "30005}]}}", "ProxyClass is not valid: .spec.staticEndpoints.nodePort.ports[1]: Invalid value: "
            + "\"30005\": port range overlaps with 30000-30010"),
        new ClassCase("pc-ports-reversed", "staticEndpoints: {nodePort: {ports: [{port: 30010, endPort: 30000}]}}",
            "ProxyClass is not valid: .spec.staticEndpoints.nodePort.ports[0]: Invalid value: \"30010-30000\": port "
            + "range is not valid"));
  }

  /**
   * ProxyClass specs the API server itself refuses, as with the official CRD (label values have the official
   * pattern): the spec YAML and a part of the API server's message.
   */
  static List<ClassCase> classCasesRejectedByTheApiServer() {
    String pattern = " in body should match '^(([a-zA-Z0-9][-._a-zA-Z0-9]*)?[a-zA-Z0-9])?$'";
    return List.of(
        new ClassCase("pc-label-value", "statefulSet: {pod: {labels: {team: \"x!\"}}}",
            "spec.statefulSet.pod.labels.team" + pattern),
        new ClassCase("pc-sts-label-value", "statefulSet: {labels: {team: \"-eng-\"}}",
            "spec.statefulSet.labels.team" + pattern),
        new ClassCase("pc-monitor-label", "metrics: {enable: true, serviceMonitor: {enable: false, labels: {k: "
            + "\"-v\"}}}", "spec.metrics.serviceMonitor.labels.k" + pattern),
        new ClassCase("pc-label-value-too-long", "statefulSet: {labels: {team: " + "a".repeat(64) + "}}",
            "spec.statefulSet.labels.team: Too long: may not be more than 63 bytes"));
  }

  @TestFactory
  Stream<DynamicTest> proxyClassesRejectedByTheApiServer() {
    return classCasesRejectedByTheApiServer().stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
      ProxyClass pc = Serialization.unmarshal("apiVersion: tailscale.com/v1alpha1\nkind: ProxyClass\n"
          + "metadata: {name: " + c.name() + "}\nspec:\n  " + c.spec() + "\n", ProxyClass.class);
      assertThatThrownBy(() -> env.client().resource(pc).create()).hasMessageContaining(c.message());
      assertThat(env.client().resources(ProxyClass.class).withName(c.name()).get()).isNull();
    }));
  }

  @TestFactory
  Stream<DynamicTest> proxyClasses() {
    List<ClassCase> cases = classCases();
    for (ClassCase c : cases) {
      env.client().resource(Serialization.unmarshal("apiVersion: tailscale.com/v1alpha1\nkind: ProxyClass\n"
          + "metadata: {name: " + c.name() + "}\nspec:\n  " + c.spec() + "\n", ProxyClass.class)).create();
    }
    return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        ProxyClass pc = env.client().resources(ProxyClass.class).withName(c.name()).get();
        return pc.getStatus() != null && pc.getStatus().getConditions().stream()
            .anyMatch(x -> "ProxyClassInvalid".equals(x.getReason()));
      });
      ProxyClass pc = env.client().resources(ProxyClass.class).withName(c.name()).get();
      assertThat(pc.getStatus().getConditions().get(0).getMessage()).isEqualTo(c.message());
      await().atMost(Duration.ofSeconds(20)).until(() -> env.event(pc, "ProxyClassInvalid").isPresent());
      assertThat(env.event(pc, "ProxyClassInvalid").get().getMessage()).isEqualTo(c.message());
    }));
  }

  /**
   * ProxyClass settings that are accepted but do nothing or break the proxies (issue 13 item 6): the class stays valid
   * (as upstream) with the finding in its message and one Warning event.
   */
  @TestFactory
  Stream<DynamicTest> proxyClassSettingsThatDoNothing() {
    Map<String, String[]> cases = new LinkedHashMap<>();
    cases.put("pc-init-advertise-tags", new String[] {"statefulSet: {pod: {tailscaleInitContainer: {env: [{name: "
        + "TS_EXTRA_ARGS, value: \"--advertise-tags=tag:prod\"}]}}}", "spec.statefulSet.pod.tailscaleInitContainer.env "
        + "[TS_EXTRA_ARGS] has no effect"});
    cases.put("pc-init-any-env", new String[] {"statefulSet: {pod: {tailscaleInitContainer: {env: [{name: "
        + "TS_HOSTNAME, value: x}, {name: FOO, value: y}]}}}", "spec.statefulSet.pod.tailscaleInitContainer.env "
        + "[TS_HOSTNAME, FOO] has no effect"});
    cases.put("pc-main-authkey", new String[] {"statefulSet: {pod: {tailscaleContainer: {env: [{name: TS_AUTHKEY, "
        + "value: x}]}}}", "spec.statefulSet.pod.tailscaleContainer.env TS_AUTHKEY breaks the proxy"});
    cases.put("pc-main-extra-args", new String[] {"statefulSet: {pod: {tailscaleContainer: {env: [{name: "
        + "TS_EXTRA_ARGS, value: \"--advertise-tags=tag:a\"}]}}}", "spec.statefulSet.pod.tailscaleContainer.env "
        + "TS_EXTRA_ARGS breaks the proxy"});
    for (Map.Entry<String, String[]> c : cases.entrySet()) {
      env.client().resource(Serialization.unmarshal("apiVersion: tailscale.com/v1alpha1\nkind: ProxyClass\n"
          + "metadata: {name: " + c.getKey() + "}\nspec:\n  " + c.getValue()[0] + "\n", ProxyClass.class)).create();
    }
    return cases.entrySet().stream().map(c -> DynamicTest.dynamicTest(c.getKey(), () -> {
      var pc = env.client().resources(ProxyClass.class).withName(c.getKey());
      await().atMost(Duration.ofSeconds(60)).until(() -> pc.get().getStatus() != null
          && !pc.get().getStatus().getConditions().isEmpty());
      var ready = pc.get().getStatus().getConditions().get(0);
      assertThat(ready.getStatus()).isEqualTo("True");
      assertThat(ready.getMessage()).startsWith("ProxyClassValid, but: " + c.getValue()[1]);
      await().atMost(Duration.ofSeconds(20)).until(() -> env.event(pc.get(), "ProxyClassSettingIgnored").isPresent());
      assertThat(env.events(pc.get())).filteredOn(e -> "ProxyClassSettingIgnored".equals(e.getReason()))
          .singleElement().satisfies(e -> {
            assertThat(e.getType()).isEqualTo("Warning");
            assertThat(e.getMessage()).startsWith(c.getValue()[1]);
          });
    }));
  }

  /** Operator settings: one line per malformed variable, naming it and the accepted values. */
  @TestFactory
  Stream<DynamicTest> operatorSettings() {
    Map<String, String> base = new HashMap<>();
    base.put("OPERATOR_NAMESPACE", "tailscale");
    base.put("CLIENT_ID_FILE", "/oauth/client_id");
    base.put("CLIENT_SECRET_FILE", "/oauth/client_secret");
    Map<String, String[]> cases = new LinkedHashMap<>();
    // OPERATOR_LOGGING=verbose is not here: the official chart renders any value, so the operator logs at info with a
    // warning (OfficialChartValuesConfigTest).
    cases.put("OPERATOR_LEADER_ELECTION=yes", new String[] {"OPERATOR_LEADER_ELECTION", "yes",
        "OPERATOR_LEADER_ELECTION=yes is not valid: use true or false"});
    cases.put("OPERATOR_DEFAULT_LOAD_BALANCER=1", new String[] {"OPERATOR_DEFAULT_LOAD_BALANCER", "1",
        "OPERATOR_DEFAULT_LOAD_BALANCER=1 is not valid: use true or false"});
    cases.put("OPERATOR_HTTP_PORT=99999", new String[] {"OPERATOR_HTTP_PORT", "99999",
        "OPERATOR_HTTP_PORT=99999 is not valid: use a whole number from 1 to 65535"});
    cases.put("OPERATOR_RECONCILE_THREADS=0", new String[] {"OPERATOR_RECONCILE_THREADS", "0",
        "OPERATOR_RECONCILE_THREADS=0 is not valid: use a whole number from 1 to 64"});
    cases.put("OPERATOR_DEVICE_SWEEP_INTERVAL=often", new String[] {"OPERATOR_DEVICE_SWEEP_INTERVAL", "often",
        "OPERATOR_DEVICE_SWEEP_INTERVAL=often is not valid: use a duration such as 30s, 10m, 24h or 7d"});
    cases.put("OPERATOR_ORPHAN_GRACE_PERIOD=forever", new String[] {"OPERATOR_ORPHAN_GRACE_PERIOD", "forever",
        "OPERATOR_ORPHAN_GRACE_PERIOD=forever is not valid: use a duration such as 30s, 10m, 24h or 7d"});
    cases.put("OPERATOR_ORPHAN_DEVICES=purge", new String[] {"OPERATOR_ORPHAN_DEVICES", "purge",
        "OPERATOR_ORPHAN_DEVICES=purge is not valid: use one of report, delete"});
    cases.put("APISERVER_PROXY=maybe", new String[] {"APISERVER_PROXY", "maybe",
        "APISERVER_PROXY=maybe is not valid: use true, noauth or false"});
    cases.put("OPERATOR_LOGIN_SERVER=ftp", new String[] {"OPERATOR_LOGIN_SERVER", "ftp://example.com",
        "OPERATOR_LOGIN_SERVER=ftp://example.com is not a URL: use http://host:port or https://host"});
    cases.put("OPERATOR_LOGIN_SERVER=http off loopback", new String[] {"OPERATOR_LOGIN_SERVER",
        "http://headscale.example.com", "OPERATOR_LOGIN_SERVER=http://headscale.example.com is plain HTTP to a host "
        + "that is not this machine's loopback: the operator would send its credentials (OAuth client secret or "
        + "headscale API key) and receive the auth keys it mints in clear text. Use https://, or accept the risk with "
        + "OPERATOR_LOGIN_SERVER_ALLOW_HTTP=true (chart value loginServerAllowHttp: true), e.g. for a control server "
        + "reached only inside the cluster"});
    cases.put("OPERATOR_STATUS_PAGE=public", new String[] {"OPERATOR_STATUS_PAGE", "public",
        "OPERATOR_STATUS_PAGE=public is not valid: use one of grant, tailnet, off"});
    cases.put("OPERATOR_ADMIN_PORT=-1", new String[] {"OPERATOR_ADMIN_PORT", "-1",
        "OPERATOR_ADMIN_PORT=-1 is not valid: use a whole number from 0 to 65535"});
    cases.put("CLIENT_ID_FILE missing", new String[] {"CLIENT_ID_FILE", "", "CLIENT_ID_FILE and CLIENT_SECRET_FILE "
        + "must be set: paths of files holding the OAuth client ID and secret (the Helm chart mounts the "
        + "operator-oauth Secret at /oauth/client_id and /oauth/client_secret)"});
    cases.put("OPERATOR_CONTROL_PLANE=headscale without server", new String[] {"OPERATOR_CONTROL_PLANE", "headscale",
        "OPERATOR_CONTROL_PLANE=headscale needs OPERATOR_LOGIN_SERVER (the headscale server URL)"});
    return cases.entrySet().stream().map(e -> DynamicTest.dynamicTest(e.getKey(), () -> {
      Map<String, String> env = new HashMap<>(base);
      env.put(e.getValue()[0], e.getValue()[1]);
      assertThatThrownBy(() -> OperatorConfig.fromEnv(env)).isInstanceOf(ConfigException.class)
          .satisfies(ex -> assertThat(ex.getMessage().split("\n")).contains(e.getValue()[2]));
    }));
  }
}
