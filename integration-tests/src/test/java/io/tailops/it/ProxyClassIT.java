package io.tailops.it;

import io.tailops.local.OperatorEnvironment;

import static io.tailops.it.ServiceExposeIT.clusterIp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.ProxyClass;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;

/**
 * ProxyClass: the seed's classes and the official example apply unchanged and shape the proxies field by field;
 * invalid classes are explained and never reach a proxy; Services wait for a missing or unready class and proceed
 * when it is ready; updating a class rolls exactly its users; deleting a class in use is reported.
 */
@TestMethodOrder(MethodOrderer.MethodName.class)
class ProxyClassIT {
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

  static ProxyClass apply(String yaml) {
    ProxyClass pc = Serialization.unmarshal(yaml, ProxyClass.class);
    return env.client().resource(pc).forceConflicts().serverSideApply();
  }

  static ProxyClass get(String name) {
    return env.client().resources(ProxyClass.class).withName(name).get();
  }

  static Optional<Condition> readyCondition(String name) {
    ProxyClass pc = get(name);
    return pc == null || pc.getStatus() == null ? Optional.empty() : pc.getStatus().getConditions().stream()
        .filter(c -> "ProxyClassReady".equals(c.getType())).findFirst();
  }

  static Condition awaitClass(String name, String status, String reason) {
    await().atMost(Duration.ofSeconds(60)).until(() -> readyCondition(name)
        .filter(c -> status.equals(c.getStatus()) && reason.equals(c.getReason())
            && c.getObservedGeneration().equals(get(name).getMetadata().getGeneration())).isPresent());
    return readyCondition(name).orElseThrow();
  }

  static StatefulSet proxyOf(String ns, String name) {
    env.awaitProxy("svc", ns, name);
    return env.statefulSets("svc", ns, name).get(0);
  }

  static Container container(StatefulSet sts, String name, boolean init) {
    PodSpec pod = sts.getSpec().getTemplate().getSpec();
    return (init ? pod.getInitContainers() : pod.getContainers()).stream().filter(c -> name.equals(c.getName()))
        .findFirst().orElseThrow();
  }

  static final String PROD = """
      apiVersion: tailscale.com/v1alpha1
      kind: ProxyClass
      metadata:
        name: prod
      spec:
        statefulSet:
          pod:
            tailscaleInitContainer:
              env:
                - name: TS_EXTRA_ARGS
                  value: "--advertise-tags=tag:k8s-operator"
      """;

  @Test
  void theSeedProdClassShapesTheProxyOfMethod1() {
    apply(PROD);
    Condition c = awaitClass("prod", "True", "ProxyClassValid");
    // Valid as upstream, but the init container reads no environment: the message says so (issue 13 item 6).
    assertThat(c.getMessage()).startsWith("ProxyClassValid, but: spec.statefulSet.pod.tailscaleInitContainer.env "
        + "[TS_EXTRA_ARGS] has no effect");
    env.createNamespace("pc-prod");
    env.client().resource(clusterIp("pc-prod", "my-service", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", "pc-prod", "tailscale.com/proxy-class", "prod"))).create();
    StatefulSet sts = proxyOf("pc-prod", "my-service");
    Container init = container(sts, "sysctler", true);
    assertThat(init.getEnv()).extracting(EnvVar::getName, EnvVar::getValue)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("TS_EXTRA_ARGS", "--advertise-tags=tag:k8s-operator"));
    assertThat(container(sts, "tailscale", false).getEnv()).extracting(EnvVar::getName)
        .doesNotContain("TS_EXTRA_ARGS");
    await().atMost(Duration.ofSeconds(60)).until(() -> ServiceExposeIT.ready(env.client().services()
        .inNamespace("pc-prod").withName("my-service").get()).map(x -> "True".equals(x.getStatus())).orElse(false));
  }

  @Test
  void theOfficialExampleShapeAppliesUnchangedAndIsAppliedFieldByField() {
    apply("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyClass
        metadata:
          name: official-example
        spec:
          metrics:
            enable: true
          statefulSet:
            annotations:
              platform-component: infra
            pod:
              labels:
                team: eng
              nodeSelector:
                kubernetes.io/os: "linux"
              imagePullSecrets:
              - name: "foo"
              tailscaleContainer:
                image: "ghcr.io/tailscale/tailscale:v1.64"
                imagePullPolicy: IfNotPresent
                resources:
                  requests: {cpu: 100m, memory: 64Mi}
                  limits: {memory: 128Mi}
              tailscaleInitContainer:
                image: "ghcr.io/tailscale/tailscale:v1.64"
                imagePullPolicy: IfNotPresent
              tolerations:
              - {key: dedicated, operator: Equal, value: tailscale, effect: NoSchedule}
              priorityClassName: system-cluster-critical
              dnsPolicy: ClusterFirstWithHostNet
          tailscale:
            acceptRoutes: true
        """);
    awaitClass("official-example", "True", "ProxyClassValid");
    env.createNamespace("pc-example");
    env.client().resource(clusterIp("pc-example", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/proxy-class", "official-example"))).create();
    StatefulSet sts = proxyOf("pc-example", "web");
    assertThat(sts.getMetadata().getAnnotations()).containsEntry("platform-component", "infra");
    assertThat(sts.getMetadata().getLabels()).containsEntry("tailscale.com/managed", "true");
    PodSpec pod = sts.getSpec().getTemplate().getSpec();
    assertThat(sts.getSpec().getTemplate().getMetadata().getLabels()).containsEntry("team", "eng")
        .containsKey("app");
    assertThat(pod.getNodeSelector()).containsExactly(Map.entry("kubernetes.io/os", "linux"));
    assertThat(pod.getImagePullSecrets()).extracting(r -> r.getName()).containsExactly("foo");
    assertThat(pod.getTolerations()).singleElement().satisfies(t -> assertThat(t.getKey()).isEqualTo("dedicated"));
    assertThat(pod.getPriorityClassName()).isEqualTo("system-cluster-critical");
    assertThat(pod.getDnsPolicy()).isEqualTo("ClusterFirstWithHostNet");
    Container main = container(sts, "tailscale", false);
    assertThat(main.getImage()).isEqualTo("ghcr.io/tailscale/tailscale:v1.64");
    assertThat(main.getImagePullPolicy()).isEqualTo("IfNotPresent");
    assertThat(main.getResources().getRequests()).containsEntry("cpu", new Quantity("100m"));
    assertThat(main.getResources().getLimits()).containsEntry("memory", new Quantity("128Mi"));
    assertThat(main.getEnv()).extracting(EnvVar::getName).containsSubsequence("TS_INTERNAL_APP",
        "TS_DEBUG_ADDR_PORT", "TS_TAILSCALED_EXTRA_ARGS", "TS_LOCAL_ADDR_PORT", "TS_ENABLE_METRICS");
    assertThat(main.getPorts()).extracting(p -> p.getName() + ":" + p.getContainerPort())
        .containsExactly("debug:9001", "metrics:9002");
    assertThat(container(sts, "sysctler", true).getImage()).isEqualTo("ghcr.io/tailscale/tailscale:v1.64");
    // acceptRoutes reaches the tailscaled config.
    await().atMost(Duration.ofSeconds(30)).until(() -> env.tailscaledConfig(sts.getMetadata().getName())
        .contains("\"acceptRoutes\":true"));
  }

  @Test
  void invalidClassesAreExplainedAndNeverReachAProxy() {
    record Case(String name, String spec, String message) {
    }
    List<Case> cases = List.of(
        new Case("bad-label", "statefulSet: {pod: {labels: {\"bad key!\": x}}}",
            "ProxyClass is not valid: .spec.statefulSet.pod.labels: Invalid value: \"bad key!\": name part must "
                + "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
                + "character"),
        new Case("bad-image", "statefulSet: {pod: {tailscaleContainer: {image: \"UPPER/Case:tag\"}}}",
            "ProxyClass is not valid: .spec.statefulSet.pod.tailscaleContainer.image: Invalid value: "
                + "\"UPPER/Case:tag\": invalid reference format"),
        new Case("init-debug", "statefulSet: {pod: {tailscaleInitContainer: {debug: {enable: true}}}}",
            "ProxyClass is not valid: .spec.statefulSet.pod.tailscaleInitContainer.debug: Invalid value: "
                + "\"enable\": debug settings cannot be configured on the init container"),
        new Case("monitor-without-crd", "metrics: {enable: true, serviceMonitor: {enable: true}}",
            "ProxyClass is not valid: .spec.metrics.serviceMonitor: Invalid value: \"enable\": ProxyClass defines "
                + "that a ServiceMonitor custom resource should be created, but "
                + "\"servicemonitors.monitoring.coreos.com\" CRD was not found"),
        new Case("two-errors", "statefulSet: {labels: {\"bad key!\": x}, pod: {tailscaleContainer: {image: \"a b\"}}}",
            "ProxyClass is not valid: [.spec.statefulSet.labels: Invalid value: \"bad key!\": name part must "
                + "consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
                + "character, .spec.statefulSet.pod.tailscaleContainer.image: Invalid value: \"a b\": "
                + "invalid reference format]"));
    // A bad label value is refused by the API server itself, as with the official CRD (label-value pattern).
    assertThatThrownBy(() -> apply("apiVersion: tailscale.com/v1alpha1\nkind: ProxyClass\nmetadata: "
        + "{name: bad-label-value}\nspec:\n  statefulSet: {labels: {team: \"-eng-\"}}\n"))
        .hasMessageContaining("spec.statefulSet.labels.team in body should match "
            + "'^(([a-zA-Z0-9][-._a-zA-Z0-9]*)?[a-zA-Z0-9])?$'");
    assertThat(get("bad-label-value")).isNull();
    env.createNamespace("pc-invalid");
    for (Case c : cases) {
      apply("apiVersion: tailscale.com/v1alpha1\nkind: ProxyClass\nmetadata: {name: " + c.name() + "}\nspec:\n  "
          + c.spec() + "\n");
      env.client().resource(clusterIp("pc-invalid", c.name(), Map.of("tailscale.com/expose", "true",
          "tailscale.com/proxy-class", c.name()))).create();
    }
    for (Case c : cases) {
      Condition cond = awaitClass(c.name(), "False", "ProxyClassInvalid");
      assertThat(cond.getMessage()).as(c.name()).isEqualTo(c.message());
      await().atMost(Duration.ofSeconds(10)).until(() -> env.event(get(c.name()), "ProxyClassInvalid").isPresent());
      assertThat(env.event(get(c.name()), "ProxyClassInvalid").get().getMessage()).isEqualTo(c.message());
      // The Service waits; no proxy is created with an invalid class.
      await().atMost(Duration.ofSeconds(30)).until(() -> ServiceExposeIT.ready(env.client().services()
          .inNamespace("pc-invalid").withName(c.name()).get()).map(x -> "ProxyPending".equals(x.getReason()))
          .orElse(false));
      assertThat(ServiceExposeIT.ready(env.client().services().inNamespace("pc-invalid").withName(c.name()).get())
          .get().getMessage()).startsWith("ProxyClass " + c.name() + " specified for the Service, but is not (yet) "
              + "Ready, waiting..");
      env.awaitCurrentVersionsReconciled(env.client().services().inNamespace("pc-invalid").withName(c.name()).get());
      assertThat(env.statefulSets("svc", "pc-invalid", c.name())).isEmpty();
    }
  }

  /** Last: it installs the ServiceMonitor CRD, which makes the "monitor without CRD" case valid. */
  @Test
  void zzMetricsAndServiceMonitorFollowTheClass() {
    env.kube().installCrdsFromClasspath("servicemonitors-crd.yaml");
    apply("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyClass
        metadata: {name: monitored}
        spec:
          metrics:
            enable: true
            serviceMonitor: {enable: true, labels: {release: prometheus}}
        """);
    awaitClass("monitored", "True", "ProxyClassValid");
    env.createNamespace("pc-metrics");
    env.client().resource(clusterIp("pc-metrics", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/proxy-class", "monitored"))).create();
    String sts = proxyOf("pc-metrics", "web").getMetadata().getName();
    await().atMost(Duration.ofSeconds(60)).until(() -> env.client().services().inNamespace("tailscale")
        .withName(sts + "-metrics").get() != null);
    var metrics = env.client().services().inNamespace("tailscale").withName(sts + "-metrics").get();
    assertThat(metrics.getMetadata().getLabels()).containsEntry("ts_proxy_type", "ingress_service")
        .containsEntry("ts_proxy_parent_name", "web").containsEntry("ts_proxy_parent_namespace", "pc-metrics")
        .containsEntry("ts_prom_job", "ts_ingress_service_pc-metrics_web")
        .containsEntry("tailscale.com/metrics-target", sts);
    assertThat(metrics.getSpec().getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getName()).isEqualTo("metrics");
      assertThat(p.getPort()).isEqualTo(9002);
    });
    var monitors = env.client().genericKubernetesResources("monitoring.coreos.com/v1", "ServiceMonitor")
        .inNamespace("tailscale");
    await().atMost(Duration.ofSeconds(30)).until(() -> monitors.withName(sts + "-metrics").get() != null);
    var sm = monitors.withName(sts + "-metrics").get();
    assertThat(sm.getMetadata().getLabels()).containsEntry("release", "prometheus");
    assertThat(sm.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(metrics.getMetadata().getUid()));
    // A ServiceMonitor that is missing (removed by hand, or not created because the CRD was not served yet) comes
    // back with the next reconcile, although the metrics Service itself is unchanged.
    String firstUid = sm.getMetadata().getUid();
    monitors.withName(sts + "-metrics").delete();
    touch("pc-metrics", "web", "1");
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      var again = monitors.withName(sts + "-metrics").get();
      return again != null && !firstUid.equals(again.getMetadata().getUid());
    });
    // Then it settles: a reconcile of the unchanged world writes nothing to the proxy's objects (no loop between the
    // metrics Service and its monitor). A first try may still see the follow-up of the recreation; a loop writes on
    // every try.
    List<String> writes = null;
    for (int attempt = 1; attempt <= 3 && (writes == null || !writes.isEmpty()); attempt++) {
      var mark = env.mark();
      String value = "settle-" + attempt;
      env.awaitReconciled(touch("pc-metrics", "web", value));
      writes = env.operatorRequestsSince(mark).writes().filter(e -> e.name() != null && e.name().startsWith(sts))
          .stream().map(Object::toString).toList();
    }
    assertThat(writes).as("writes to the proxy's objects by a reconcile of the unchanged world").isEmpty();
    // Metrics off: the Service goes, and the ServiceMonitor with it (owner reference, garbage collector).
    apply("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyClass
        metadata: {name: monitored}
        spec:
          metrics: {enable: false}
        """);
    await().atMost(Duration.ofSeconds(60)).until(() -> env.client().services().inNamespace("tailscale")
        .withName(sts + "-metrics").get() == null && monitors.withName(sts + "-metrics").get() == null);
  }

  @Test
  void aCustomTsEnvVarIsWarnedAbout() {
    apply("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyClass
        metadata: {name: custom-env}
        spec:
          statefulSet:
            pod:
              tailscaleContainer:
                env:
                  - {name: TS_DEBUG_MTU, value: "1200"}
        """);
    awaitClass("custom-env", "True", "ProxyClassValid");
    await().atMost(Duration.ofSeconds(10)).until(() -> env.event(get("custom-env"), "CustomTSEnvVar").isPresent());
    assertThat(env.event(get("custom-env"), "CustomTSEnvVar").get().getMessage()).isEqualTo("ProxyClass overrides "
        + "the default value for TS_DEBUG_MTU env var for tailscale container. Running with custom values for "
        + "Tailscale env vars is not recommended and might break in the future.");
  }

  @Test
  void aServiceWaitsForAMissingClassAndProceedsWhenItIsReady() {
    env.createNamespace("pc-wait");
    env.client().resource(clusterIp("pc-wait", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/proxy-class", "later"))).create();
    await().atMost(Duration.ofSeconds(30)).until(() -> ServiceExposeIT.ready(env.client().services()
        .inNamespace("pc-wait").withName("web").get()).map(x -> "ProxyFailed".equals(x.getReason())
        && x.getMessage().contains("ProxyClass later not found")).orElse(false));
    env.awaitCurrentVersionsReconciled(env.client().services().inNamespace("pc-wait").withName("web").get());
    assertThat(env.statefulSets("svc", "pc-wait", "web")).isEmpty();
    apply("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyClass
        metadata: {name: later}
        spec:
          statefulSet:
            labels: {ready: "yes"}
        """);
    await().atMost(Duration.ofSeconds(60)).until(() -> ServiceExposeIT.ready(env.client().services()
        .inNamespace("pc-wait").withName("web").get()).map(x -> "True".equals(x.getStatus())).orElse(false));
    assertThat(proxyOf("pc-wait", "web").getMetadata().getLabels()).containsEntry("ready", "yes");
  }

  @Test
  void updatingAClassRollsExactlyItsUsers() {
    apply("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyClass
        metadata: {name: rolling}
        spec:
          statefulSet:
            pod:
              labels: {version: "1"}
        """);
    awaitClass("rolling", "True", "ProxyClassValid");
    env.createNamespace("pc-roll");
    for (String n : List.of("user-a", "user-b")) {
      env.client().resource(clusterIp("pc-roll", n, Map.of("tailscale.com/expose", "true",
          "tailscale.com/proxy-class", "rolling"))).create();
    }
    env.client().resource(clusterIp("pc-roll", "bystander", Map.of("tailscale.com/expose", "true"))).create();
    for (String n : List.of("user-a", "user-b", "bystander")) {
      await().atMost(Duration.ofSeconds(60)).until(() -> ServiceExposeIT.ready(env.client().services()
          .inNamespace("pc-roll").withName(n).get()).map(x -> "True".equals(x.getStatus())).orElse(false));
    }
    for (String n : List.of("user-a", "user-b", "bystander")) {
      env.awaitCurrentVersionsReconciled(env.client().services().inNamespace("pc-roll").withName(n).get());
    }
    String bystanderVersion = proxyOf("pc-roll", "bystander").getMetadata().getResourceVersion();
    apply("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyClass
        metadata: {name: rolling}
        spec:
          statefulSet:
            pod:
              labels: {version: "2"}
        """);
    for (String n : List.of("user-a", "user-b")) {
      await().atMost(Duration.ofSeconds(60)).until(() -> "2".equals(proxyOf("pc-roll", n).getSpec().getTemplate()
          .getMetadata().getLabels().get("version")));
    }
    // The bystander, reconciled with the new class in the operator's cache (its users have it), keeps its proxy.
    env.awaitReconciled(Conflicts.retry(() -> env.client().services().inNamespace("pc-roll").withName("bystander").edit(s ->
        new io.fabric8.kubernetes.api.model.ServiceBuilder(s).editMetadata().addToLabels("touched", "after-roll")
            .endMetadata().build())));
    assertThat(proxyOf("pc-roll", "bystander").getMetadata().getResourceVersion()).isEqualTo(bystanderVersion);
  }

  @Test
  void deletingAClassInUseIsReportedOnTheClassAndItsUsers() {
    apply("""
        apiVersion: tailscale.com/v1alpha1
        kind: ProxyClass
        metadata: {name: in-use}
        spec:
          statefulSet:
            labels: {x: "y"}
        """);
    awaitClass("in-use", "True", "ProxyClassValid");
    env.createNamespace("pc-del");
    env.client().resource(clusterIp("pc-del", "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/proxy-class", "in-use"))).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> ServiceExposeIT.ready(env.client().services()
        .inNamespace("pc-del").withName("web").get()).map(x -> "True".equals(x.getStatus())).orElse(false));
    env.client().resources(ProxyClass.class).withName("in-use").delete();
    await().atMost(Duration.ofSeconds(30)).until(() -> env.event(get("in-use"), "ProxyClassInUse").isPresent());
    assertThat(env.event(get("in-use"), "ProxyClassInUse").get().getMessage()).contains("Service pc-del/web");
    var svc = env.client().services().inNamespace("pc-del").withName("web").get();
    await().atMost(Duration.ofSeconds(30)).until(() -> env.event(svc, "ProxyClassDeleting").isPresent());
    // The users keep working while the class is being deleted.
    env.awaitCurrentVersionsReconciled(svc, get("in-use"));
    assertThat(env.event(svc, "ProxyClassNotReady")).isEmpty();
    assertThat(get("in-use")).isNotNull();
    // Once nothing uses it, it goes away.
    env.client().services().inNamespace("pc-del").withName("web").delete();
    await().atMost(Duration.ofSeconds(90)).until(() -> get("in-use") == null);
  }

  /**
   * Sets label {@code touched} on a Service with a merge patch (no resourceVersion: an edit's read-then-write met a 409
   * when the operator wrote the Service's status in between).
   */
  private static io.fabric8.kubernetes.api.model.Service touch(String ns, String name, String value) {
    return env.client().services().inNamespace(ns).withName(name).patch(
        io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
        "{\"metadata\":{\"labels\":{\"touched\":\"" + value + "\"}}}");
  }
}
