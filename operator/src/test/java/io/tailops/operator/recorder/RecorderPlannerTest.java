package io.tailops.operator.recorder;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.api.v1alpha1.Recorder;
import io.tailops.api.v1alpha1.RecorderStatus;
import io.tailops.api.v1alpha1.RecorderTailnetDevice;
import io.tailops.operator.doctor.Doctor;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The Recorder's objects, validation, device info and status, as the official operator v1.94.2 makes them. */
class RecorderPlannerTest {
  static final RecorderPlanner PLANNER = new RecorderPlanner("tailscale", "https://hs.example.com");
  static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-02T00:00:00Z"), ZoneOffset.UTC);

  static Recorder recorder(String yaml) {
    Recorder r = Serialization.unmarshal(yaml, Recorder.class);
    r.getMetadata().setUid("uid-1");
    r.getMetadata().setGeneration(1L);
    return r;
  }

  static final String LOCAL = """
      apiVersion: tailscale.com/v1alpha1
      kind: Recorder
      metadata:
        name: rec
      spec:
        enableUI: true
      """;

  static final String S3 = """
      apiVersion: tailscale.com/v1alpha1
      kind: Recorder
      metadata:
        name: rec
      spec:
        replicas: 2
        tags: ["tag:rec"]
        storage:
          s3:
            endpoint: s3.example.com
            bucket: recordings
            credentials:
              secret:
                name: s3-creds
        statefulSet:
          labels: {team: a}
          annotations: {note: x}
          pod:
            labels: {pod: p}
            nodeSelector: {disk: ssd}
            serviceAccount:
              name: rec-sa
              annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::1:role/r"}
            container:
              image: example.com/tsrecorder:1
              imagePullPolicy: IfNotPresent
              env: [{name: EXTRA, value: "1"}]
      """;

  static Map<String, String> env(Container c) {
    Map<String, String> out = new LinkedHashMap<>();
    for (EnvVar e : c.getEnv()) {
      out.put(e.getName(), e.getValueFrom() != null ? "field:" + e.getValueFrom().getFieldRef().getFieldPath()
          : e.getValue());
    }
    return out;
  }

  @Test
  void localStorageWithTheUiOneReplicaDefaults() {
    Recorder r = recorder(LOCAL);
    RecorderObjects o = PLANNER.plan(r);
    var sts = o.statefulSet();
    assertThat(sts.getMetadata().getName()).isEqualTo("rec");
    assertThat(sts.getMetadata().getNamespace()).isEqualTo("tailscale");
    assertThat(sts.getMetadata().getLabels()).containsExactlyInAnyOrderEntriesOf(Map.of(
        "app.kubernetes.io/name", "recorder", "app.kubernetes.io/instance", "rec",
        "app.kubernetes.io/managed-by", "tailscale-operator"));
    assertThat(sts.getMetadata().getOwnerReferences()).singleElement().satisfies(ref -> {
      assertThat(ref.getKind()).isEqualTo("Recorder");
      assertThat(ref.getApiVersion()).isEqualTo("tailscale.com/v1alpha1");
      assertThat(ref.getUid()).isEqualTo("uid-1");
      assertThat(ref.getController()).isTrue();
      assertThat(ref.getBlockOwnerDeletion()).isTrue();
    });
    assertThat(sts.getSpec().getReplicas()).isEqualTo(1);
    var pod = sts.getSpec().getTemplate().getSpec();
    assertThat(pod.getServiceAccountName()).isEqualTo("rec");
    Container c = pod.getContainers().get(0);
    assertThat(c.getName()).isEqualTo("recorder");
    assertThat(c.getImage()).isEqualTo("tailscale/tsrecorder:v1.94.2");
    assertThat(c.getCommand()).containsExactly("/tsrecorder");
    assertThat(c.getEnvFrom()).isNullOrEmpty();
    assertThat(env(c)).containsExactly(
        Map.entry("POD_NAME", "field:metadata.name"), Map.entry("POD_UID", "field:metadata.uid"),
        Map.entry("TS_AUTHKEY_FILE", "/etc/tailscaled/$(POD_NAME)/authkey"),
        Map.entry("TS_STATE", "kube:$(POD_NAME)"), Map.entry("TSRECORDER_HOSTNAME", "$(POD_NAME)"),
        Map.entry("TSRECORDER_LOGIN_SERVER", "https://hs.example.com"),
        Map.entry("TSRECORDER_DST", "/data/recordings"), Map.entry("TSRECORDER_UI", "true"));
    assertThat(c.getVolumeMounts()).extracting(m -> m.getName() + ":" + m.getMountPath() + ":" + m.getReadOnly())
        .containsExactly("data:/data:null", "authkey-0:/etc/tailscaled/rec-0:true");
    assertThat(pod.getVolumes()).extracting(v -> v.getName()).containsExactly("data", "authkey-0");
    assertThat(pod.getVolumes().get(1).getSecret().getSecretName()).isEqualTo("rec-auth-0");
    assertThat(o.stateSecrets()).extracting(s -> s.getMetadata().getName()).containsExactly("rec-0");
    assertThat(o.stateSecrets().get(0).getData()).isNullOrEmpty();
    assertThat(o.serviceAccount().getMetadata().getName()).isEqualTo("rec");
    assertThat(o.serviceAccount().getMetadata().getAnnotations()).isNull();
    assertThat(o.role().getRules().get(0).getResourceNames()).containsExactly("rec-0", "rec-auth-0");
    assertThat(o.role().getRules().get(0).getVerbs()).containsExactly("get", "patch", "update");
    assertThat(o.role().getRules().get(1).getResources()).containsExactly("events");
    assertThat(o.role().getRules().get(1).getVerbs()).containsExactly("get", "create", "patch");
    assertThat(o.roleBinding().getSubjects()).singleElement().satisfies(s -> {
      assertThat(s.getName()).isEqualTo("rec");
      assertThat(s.getNamespace()).isEqualTo("tailscale");
    });
    assertThat(o.roleBinding().getRoleRef().getName()).isEqualTo("rec");
    Secret auth = PLANNER.authSecret(r, 0, new io.tailops.controlplane.AuthKey("k123", "tskey-auth-x", null));
    assertThat(auth.getMetadata().getName()).isEqualTo("rec-auth-0");
    assertThat(auth.getStringData()).containsExactly(Map.entry("authkey", "tskey-auth-x"));
    assertThat(RecorderPlanner.tags(r)).containsExactly("tag:k8s");
  }

  @Test
  void s3WithCredentialsCustomServiceAccountAndPodSettings() {
    Recorder r = recorder(S3);
    RecorderObjects o = PLANNER.plan(r);
    var sts = o.statefulSet();
    assertThat(sts.getMetadata().getLabels()).containsEntry("team", "a").containsEntry("app.kubernetes.io/name",
        "recorder");
    assertThat(sts.getMetadata().getAnnotations()).containsExactly(Map.entry("note", "x"));
    assertThat(sts.getSpec().getSelector().getMatchLabels()).containsEntry("pod", "p").hasSize(4);
    assertThat(sts.getSpec().getTemplate().getMetadata().getLabels()).containsEntry("pod", "p");
    var pod = sts.getSpec().getTemplate().getSpec();
    assertThat(pod.getServiceAccountName()).isEqualTo("rec-sa");
    assertThat(pod.getNodeSelector()).containsExactly(Map.entry("disk", "ssd"));
    Container c = pod.getContainers().get(0);
    assertThat(c.getImage()).isEqualTo("example.com/tsrecorder:1");
    assertThat(c.getImagePullPolicy()).isEqualTo("IfNotPresent");
    assertThat(c.getEnvFrom()).singleElement().satisfies(e ->
        assertThat(e.getSecretRef().getName()).isEqualTo("s3-creds"));
    assertThat(env(c)).containsEntry("EXTRA", "1").containsEntry("TSRECORDER_DST", "s3://s3.example.com")
        .containsEntry("TSRECORDER_BUCKET", "recordings").doesNotContainKey("TSRECORDER_UI");
    assertThat(List.copyOf(env(c).keySet()).indexOf("EXTRA")).as("spec env after the operator's, before storage")
        .isEqualTo(6);
    assertThat(c.getVolumeMounts()).extracting(m -> m.getMountPath())
        .containsExactly("/data", "/etc/tailscaled/rec-0", "/etc/tailscaled/rec-1");
    assertThat(o.stateSecrets()).extracting(s -> s.getMetadata().getName()).containsExactly("rec-0", "rec-1");
    assertThat(o.role().getRules().get(0).getResourceNames())
        .containsExactly("rec-0", "rec-auth-0", "rec-1", "rec-auth-1");
    assertThat(o.serviceAccount().getMetadata().getName()).isEqualTo("rec-sa");
    assertThat(o.serviceAccount().getMetadata().getAnnotations())
        .containsExactly(Map.entry("eks.amazonaws.com/role-arn", "arn:aws:iam::1:role/r"));
    assertThat(o.serviceAccount().getMetadata().getLabels()).doesNotContainKey("team");
    assertThat(o.roleBinding().getSubjects().get(0).getName()).isEqualTo("rec-sa");
    assertThat(RecorderPlanner.tags(r)).containsExactly("tag:rec");
  }

  @Test
  void validationRejectsWhatUpstreamRejectsWithItsMessages() {
    assertThat(RecorderValidator.problem(recorder(LOCAL), Optional.empty())).isEmpty();
    assertThat(RecorderValidator.problem(recorder(S3), Optional.empty())).isEmpty();
    assertThat(RecorderValidator.problem(recorder(LOCAL.replace("enableUI: true", "enableUI: false")),
        Optional.empty())).contains("must either enable UI or use S3 storage to ensure recordings are accessible");
    assertThat(RecorderValidator.problem(recorder(LOCAL + "  replicas: 2\n"), Optional.empty()))
        .contains("must use S3 storage when using multiple replicas to ensure recordings are accessible");
    ServiceAccount foreign = new ServiceAccountBuilder().withMetadata(new ObjectMetaBuilder().withName("rec-sa")
        .withNamespace("tailscale").build()).build();
    assertThat(RecorderValidator.problem(recorder(S3), Optional.of(foreign))).contains("custom ServiceAccount name "
        + "\"rec-sa\" specified but conflicts with a pre-existing ServiceAccount in the tailscale namespace");
    Recorder s3 = recorder(S3);
    ServiceAccount ours = new ServiceAccountBuilder().withMetadata(new ObjectMetaBuilder().withName("rec-sa")
        .withNamespace("tailscale").withOwnerReferences(RecorderPlanner.ownerReference(s3)).build()).build();
    assertThat(RecorderValidator.problem(s3, Optional.of(ours))).isEmpty();
    assertThat(RecorderValidator.problem(recorder(S3.replace("eks.amazonaws.com/role-arn", "\"bad key!\"")),
        Optional.empty())).hasValueSatisfying(m -> assertThat(m)
        .startsWith(".spec.statefulSet.pod.serviceAccount.annotations: Invalid value: \"bad key!\": name part"));
    assertThat(RecorderValidator.qualifiedNameProblem("Example.com/x")).startsWith("prefix part");
    assertThat(RecorderValidator.qualifiedNameProblem("example.com/x_y.z")).isNull();
  }

  static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void deviceInfoComesFromTheCurrentProfileInTheStateSecret() {
    Secret empty = new SecretBuilder().withNewMetadata().withName("rec-0").endMetadata().build();
    assertThat(RecorderDeviceInfo.of(empty)).isEmpty();
    Secret noProfile = new SecretBuilder(empty).withData(Map.of("_current-profile", b64("profile-ab12"))).build();
    assertThat(RecorderDeviceInfo.of(noProfile)).isEmpty();
    Secret full = new SecretBuilder(empty).withData(Map.of("_current-profile", b64("profile-ab12"), "profile-ab12",
        b64("{\"Config\":{\"NodeID\":\"nXYZ\",\"UserProfile\":{\"LoginName\":\"rec-0.tailnet.ts.net\"}}}")))
        .build();
    RecorderDeviceInfo info = RecorderDeviceInfo.of(full).orElseThrow();
    assertThat(info.nodeId()).isEqualTo("nXYZ");
    assertThat(info.url()).contains("https://rec-0.tailnet.ts.net");
    Secret noName = new SecretBuilder(empty).withData(Map.of("_current-profile", b64("p"), "p",
        b64("{\"Config\":{\"NodeID\":\"n1\"}}"))).build();
    assertThat(RecorderDeviceInfo.of(noName).orElseThrow().url()).isEmpty();
    Secret noNode = new SecretBuilder(empty).withData(Map.of("_current-profile", b64("p"), "p",
        b64("{\"Config\":{}}"))).build();
    assertThat(RecorderDeviceInfo.of(noNode)).isEmpty();
    Secret broken = new SecretBuilder(empty).withData(Map.of("_current-profile", b64("p"), "p", b64("{nope")))
        .build();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> RecorderDeviceInfo.of(broken))
        .hasMessage("failed to extract node profile info from state Secret rec-0: not JSON");
  }

  @Test
  void statusCarriesTheOfficialConditionAndTheDevicesAndDoctorReportsWhatIsNotReady() {
    Recorder r = recorder(LOCAL);
    RecorderStatus ready = RecorderStatusProjection.status(r, true, "RecorderCreated", "RecorderCreated",
        List.of(new RecorderTailnetDevice("rec-0", List.of("100.64.0.1"), "https://rec-0.tailnet.ts.net")), CLOCK);
    assertThat(ready.getConditions()).singleElement().satisfies(c -> {
      assertThat(c.getType()).isEqualTo("RecorderReady");
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getReason()).isEqualTo("RecorderCreated");
      assertThat(c.getObservedGeneration()).isEqualTo(1L);
    });
    assertThat(RecorderStatusProjection.same(ready, ready)).isTrue();
    r.setStatus(ready);
    assertThat(RecorderDoctor.checks(List.of(r))).singleElement()
        .satisfies(c -> assertThat(c.status()).isEqualTo(Doctor.Status.OK));
    RecorderStatus invalid = RecorderStatusProjection.status(r, false, "RecorderInvalid",
        RecorderStatusProjection.invalidMessage("x"), null, CLOCK);
    assertThat(invalid.getDevices()).as("kept").hasSize(1);
    assertThat(RecorderStatusProjection.same(ready, invalid)).isFalse();
    r.setStatus(invalid);
    assertThat(RecorderDoctor.checks(List.of(r))).singleElement().satisfies(c -> {
      assertThat(c.status()).isEqualTo(Doctor.Status.FAIL);
      assertThat(c.detail()).isEqualTo("Recorder rec is not ready (RecorderReady=False, reason RecorderInvalid): "
          + "Recorder is invalid: x");
    });
  }
}
