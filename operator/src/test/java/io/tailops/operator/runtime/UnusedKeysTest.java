package io.tailops.operator.runtime;

import static io.tailops.operator.runtime.UnusedKeys.Verdict.FOREIGN;
import static io.tailops.operator.runtime.UnusedKeys.Verdict.HELD;
import static io.tailops.operator.runtime.UnusedKeys.Verdict.INVALID;
import static io.tailops.operator.runtime.UnusedKeys.Verdict.NEEDS_DETAILS;
import static io.tailops.operator.runtime.UnusedKeys.Verdict.REVOKE;
import static io.tailops.operator.runtime.UnusedKeys.Verdict.USED;
import static io.tailops.operator.runtime.UnusedKeys.Verdict.YOUNG;
import static org.assertj.core.api.Assertions.assertThat;

import io.tailops.controlplane.AuthKeyInfo;
import io.tailops.operator.proxy.AuthKeys;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which auth keys the key sweep revokes ({@link UnusedKeys}). */
class UnusedKeysTest {
  static final Instant NOW = Instant.parse("2026-12-07T12:00:00Z");
  static final Duration GRACE = Duration.ofMinutes(5);
  static final AuthKeys OURS = new AuthKeys(Duration.ofMinutes(30), "tailscale-operator",
      AuthKeys.markOf("0b6c3c3e-1a2b-4c5d-8e9f-001122334455"));
  static final AuthKeys OTHER_CLUSTER = new AuthKeys(Duration.ofMinutes(30), "tailscale-operator",
      AuthKeys.markOf("9f8e7d6c-1a2b-4c5d-8e9f-001122334455"));

  /** A key minted by {@code by} for a proxy {@code age} ago, unused, valid for 30 minutes. */
  static AuthKeyInfo key(String id, AuthKeys by, Duration age) {
    Instant created = NOW.minus(age);
    return new AuthKeyInfo(id, true, by.description("proxy ts-web-abcde"), created,
        created.plus(Duration.ofMinutes(30)), false, null, false, List.of("tag:k8s"), "");
  }

  static UnusedKeys.Verdict judge(AuthKeyInfo k, String... held) {
    return UnusedKeys.judge(k, Set.of(held), OURS, NOW, GRACE);
  }

  @Test
  void aKeyThisOperatorMintedThatNoSecretHoldsIsRevokedOnceOlderThanTheGracePeriod() {
    assertThat(judge(key("k1", OURS, Duration.ofMinutes(6)))).isEqualTo(REVOKE);
    assertThat(judge(key("k1", OURS, GRACE))).isEqualTo(REVOKE);
  }

  @Test
  void aKeyYoungerThanTheGracePeriodMayBeOnItsWayToItsSecret() {
    assertThat(judge(key("k1", OURS, Duration.ofMinutes(4)))).isEqualTo(YOUNG);
    AuthKeyInfo noCreated = new AuthKeyInfo("k1", true, OURS.description("proxy x"), null, null, false, null, false,
        List.of(), "");
    assertThat(judge(noCreated)).isEqualTo(YOUNG);
  }

  @Test
  void aKeyASecretHoldsIsKeptHoweverOldEvenBeforeItsProxyLoggedIn() {
    assertThat(judge(key("k1", OURS, Duration.ofMinutes(20)), "k1", "k2")).isEqualTo(HELD);
    // ... without even reading its details.
    assertThat(judge(AuthKeyInfo.idOnly("k1"), "k1")).isEqualTo(HELD);
  }

  @Test
  void aKeyKnownByItsIdOnlyIsReadFirst() {
    assertThat(judge(AuthKeyInfo.idOnly("k1"))).isEqualTo(NEEDS_DETAILS);
  }

  @Test
  void keysThisInstallationDidNotMintAreNeverRevoked() {
    // Another installation's operator with the same hostname (another cluster): a different mark.
    assertThat(judge(key("k1", OTHER_CLUSTER, Duration.ofMinutes(20)))).isEqualTo(FOREIGN);
    // Keys without a mark: an older operator's, the doctor's, the Recorder's (no description), a human's.
    for (String d : new String[] {"tailscale-operator proxy ts-web-abcde", "tailscale-operator doctor", "", "ci"}) {
      assertThat(judge(new AuthKeyInfo("k1", true, d, NOW.minus(Duration.ofHours(1)), NOW.plusSeconds(60), false,
          null, false, List.of("tag:k8s"), ""))).as(d).isEqualTo(FOREIGN);
    }
    // headscale keys have no description at all.
    assertThat(judge(new AuthKeyInfo("7", true, null, NOW.minus(Duration.ofHours(1)), NOW.plusSeconds(60), null,
        false, false, List.of("tag:k8s"), null))).isEqualTo(FOREIGN);
    // A key a user minted (userId set) even with our description; a reusable key (the operator mints none).
    AuthKeyInfo k = key("k1", OURS, Duration.ofMinutes(20));
    assertThat(judge(new AuthKeyInfo("k1", true, k.description(), k.created(), k.expires(), false, null, false,
        k.tags(), "u123"))).isEqualTo(FOREIGN);
    assertThat(judge(new AuthKeyInfo("k1", true, k.description(), k.created(), k.expires(), false, null, true,
        k.tags(), ""))).isEqualTo(FOREIGN);
  }

  @Test
  void withoutAMarkNothingIsRecognisedAsOurs() {
    AuthKeys unmarked = new AuthKeys(Duration.ofMinutes(30), "tailscale-operator");
    AuthKeyInfo k = new AuthKeyInfo("k1", true, unmarked.description("proxy ts-web-abcde"),
        NOW.minus(Duration.ofHours(1)), NOW.plusSeconds(60), false, null, false, List.of("tag:k8s"), "");
    assertThat(UnusedKeys.judge(k, Set.of(), unmarked, NOW, GRACE)).isEqualTo(FOREIGN);
  }

  @Test
  void aUsedRevokedOrExpiredKeyIsLeftAlone() {
    AuthKeyInfo k = key("k1", OURS, Duration.ofMinutes(20));
    assertThat(judge(new AuthKeyInfo("k1", true, k.description(), k.created(), k.expires(), null, true, false,
        k.tags(), null))).isEqualTo(USED);
    assertThat(judge(new AuthKeyInfo("k1", true, k.description(), k.created(), k.expires(), true, null, false,
        k.tags(), ""))).isEqualTo(INVALID);
    assertThat(judge(key("k1", OURS, Duration.ofMinutes(30)))).isEqualTo(INVALID);
  }

  @Test
  void theMarkIsWholeInEveryDescriptionAndTellsInstallationsApart() {
    assertThat(OURS.mark()).matches("op[0-9a-f]{10}").isNotEqualTo(OTHER_CLUSTER.mark());
    assertThat(OURS.description("proxy ts-web-abcde")).isEqualTo("tailscale-operator proxy ts-web-abcde "
        + OURS.mark());
    AuthKeys longOwner = new AuthKeys(Duration.ofMinutes(30), "a-very-long-operator-hostname-of-forty-chars",
        OURS.mark());
    String d = longOwner.description("proxy reauth ts-a-long-service-name-xyz12");
    assertThat(d).hasSize(AuthKeys.MAX_DESCRIPTION).endsWith(" " + OURS.mark()).matches("[A-Za-z0-9 _-]+");
    assertThat(longOwner.minted(d)).isTrue();
    assertThat(OTHER_CLUSTER.minted(d)).isFalse();
    assertThat(AuthKeys.markOf("")).isEmpty();
    assertThat(AuthKeys.markOf(null)).isEmpty();
  }
}
