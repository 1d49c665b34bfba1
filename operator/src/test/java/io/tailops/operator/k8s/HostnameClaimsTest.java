package io.tailops.operator.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The claim order is total and deterministic, and a parent that lets a name go wakes the others who want it. */
class HostnameClaimsTest {
  static final Instant SECOND = Instant.parse("2026-12-01T10:00:00Z");

  @Test
  void claimsOfTheSameSecondAreOrderedByKindNamespaceNameAndUidWhateverTheCacheOrder() {
    List<HostnameClaims.Claim> claims = new ArrayList<>(List.of(
        new HostnameClaims.Claim("Service", "beta", "web", "uid-2", SECOND),
        new HostnameClaims.Claim("Service", "alpha", "web", "uid-9", SECOND),
        new HostnameClaims.Claim("Ingress", "zulu", "web", "uid-5", SECOND),
        new HostnameClaims.Claim("Service", "alpha", "web", "uid-1", SECOND),
        new HostnameClaims.Claim("Service", "omega", "old", "uid-0", SECOND.minusSeconds(1)),
        new HostnameClaims.Claim("Service", "aaa", "no-timestamp", "uid-3", null)));
    for (int i = 0; i < 20; i++) {
      Collections.shuffle(claims);
      HostnameClaims hc = new HostnameClaims();
      List<HostnameClaims.Claim> copy = List.copyOf(claims);
      hc.register("all", h -> copy);
      assertThat(hc.all("web")).extracting(HostnameClaims.Claim::uid)
          .containsExactly("uid-0", "uid-5", "uid-1", "uid-9", "uid-2", "uid-3");
    }
  }

  @Test
  void aParentThatStartsOrStopsClaimingANameWakesTheOthersWhoWantIt() {
    HostnameClaims hc = new HostnameClaims();
    List<String> woken = new ArrayList<>();
    hc.register("Service", h -> h.equals("web") ? List.of(new HostnameClaims.Claim("Service", "a", "waiting",
        "uid-w", SECOND), new HostnameClaims.Claim("Service", "a", "holder", "uid-h", SECOND.minusSeconds(9)))
        : List.of(), c -> woken.add(c.name()));
    hc.claiming("uid-h", Set.of("web"));
    assertThat(woken).as("a new claim wakes the others: one of them may have lost the name").containsExactly(
        "waiting");
    woken.clear();
    hc.claiming("uid-h", Set.of("Web"));
    assertThat(woken).isEmpty();
    hc.claiming("uid-h", Set.of("web2"));
    assertThat(woken).containsExactly("waiting");
    woken.clear();
    hc.claiming("uid-h", Set.of());
    assertThat(woken).isEmpty(); // web2 has no other claimant
    hc.released("web");
    assertThat(woken).containsExactlyInAnyOrder("waiting", "holder");
  }
}
