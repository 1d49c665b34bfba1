package io.tailops.operator.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.tailops.operator.doctor.Doctor;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Which scopes are missing: a 403 adds one, a success of a call needing it removes it, each change is told once. */
class MissingScopesTest {
  final MissingScopes scopes = new MissingScopes(Clock.fixed(Instant.parse("2026-03-01T10:00:00Z"), ZoneOffset.UTC));
  final AtomicInteger changes = new AtomicInteger();

  {
    scopes.onChange(changes::incrementAndGet);
  }

  @Test
  void aRefusedScopeIsReportedOnceUntilACallNeedingItSucceeds() {
    assertThat(scopes.summary()).isEqualTo("none");
    assertThat(scopes.check()).isEmpty();
    scopes.forbidden("devices:core", "deleting a device");
    scopes.forbidden("devices:core", "deleting a device");
    assertThat(changes.get()).isEqualTo(1);
    assertThat(scopes.summary()).startsWith("devices:core (since 2026-03-01T10:00:00Z, deleting a device was refused): "
        + "devices cannot be deleted").endsWith("give the OAuth client the scope devices:core");
    assertThat(scopes.check()).hasValueSatisfying(c -> assertThat(c.status()).isEqualTo(Doctor.Status.FAIL));
    scopes.granted("devices:core:read");
    assertThat(scopes.list()).hasSize(1);
    scopes.granted("devices:core");
    assertThat(scopes.list()).isEmpty();
    assertThat(changes.get()).isEqualTo(2);
  }

  @Test
  void aWriteScopeProvesItsReadScope() {
    scopes.forbidden("devices:core:read", "listing devices");
    assertThat(scopes.summary()).endsWith("give the OAuth client the scope devices:core");
    scopes.granted("devices:core");
    assertThat(scopes.summary()).isEqualTo("none");
  }

  @Test
  void onlyThePolicyScopeMissingIsAWarning() {
    scopes.forbidden("policy_file:read", "reading the policy");
    assertThat(scopes.check()).hasValueSatisfying(c -> {
      assertThat(c.status()).isEqualTo(Doctor.Status.WARN);
      assertThat(c.detail()).startsWith("policy_file:read missing: optional");
    });
  }

  @Test
  void theConnectorsRoutesScopeMissingIsAWarningThatNamesWhatCannotBeChecked() {
    scopes.forbidden("devices:routes:read", "reading a device's routes");
    assertThat(scopes.summary()).contains("whether a Connector's routes are approved cannot be checked")
        .endsWith("give the OAuth client the scope devices:routes:read");
    assertThat(scopes.check()).hasValueSatisfying(c -> assertThat(c.status()).isEqualTo(Doctor.Status.WARN));
    scopes.forbidden("auth_keys", "minting an auth key");
    assertThat(scopes.check()).hasValueSatisfying(c -> assertThat(c.status()).isEqualTo(Doctor.Status.FAIL));
  }
}
