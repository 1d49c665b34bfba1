package io.tailops.operator.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.tailops.operator.k8s.TailscaleKeys;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A ProxyGroup replica's re-registration writes the fresh key into the config Secret, then resets the separate state
 * Secret. Stopped in between, the state still reports the device being replaced: that is not a login.
 */
class ReplicaStateResetTest {
  private static String b64(String s) {
    return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.UTF_8));
  }

  private static Secret config(String reauthFrom) {
    SecretBuilder b = new SecretBuilder().withNewMetadata().withName("pg-0-config").withNamespace("tailscale")
        .addToLabels(ReplicaState.LABEL_SECRET_TYPE, ReplicaState.SECRET_TYPE_CONFIG)
        .addToAnnotations(TailscaleKeys.REAUTH_AT, "2026-12-08T02:00:00Z").endMetadata()
        .addToData(TailscaledConfig.CAP_107, b64("{\"Version\":\"alpha0\",\"AuthKey\":\"tskey-auth-fresh\"}"));
    if (reauthFrom != null) {
      b.editMetadata().addToAnnotations(TailscaleKeys.REAUTH_FROM, reauthFrom).endMetadata();
    }
    return b.build();
  }

  private static Secret state(String deviceId) {
    SecretBuilder b = new SecretBuilder().withNewMetadata().withName("pg-0").withNamespace("tailscale")
        .addToLabels(ReplicaState.LABEL_SECRET_TYPE, ReplicaState.SECRET_TYPE_STATE).endMetadata();
    if (deviceId != null) {
      b.addToData(Map.of(DeviceState.KEY_DEVICE_ID, b64(deviceId), "_machinekey", b64("mkey")));
    }
    return b.build();
  }

  @Test
  void theStateStillReportingTheReplacedDeviceIsAnUnfinishedResetNotALogin() {
    ReplicaState r = ReplicaState.of(state("dev-old"), config("dev-old"));
    assertThat(r.authKeyPending()).isTrue();
    assertThat(r.resetUnfinished()).isTrue();
    assertThat(r.loggedIn()).isFalse();
  }

  @Test
  void aLoginWithTheFreshKeyIsALogin() {
    ReplicaState r = ReplicaState.of(state("dev-new"), config("dev-old"));
    assertThat(r.resetUnfinished()).isFalse();
    assertThat(r.loggedIn()).isTrue();
  }

  @Test
  void aResetStateOrNoReplacementIsNothingUnfinished() {
    assertThat(ReplicaState.of(state(null), config("dev-old")).resetUnfinished()).isFalse();
    assertThat(ReplicaState.of(state("dev-old"), config(null)).resetUnfinished()).isFalse();
    assertThat(ReplicaState.of(state("dev-old"), config(null)).loggedIn()).isTrue();
  }

  @Test
  void aSingleSecretProxyIsResetInOneWriteSoNeverHalfway() {
    Secret single = new SecretBuilder(config("dev-old")).addToData(DeviceState.KEY_DEVICE_ID, b64("dev-old")).build();
    assertThat(ReplicaState.of(single).resetUnfinished()).isFalse();
  }
}
