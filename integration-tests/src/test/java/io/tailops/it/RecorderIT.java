package io.tailops.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.api.model.rbac.PolicyRuleBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.Recorder;
import io.tailops.api.v1alpha1.RecorderTailnetDevice;
import io.tailops.local.OperatorEnvironment;
import io.tailops.operator.doctor.Doctor;
import io.tailops.operator.recorder.RecorderDoctor;
import io.tailops.testkit.tailscale.Endpoint;
import io.tailops.testkit.tailscale.FakeAuthKey;
import io.tailops.testkit.tailscale.FakeDevice;
import io.tailops.testkit.tailscale.Fault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Recorders served as the official operator serves them: the tsrecorder StatefulSet, ServiceAccount, Role,
 * RoleBinding, auth-key and state Secrets in the operator namespace, {@code RecorderReady} and the devices in the
 * status (tsrecorder played by the testkit's {@code RecorderSimulator}), changes applied, hand edits reverted, devices
 * removed on scale-down and deletion, bad inputs reported (condition, Event, doctor) with nothing deployed.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RecorderIT {
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

  static Recorder apply(String yaml) {
    Recorder r = Serialization.unmarshal(yaml, Recorder.class);
    return env.client().resource(r).serverSideApply();
  }

  static Recorder get(String name) {
    return env.client().resources(Recorder.class).withName(name).get();
  }

  static Optional<Condition> ready(Recorder r) {
    return r == null || r.getStatus() == null ? Optional.empty() : r.getStatus().getConditions().stream()
        .filter(c -> "RecorderReady".equals(c.getType())).findFirst();
  }

  /** Waits until the Recorder's condition has this reason for its current generation. */
  static Recorder awaitReason(String name, String reason) {
    return await().atMost(Duration.ofSeconds(60)).until(() -> get(name), r -> ready(r)
        .filter(c -> reason.equals(c.getReason()) && r.getMetadata().getGeneration().equals(c.getObservedGeneration()))
        .isPresent());
  }

  static StatefulSet sts(String name) {
    return env.client().apps().statefulSets().inNamespace(NS).withName(name).get();
  }

  static Secret secret(String name) {
    return env.client().secrets().inNamespace(NS).withName(name).get();
  }

  static Optional<String> env(StatefulSet s, String name) {
    return s.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv().stream()
        .filter(e -> name.equals(e.getName())).map(EnvVar::getValue).findFirst();
  }

  static List<FakeDevice> devices(String prefix) {
    return env.tailnet().devices().stream().filter(d -> d.hostname().startsWith(prefix + "-")).toList();
  }

  @Order(1)
  @Test
  void aRecorderWithLocalStorageGetsItsObjectsAndShowsItsDevice() {
    apply("""
        apiVersion: tailscale.com/v1alpha1
        kind: Recorder
        metadata:
          name: rec
        spec:
          enableUI: true
        """);
    Recorder r = await().atMost(Duration.ofSeconds(60)).until(() -> get("rec"), x -> ready(x)
        .filter(c -> "True".equals(c.getStatus())).isPresent() && x.getStatus().getDevices() != null);
    Condition c = ready(r).orElseThrow();
    assertThat(c.getReason()).isEqualTo("RecorderCreated");
    assertThat(c.getMessage()).isEqualTo("RecorderCreated");
    assertThat(r.getMetadata().getFinalizers()).containsExactly("tailscale.com/finalizer");
    FakeDevice device = devices("rec").get(0);
    assertThat(r.getStatus().getDevices()).singleElement().satisfies(d -> {
      assertThat(d.getHostname()).isEqualTo("rec-0");
      assertThat(d.getTailnetIPs()).isEqualTo(device.addresses());
      assertThat(d.getUrl()).isEqualTo("https://" + device.name());
    });
    assertThat(device.tags()).containsExactly("tag:k8s");
    StatefulSet s = sts("rec");
    assertThat(s.getMetadata().getLabels()).containsEntry("app.kubernetes.io/name", "recorder")
        .containsEntry("app.kubernetes.io/instance", "rec")
        .containsEntry("app.kubernetes.io/managed-by", "tailscale-operator");
    assertThat(s.getMetadata().getOwnerReferences()).singleElement()
        .satisfies(o -> assertThat(o.getUid()).isEqualTo(r.getMetadata().getUid()));
    assertThat(env(s, "TSRECORDER_DST")).contains("/data/recordings");
    assertThat(env(s, "TSRECORDER_UI")).contains("true");
    assertThat(env(s, "TSRECORDER_LOGIN_SERVER")).contains(env.tailnet().baseUrl());
    assertThat(s.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
        .isEqualTo("tailscale/tsrecorder:v1.94.2");
    assertThat(env.client().serviceAccounts().inNamespace(NS).withName("rec").get()).isNotNull();
    assertThat(env.client().rbac().roles().inNamespace(NS).withName("rec").get().getRules().get(0)
        .getResourceNames()).containsExactly("rec-0", "rec-auth-0");
    assertThat(env.client().rbac().roleBindings().inNamespace(NS).withName("rec").get().getSubjects().get(0)
        .getName()).isEqualTo("rec");
    assertThat(secret("rec-auth-0").getData()).containsKey("authkey");
    assertThat(secret("rec-0").getData()).containsKey("_current-profile");
    assertThat(RecorderDoctor.checks(env.client())).singleElement()
        .satisfies(k -> assertThat(k.status()).isEqualTo(Doctor.Status.OK));

    // Steady state: a reconcile (here caused by a label on the state Secret) writes nothing.
    double before = reconciled();
    io.tailops.testkit.kube.AuditLog.Mark mark = env.mark();
    Conflicts.retry(() -> env.client().secrets().inNamespace(NS).withName("rec-0").edit(x -> {
      x.getMetadata().getLabels().put("touched", "yes");
      return x;
    }));
    await().atMost(Duration.ofSeconds(30)).until(() -> reconciled() > before);
    var writes = env.operatorRequestsSince(mark).writes().filter(w -> !"leases".equals(w.resource()));
    assertThat(writes.list()).as(writes.summary()).isEmpty();
  }

  static double reconciled() {
    return env.operator().context().metrics().registry().find("operator.sdk.reconciliations.success")
        .tag("kind", "Recorder").counters().stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
  }

  @Order(2)
  @Test
  void aChangeToS3AndTwoReplicasWithACustomServiceAccountIsApplied() {
    env.client().secrets().inNamespace(NS).resource(new io.fabric8.kubernetes.api.model.SecretBuilder()
        .withNewMetadata().withName("s3-creds").endMetadata()
        .addToStringData("AWS_ACCESS_KEY_ID", "id").addToStringData("AWS_SECRET_ACCESS_KEY", "secret").build())
        .create();
    apply("""
        apiVersion: tailscale.com/v1alpha1
        kind: Recorder
        metadata:
          name: rec
        spec:
          enableUI: true
          replicas: 2
          storage:
            s3:
              endpoint: s3.example.com
              bucket: recordings
              credentials:
                secret:
                  name: s3-creds
          statefulSet:
            pod:
              serviceAccount:
                name: rec-sa
                annotations:
                  eks.amazonaws.com/role-arn: arn:aws:iam::123456789012:role/recorder
        """);
    Recorder r = await().atMost(Duration.ofSeconds(60)).until(() -> get("rec"), x -> x.getStatus() != null
        && x.getStatus().getDevices() != null && x.getStatus().getDevices().size() == 2);
    assertThat(r.getStatus().getDevices()).extracting(RecorderTailnetDevice::getHostname)
        .containsExactly("rec-0", "rec-1");
    StatefulSet s = sts("rec");
    assertThat(s.getSpec().getReplicas()).isEqualTo(2);
    assertThat(env(s, "TSRECORDER_DST")).contains("s3://s3.example.com");
    assertThat(env(s, "TSRECORDER_BUCKET")).contains("recordings");
    assertThat(s.getSpec().getTemplate().getSpec().getContainers().get(0).getEnvFrom()).singleElement()
        .satisfies(e -> assertThat(e.getSecretRef().getName()).isEqualTo("s3-creds"));
    assertThat(s.getSpec().getTemplate().getSpec().getServiceAccountName()).isEqualTo("rec-sa");
    assertThat(env.client().serviceAccounts().inNamespace(NS).withName("rec-sa").get().getMetadata()
        .getAnnotations()).containsEntry("eks.amazonaws.com/role-arn", "arn:aws:iam::123456789012:role/recorder");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(env.client().serviceAccounts().inNamespace(NS).withName("rec").get()).as("former SA gone")
            .isNull());
    assertThat(env.client().rbac().roleBindings().inNamespace(NS).withName("rec").get().getSubjects().get(0)
        .getName()).isEqualTo("rec-sa");
    assertThat(env.client().rbac().roles().inNamespace(NS).withName("rec").get().getRules().get(0)
        .getResourceNames()).containsExactly("rec-0", "rec-auth-0", "rec-1", "rec-auth-1");

    // Back to one replica: the second replica's device leaves the tailnet, its Secrets go.
    String second = devices("rec").stream().filter(d -> d.hostname().equals("rec-1")).findFirst().orElseThrow()
        .nodeId();
    Conflicts.retry(() -> env.client().resources(Recorder.class).withName("rec").edit(x -> {
      x.getSpec().setReplicas(1);
      return x;
    }));
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(env.tailnet().device(second)).isEmpty();
      assertThat(secret("rec-1")).isNull();
      assertThat(secret("rec-auth-1")).isNull();
      assertThat(get("rec").getStatus().getDevices()).extracting(RecorderTailnetDevice::getHostname)
          .containsExactly("rec-0");
    });
    assertThat(sts("rec").getSpec().getReplicas()).isEqualTo(1);
  }

  @Order(3)
  @Test
  void handEditsAreRevertedAndReported() {
    Conflicts.retry(() -> env.client().apps().statefulSets().inNamespace(NS).withName("rec").edit(s -> {
      s.getSpec().setReplicas(3);
      s.getSpec().getTemplate().getSpec().getContainers().get(0).setImage("example.com/other:1");
      return s;
    }));
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      StatefulSet s = sts("rec");
      assertThat(s.getSpec().getReplicas()).isEqualTo(1);
      assertThat(s.getSpec().getTemplate().getSpec().getContainers().get(0).getImage())
          .isEqualTo("tailscale/tsrecorder:v1.94.2");
    });
    Event e = await().atMost(Duration.ofSeconds(30)).until(() -> env.event(get("rec"), "ManualChangeReverted"),
        Optional::isPresent).orElseThrow();
    assertThat(e.getType()).isEqualTo("Normal");
    assertThat(e.getMessage()).startsWith("reverted a manual change to ").contains("spec.replicas")
        .endsWith("of StatefulSet tailscale/rec");

    Conflicts.retry(() -> env.client().rbac().roles().inNamespace(NS).withName("rec").edit(role -> {
      role.getRules().add(new PolicyRuleBuilder().withApiGroups("").withResources("pods").withVerbs("get").build());
      return role;
    }));
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
        assertThat(env.client().rbac().roles().inNamespace(NS).withName("rec").get().getRules()).hasSize(2));
  }

  @Order(4)
  @Test
  void aRestartReconcilesTheRecorderAndWritesNothing() {
    env.stopOperator();
    io.tailops.testkit.kube.AuditLog.Mark mark = env.mark();
    env.startOperator();
    await().atMost(Duration.ofSeconds(60)).until(() -> reconciled() >= 1);
    var writes = env.operatorRequestsSince(mark).writes().filter(w -> !"leases".equals(w.resource())
        && !"tailscale-operator-status".equals(w.name()));
    assertThat(writes.list()).as(writes.summary()).isEmpty();
  }

  @Order(5)
  @Test
  void deletionRemovesTheDevicesAndTheObjects() {
    String device = devices("rec").stream().filter(d -> d.hostname().equals("rec-0")).findFirst().orElseThrow()
        .nodeId();
    env.client().resources(Recorder.class).withName("rec").delete();
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(get("rec")).isNull();
      assertThat(env.tailnet().device(device)).isEmpty();
      assertThat(sts("rec")).isNull();
      assertThat(secret("rec-0")).isNull();
      assertThat(secret("rec-auth-0")).isNull();
      assertThat(env.client().serviceAccounts().inNamespace(NS).withName("rec-sa").get()).isNull();
      assertThat(env.client().rbac().roles().inNamespace(NS).withName("rec").get()).isNull();
      assertThat(env.client().rbac().roleBindings().inNamespace(NS).withName("rec").get()).isNull();
    });
    assertThat(secret("s3-creds")).as("the user's Secret stays").isNotNull();
  }

  @Order(6)
  @Test
  void badInputsAreReportedAndNothingIsDeployed() {
    // Neither the UI nor S3: nobody could reach the recordings (upstream rejects it).
    apply("""
        apiVersion: tailscale.com/v1alpha1
        kind: Recorder
        metadata:
          name: unreachable
        spec:
          enableUI: false
        """);
    Recorder r = awaitReason("unreachable", "RecorderInvalid");
    assertThat(ready(r).orElseThrow().getStatus()).isEqualTo("False");
    assertThat(ready(r).orElseThrow().getMessage()).isEqualTo("Recorder is invalid: must either enable UI or use S3 "
        + "storage to ensure recordings are accessible");
    Event e = await().atMost(Duration.ofSeconds(30)).until(() -> env.event(r, "RecorderInvalid"),
        Optional::isPresent).orElseThrow();
    assertThat(e.getType()).isEqualTo("Warning");
    assertThat(e.getMessage()).isEqualTo(ready(r).orElseThrow().getMessage());
    assertThat(sts("unreachable")).isNull();
    assertThat(secret("unreachable-auth-0")).as("no key minted").isNull();
    assertThat(RecorderDoctor.checks(env.client())).anySatisfy(k -> {
      assertThat(k.status()).isEqualTo(Doctor.Status.FAIL);
      assertThat(k.detail()).contains("Recorder unreachable is not ready").contains("RecorderInvalid")
          .contains("must either enable UI");
    });

    // A custom ServiceAccount name that somebody else's ServiceAccount has.
    env.client().serviceAccounts().inNamespace(NS).resource(new ServiceAccountBuilder().withNewMetadata()
        .withName("taken").endMetadata().build()).create();
    apply("""
        apiVersion: tailscale.com/v1alpha1
        kind: Recorder
        metadata:
          name: sa-clash
        spec:
          enableUI: true
          statefulSet:
            pod:
              serviceAccount:
                name: taken
        """);
    Recorder clash = awaitReason("sa-clash", "RecorderInvalid");
    assertThat(ready(clash).orElseThrow().getMessage()).isEqualTo("Recorder is invalid: custom ServiceAccount name "
        + "\"taken\" specified but conflicts with a pre-existing ServiceAccount in the tailscale namespace");
    assertThat(sts("sa-clash")).isNull();
    assertThat(env.client().serviceAccounts().inNamespace(NS).withName("taken").get().getMetadata()
        .getOwnerReferences()).as("not taken over").isNullOrEmpty();

    // An annotation key the API server would refuse on the ServiceAccount.
    apply("""
        apiVersion: tailscale.com/v1alpha1
        kind: Recorder
        metadata:
          name: bad-annotation
        spec:
          enableUI: true
          statefulSet:
            pod:
              serviceAccount:
                annotations:
                  "not a key!": "x"
        """);
    Recorder badAnnotation = awaitReason("bad-annotation", "RecorderInvalid");
    assertThat(ready(badAnnotation).orElseThrow().getMessage()).startsWith("Recorder is invalid: "
        + ".spec.statefulSet.pod.serviceAccount.annotations: Invalid value: \"not a key!\": name part");
    assertThat(sts("bad-annotation")).isNull();
    assertThat(env.client().serviceAccounts().inNamespace(NS).withName("bad-annotation").get()).isNull();
    env.client().resources(Recorder.class).withName("bad-annotation").delete();

    // Tags the operator may not hand out: the control plane refuses the key.
    apply("""
        apiVersion: tailscale.com/v1alpha1
        kind: Recorder
        metadata:
          name: foreign-tags
        spec:
          enableUI: true
          tags: ["tag:not-ours"]
        """);
    Recorder tags = awaitReason("foreign-tags", "RecorderCreationFailed");
    assertThat(ready(tags).orElseThrow().getMessage()).startsWith("failed creating Recorder: error creating "
        + "secrets: ").contains("tag:not-ours");
    Event te = await().atMost(Duration.ofSeconds(30)).until(() -> env.event(tags, "RecorderCreationFailed"),
        Optional::isPresent).orElseThrow();
    assertThat(te.getType()).isEqualTo("Warning");
    assertThat(sts("foreign-tags")).isNull();
    assertThat(secret("foreign-tags-auth-0")).isNull();

    // Fixing the spec makes it ready; deleting the invalid ones needs no device clean-up.
    Conflicts.retry(() -> env.client().resources(Recorder.class).withName("unreachable").edit(x -> {
      x.getSpec().setEnableUI(true);
      return x;
    }));
    awaitReason("unreachable", "RecorderCreated");
    env.client().resources(Recorder.class).withName("sa-clash").delete();
    env.client().resources(Recorder.class).withName("foreign-tags").delete();
    env.client().resources(Recorder.class).withName("unreachable").delete();
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(env.client().resources(Recorder.class).list().getItems()).isEmpty();
      assertThat(devices("unreachable")).isEmpty();
      assertThat(sts("unreachable")).isNull();
    });
    assertThat(env.client().serviceAccounts().inNamespace(NS).withName("taken").get()).as("not ours: kept")
        .isNotNull();
  }

  /** The auth key ID that Recorder {@code name}'s replica 0 auth-key Secret records, or null. */
  static String keyIdOf(String name) {
    Secret s = secret(name + "-auth-0");
    return s == null || s.getMetadata().getAnnotations() == null ? null
        : s.getMetadata().getAnnotations().get("tailscale.com/auth-key-id");
  }

  static FakeAuthKey key(String id) {
    return env.tailnet().key(id).orElseThrow();
  }

  static String recorderYaml(String name) {
    return """
        apiVersion: tailscale.com/v1alpha1
        kind: Recorder
        metadata:
          name: %s
        spec:
          enableUI: true
        """.formatted(name);
  }

  /**
   * Recorder keys as proxy keys (short-lived, marked, recorded on the Secret): a key lost between its mint and its
   * Secret (the mint's answer came after the operator's client had given up, so the operator minted another) is
   * revoked by the key sweep; the key a Secret holds for a replica that has not logged in is kept, replaced once it
   * expires unused (the old one revoked), and revoked with its Recorder when that is deleted before the replica logged
   * in; a used key is left alone.
   */
  @Order(7)
  @Test
  void aLostKeyIsRevokedAndAHeldOneKeptReplacedWhenExpiredAndRevokedWithItsRecorder() {
    env.stopOperator();
    env.env("OPERATOR_UNUSED_KEY_GRACE_PERIOD", "3s").env("OPERATOR_DEVICE_SWEEP_INTERVAL", "2s")
        .env("OPERATOR_AUTH_KEY_EXPIRY", "1m");
    env.startOperator();
    try {
      // A Recorder whose pod does not log in: its Secret holds an unused key.
      env.recorders().pause("pending");
      apply(recorderYaml("pending"));
      String pendingKey = await().atMost(Duration.ofSeconds(60)).until(() -> keyIdOf("pending"), k -> k != null);
      FakeAuthKey pending = key(pendingKey);
      assertThat(pending.description()).matches(".* recorder pending-0 op[0-9a-f]{10}");
      assertThat(Duration.between(pending.created(), pending.expires())).isEqualTo(Duration.ofMinutes(1));
      assertThat(secret("pending-auth-0").getMetadata().getAnnotations())
          .containsEntry("tailscale.com/auth-key-expires", pending.expires().toString());

      // The next mint's answer comes after the operator's client gave up (5 s): the key exists, stored nowhere.
      env.tailnet().inject(Fault.delay(Duration.ofSeconds(7))).on(Endpoint.CREATE_KEY).times(1);
      apply(recorderYaml("lost"));
      await().atMost(Duration.ofSeconds(60)).until(() -> get("lost"), x -> ready(x)
          .filter(c -> "True".equals(c.getStatus())).isPresent() && x.getStatus().getDevices() != null
          && !x.getStatus().getDevices().isEmpty());
      String storedKey = keyIdOf("lost");
      // The delayed mint is processed after the operator gave up on it (and minted the stored key).
      List<FakeAuthKey> minted = await().atMost(Duration.ofSeconds(30)).until(() -> env.tailnet().keys().stream()
          .filter(k -> String.valueOf(k.description()).contains(" recorder lost-0 ")).toList(), l -> l.size() >= 2);
      List<String> lost = minted.stream().map(FakeAuthKey::id).filter(id -> !id.equals(storedKey)).toList();
      await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
          assertThat(lost).allSatisfy(id -> assertThat(key(id).revoked()).as("lost key " + id).isTrue()));
      assertThat(key(storedKey).revoked()).as("the key the Recorder logged in with").isFalse();
      assertThat(key(storedKey).uses()).isEqualTo(1);
      assertThat(key(pendingKey).revoked()).as("held by its Secret, judged by the same sweeps").isFalse();
      // The status ConfigMap says the sweep is on (on headscale it says why it is off: UnusedKeySweepTest).
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(env.client().configMaps().inNamespace(NS)
          .withName("tailscale-operator-status").get().getData().get("unusedKeySweep"))
          .startsWith("on: revokes the auth keys this operator minted that no Secret holds, 3 s after their mint"));

      // The pending key expires unused: replaced, the old one revoked; the replica then logs in with the new one.
      String replacement = await().atMost(Duration.ofSeconds(90)).until(() -> keyIdOf("pending"),
          k -> k != null && !k.equals(pendingKey));
      // Revoked right after the Secret holds the new key.
      await().atMost(Duration.ofSeconds(10)).until(() -> key(pendingKey).revoked());
      assertThat(key(replacement).revoked()).isFalse();
      env.recorders().resume("pending");
      await().atMost(Duration.ofSeconds(60)).until(() -> key(replacement).uses() == 1);
      assertThat(devices("pending")).hasSize(1);

      // Deleted before its replica logged in: its key goes with it. Deleted after: the used key is left alone.
      env.recorders().pause("idle");
      apply(recorderYaml("idle"));
      String idleKey = await().atMost(Duration.ofSeconds(60)).until(() -> keyIdOf("idle"), k -> k != null);
      env.client().resources(Recorder.class).withName("idle").delete();
      env.client().resources(Recorder.class).withName("lost").delete();
      await().atMost(Duration.ofSeconds(60)).until(() -> get("idle") == null && get("lost") == null);
      assertThat(key(idleKey).revoked()).isTrue();
      assertThat(key(storedKey).revoked()).isFalse();
      assertThat(env.tailnet().keys()).filteredOn(FakeAuthKey::revoked).extracting(FakeAuthKey::id)
          .containsExactlyInAnyOrderElementsOf(java.util.stream.Stream.concat(lost.stream(),
              java.util.stream.Stream.of(pendingKey, idleKey)).toList());
    } finally {
      env.client().resources(Recorder.class).withName("pending").delete();
      env.client().resources(Recorder.class).withName("idle").delete();
      env.client().resources(Recorder.class).withName("lost").delete();
    }
  }
}
