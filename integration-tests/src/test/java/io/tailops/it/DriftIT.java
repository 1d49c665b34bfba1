package io.tailops.it;

import static io.tailops.it.ServiceExposeIT.clusterIp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.apps.StatefulSetBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.tailops.local.OperatorEnvironment;
import io.tailops.testkit.kube.AuditEvents;
import io.tailops.testkit.kube.AuditLog;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Desired state is enforced: hand edits to a proxy's StatefulSet (replicas, image, env, volumes), headless Service and
 * config keys are put back by the next reconcile, with a Normal event on the parent naming what was reverted; what
 * Kubernetes itself writes into those objects (defaults, status) makes the operator write nothing. Writes are counted
 * from the API server's audit log.
 */
class DriftIT {
  static final String NS = OperatorEnvironment.NAMESPACE;
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

  /**
   * The operator's caches drop metadata.managedFields (StoreWithoutManagedFields); its writes to the Service (finalizer,
   * status) must leave the server's record of who set which field as it was.
   */
  @Test
  void writesFromCachesWithoutManagedFieldsKeepThemOnTheServer() {
    settledProxy("managed-fields");
    Service svc = parent("managed-fields");
    assertThat(svc.getMetadata().getFinalizers()).contains("tailscale.com/finalizer");
    assertThat(svc.getStatus().getConditions()).isNotEmpty();
    assertThat(svc.getMetadata().getManagedFields()).as("the creator's entry, after the operator's writes")
        .anySatisfy(m -> assertThat(m.getFieldsV1().getAdditionalProperties()).containsKey("f:spec"));
  }

  /** Exposes {@code ns/web} and waits until its proxy is ready and its auth key gone: a settled proxy. */
  static String settledProxy(String ns) {
    env.createNamespace(ns);
    env.client().resource(clusterIp(ns, "web", Map.of("tailscale.com/expose", "true",
        "tailscale.com/hostname", ns))).create();
    String sts = env.awaitProxy("svc", ns, "web");
    await().atMost(Duration.ofSeconds(60)).until(() -> ServiceExposeIT.ready(parent(ns))
        .filter(c -> "True".equals(c.getStatus())).isPresent());
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(env.tailscaledConfig(sts))
        .doesNotContain("AuthKey"));
    // The StatefulSet controller has written the StatefulSet's status (Kubernetes' own writes, which must not count).
    await().atMost(Duration.ofSeconds(60)).until(() -> statefulSet(sts).getStatus() != null
        && Integer.valueOf(1).equals(statefulSet(sts).getStatus().getReplicas()));
    return sts;
  }

  static StatefulSet statefulSet(String name) {
    return env.client().apps().statefulSets().inNamespace(NS).withName(name).get();
  }

  static Service parent(String ns) {
    return env.client().services().inNamespace(ns).withName("web").get();
  }

  static List<Event> reverted(String ns) {
    return env.events(parent(ns)).stream().filter(e -> "ManualChangeReverted".equals(e.getReason())).toList();
  }

  /** Waits for the revert event with exactly {@code message} on the parent; it is Normal. */
  static void awaitReverted(String ns, String message) {
    await().atMost(Duration.ofSeconds(60)).until(() -> reverted(ns).stream()
        .anyMatch(e -> message.equals(e.getMessage())));
    assertThat(reverted(ns)).filteredOn(e -> message.equals(e.getMessage()))
        .allMatch(e -> "Normal".equals(e.getType()));
  }

  static void editStatefulSet(String name, UnaryOperator<StatefulSet> edit) {
    Conflicts.retry(() -> env.client().apps().statefulSets().inNamespace(NS).withName(name).edit(edit));
  }

  static String mainEnv(StatefulSet s, String name) {
    return s.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .filter(e -> name.equals(e.getName())).map(EnvVar::getValue).findFirst().orElse(null);
  }

  static AuditEvents operatorWritesToProxyObjects(AuditLog.Mark mark) {
    return env.operatorRequestsSince(mark).writes().byNamespace(NS)
        .byResource("statefulsets", "secrets", "services");
  }

  @Test
  void handEditsOfTheStatefulSetAreRevertedWithinOneReconcileWithAnEventAndKubernetesWritesCauseNone() {
    String ns = "drift-sts";
    String sts = settledProxy(ns);
    StatefulSet original = statefulSet(sts);
    String image = original.getSpec().getTemplate().getSpec().getContainers().get(0).getImage();
    String destIp = mainEnv(original, "TS_DEST_IP");
    int volumes = original.getSpec().getTemplate().getSpec().getVolumes().size();
    String of = " of StatefulSet " + NS + "/" + sts;
    AuditLog.Mark mark = env.mark();

    record Edit(String field, UnaryOperator<StatefulSet> edit, Predicate<StatefulSet> putBack) {
    }
    List<Edit> edits = List.of(
        new Edit("spec.replicas", s -> new StatefulSetBuilder(s).editSpec().withReplicas(0).endSpec().build(),
            s -> Integer.valueOf(1).equals(s.getSpec().getReplicas())),
        new Edit("spec.template.spec.containers[tailscale].image", s -> new StatefulSetBuilder(s).editSpec()
            .editTemplate().editSpec().editFirstContainer().withImage("example.com/not-tailscale:1").endContainer()
            .endSpec().endTemplate().endSpec().build(),
            s -> image.equals(s.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())),
        new Edit("spec.template.spec.containers[tailscale].env[TS_DEST_IP]", s -> {
          s.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
              .filter(e -> "TS_DEST_IP".equals(e.getName())).forEach(e -> e.setValue("10.96.99.99"));
          return s;
        }, s -> destIp.equals(mainEnv(s, "TS_DEST_IP"))),
        new Edit("spec.template.spec.volumes", s -> new StatefulSetBuilder(s).editSpec().editTemplate().editSpec()
            .addToVolumes(new VolumeBuilder().withName("extra").withNewEmptyDir().endEmptyDir().build()).endSpec()
            .endTemplate().endSpec().build(),
            s -> s.getSpec().getTemplate().getSpec().getVolumes().size() == volumes));
    for (Edit e : edits) {
      editStatefulSet(sts, e.edit());
      await().atMost(Duration.ofSeconds(60)).until(() -> e.putBack().test(statefulSet(sts)));
      awaitReverted(ns, "reverted a manual change to " + e.field() + of);
    }
    // Each edit made the StatefulSet controller write the StatefulSet's status (and roll its pod) at least once; the
    // last edit is reverted after all earlier events were seen. The operator wrote the proxy's objects once per edit:
    // the revert of the StatefulSet, nothing for the Kubernetes-written status or defaults.
    editStatefulSet(sts, s -> new StatefulSetBuilder(s).editSpec().withReplicas(3).endSpec().build());
    await().atMost(Duration.ofSeconds(60)).until(() -> Integer.valueOf(1).equals(statefulSet(sts).getSpec()
        .getReplicas()) && reverted(ns).stream().filter(x -> x.getMessage().contains("spec.replicas"))
        .mapToInt(x -> x.getCount() == null ? 1 : x.getCount()).sum() >= 2);
    AuditEvents writes = operatorWritesToProxyObjects(mark);
    assertThat(writes.list()).as(writes.summary()).hasSize(edits.size() + 1)
        .allMatch(w -> "patch".equals(w.verb()) && "statefulsets".equals(w.resource()) && w.succeeded());
    assertThat(statefulSet(sts).getSpec().getTemplate()).isEqualTo(original.getSpec().getTemplate());
  }

  @Test
  void handEditsOfTheHeadlessServiceAndTheConfigKeysAreReverted() {
    String ns = "drift-svc";
    String sts = settledProxy(ns);
    Service headless = env.client().services().inNamespace(NS).withName(sts).get();
    Conflicts.retry(() -> env.client().services().inNamespace(NS).withName(sts).edit(s -> new ServiceBuilder(s).editSpec()
        .withSelector(Map.of("app", "something-else")).endSpec().build()));
    await().atMost(Duration.ofSeconds(60)).until(() -> headless.getSpec().getSelector()
        .equals(env.client().services().inNamespace(NS).withName(sts).get().getSpec().getSelector()));
    awaitReverted(ns, "reverted a manual change to spec.selector of Service " + NS + "/" + sts);

    String config = env.tailscaledConfig(sts);
    String edited = config.replace("\"Hostname\":\"" + ns + "\"", "\"Hostname\":\"someone-else\"");
    assertThat(edited).isNotEqualTo(config);
    env.client().secrets().inNamespace(NS).withName(sts + "-0").patch(PatchContext.of(PatchType.JSON_MERGE),
        "{\"data\":{\"cap-107.hujson\":\"" + Base64.getEncoder().encodeToString(edited.getBytes(
            StandardCharsets.UTF_8)) + "\"}}");
    await().atMost(Duration.ofSeconds(60)).until(() -> config.equals(env.tailscaledConfig(sts)));
    awaitReverted(ns, "reverted a manual change to data[cap-107.hujson] of Secret " + NS + "/" + sts + "-0");
    Secret secret = env.client().secrets().inNamespace(NS).withName(sts + "-0").get();
    assertThat(secret.getData()).containsKey("device_id"); // the proxy's own keys are untouched
  }
}
