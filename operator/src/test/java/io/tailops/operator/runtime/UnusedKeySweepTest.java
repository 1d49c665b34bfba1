package io.tailops.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.tailops.controlplane.AuthKey;
import io.tailops.controlplane.AuthKeyInfo;
import io.tailops.controlplane.AuthKeyRequest;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.Device;
import io.tailops.controlplane.DeviceRoutes;
import io.tailops.controlplane.TailnetPolicy;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The key sweep's calls: what it reads, what it revokes, what it remembers ({@link UnusedKeySweep}). */
class UnusedKeySweepTest {
  final Map<String, AuthKeyInfo> keys = new LinkedHashMap<>();
  final List<String> calls = new ArrayList<>();
  final List<Secret> secrets = new ArrayList<>();
  int secretLists;
  ControlPlane.Capabilities capabilities = ControlPlane.Capabilities.tailscale();
  final UnusedKeySweep sweep = new UnusedKeySweep(new Api(), () -> {
    secretLists++;
    return secrets;
  }, UnusedKeysTest.OURS, UnusedKeysTest.GRACE, Clock.fixed(UnusedKeysTest.NOW, ZoneOffset.UTC), () -> { });

  @Test
  void revokesTheLostKeyKeepsTheStoredOneAndReadsEachKeyOnce() {
    keys.put("lost", UnusedKeysTest.key("lost", UnusedKeysTest.OURS, Duration.ofMinutes(10)));
    keys.put("stored", UnusedKeysTest.key("stored", UnusedKeysTest.OURS, Duration.ofMinutes(10)));
    keys.put("other", UnusedKeysTest.key("other", UnusedKeysTest.OTHER_CLUSTER, Duration.ofMinutes(10)));
    secrets.add(new SecretBuilder().withNewMetadata().withName("ts-web-abcde-0")
        .addToAnnotations("tailscale.com/auth-key-id", "stored").endMetadata().build());

    assertThat(sweep.sweep()).containsExactly("lost");
    // The list names the keys only: the two not held are read, the held one is not; the lost one is revoked.
    assertThat(calls).containsExactly("list", "get lost", "delete lost", "get other");
    assertThat(keys).doesNotContainKey("lost");

    calls.clear();
    assertThat(sweep.sweep()).isEmpty();
    // The foreign key is settled: not read again; the held one is judged again (its Secret may go) without a read.
    assertThat(calls).containsExactly("list");
    assertThat(sweep.revoked()).isEqualTo(1);
  }

  @Test
  void nothingListedOrAllSettledListsNoSecrets() {
    assertThat(sweep.sweep()).isEmpty();
    assertThat(secretLists).isZero();
    keys.put("other", UnusedKeysTest.key("other", UnusedKeysTest.OTHER_CLUSTER, Duration.ofMinutes(10)));
    sweep.sweep();
    sweep.sweep();
    assertThat(secretLists).isEqualTo(1);
  }

  @Test
  void aYoungKeyIsReadOnceAndReadAgainRightBeforeItIsRevoked() {
    keys.put("young", UnusedKeysTest.key("young", UnusedKeysTest.OURS, Duration.ofMinutes(1)));
    Clock[] clock = {Clock.fixed(UnusedKeysTest.NOW, ZoneOffset.UTC)};
    UnusedKeySweep s = new UnusedKeySweep(new Api(), () -> secrets, UnusedKeysTest.OURS, UnusedKeysTest.GRACE,
        new Clock() {
          @Override
          public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
          }

          @Override
          public Clock withZone(java.time.ZoneId zone) {
            return this;
          }

          @Override
          public java.time.Instant instant() {
            return clock[0].instant();
          }
        }, () -> { });
    assertThat(s.sweep()).isEmpty();
    assertThat(calls).containsExactly("list", "get young");
    clock[0] = Clock.offset(clock[0], Duration.ofMinutes(5));
    calls.clear();
    assertThat(s.sweep()).containsExactly("young");
    assertThat(calls).containsExactly("list", "get young", "delete young");
  }

  @Test
  void withoutAMarkTheSweepCallsNothing() {
    UnusedKeySweep s = new UnusedKeySweep(new Api(), () -> secrets,
        new io.tailops.operator.proxy.AuthKeys(Duration.ofMinutes(30), "tailscale-operator"), UnusedKeysTest.GRACE,
        Clock.systemUTC(), () -> { });
    assertThat(s.sweep()).isEmpty();
    assertThat(calls).isEmpty();
    assertThat(s.off()).hasValueSatisfying(why -> assertThat(why).startsWith("the keys this operator mints carry no "
        + "installation mark"));
  }

  @Test
  void whereKeysHaveNoDescriptionTheSweepSaysWhyItIsOffAndCallsNothing() {
    assertThat(sweep.off()).as("Tailscale, with a mark").isEmpty();
    capabilities = new ControlPlane.Capabilities("headscale", false, false, true, false, false);
    keys.put("lost", UnusedKeysTest.key("lost", UnusedKeysTest.OURS, Duration.ofMinutes(10)));
    assertThat(sweep.off()).hasValueSatisfying(why -> assertThat(why).startsWith("headscale keeps no description "
        + "with an auth key").contains("the unused-key sweep revokes none"));
    assertThat(sweep.sweep()).isEmpty();
    assertThat(calls).isEmpty();
    assertThat(secretLists).isZero();
  }

  /** A control plane whose key list names the IDs only, as the Tailscale API's. */
  final class Api implements ControlPlane {
    @Override
    public List<AuthKeyInfo> listAuthKeys() {
      calls.add("list");
      return keys.keySet().stream().map(AuthKeyInfo::idOnly).toList();
    }

    @Override
    public Optional<AuthKeyInfo> getAuthKey(String keyId) {
      calls.add("get " + keyId);
      return Optional.ofNullable(keys.get(keyId));
    }

    @Override
    public void deleteAuthKey(String keyId) {
      calls.add("delete " + keyId);
      keys.remove(keyId);
    }

    @Override
    public AuthKey createAuthKey(AuthKeyRequest request) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Optional<Device> getDevice(String deviceId) {
      throw new UnsupportedOperationException();
    }

    @Override
    public List<Device> listDevices() {
      throw new UnsupportedOperationException();
    }

    @Override
    public boolean deleteDevice(String deviceId) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Optional<DeviceRoutes> getDeviceRoutes(String deviceId) {
      throw new UnsupportedOperationException();
    }

    @Override
    public DeviceRoutes setApprovedRoutes(String deviceId, List<String> routes) {
      throw new UnsupportedOperationException();
    }

    @Override
    public TailnetPolicy readPolicy() {
      throw new UnsupportedOperationException();
    }

    @Override
    public void checkCredentials() throws ControlPlaneException {
    }

    @Override
    public Capabilities capabilities() {
      return capabilities;
    }
  }
}
