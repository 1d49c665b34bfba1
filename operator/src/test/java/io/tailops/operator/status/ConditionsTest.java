package io.tailops.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConditionsTest {
  private final Clock t0 = Clock.fixed(Instant.parse("2026-01-01T10:00:00.750Z"), ZoneOffset.UTC);
  private final Clock t1 = Clock.fixed(Instant.parse("2026-01-01T11:00:00Z"), ZoneOffset.UTC);

  @Test
  void transitionTimeIsInWholeSecondsAndChangesOnlyWithTheStatus() {
    List<Condition> a = Conditions.set(List.of(), "Ready", false, "Pending", "waiting", null, t0);
    assertThat(a.get(0).getLastTransitionTime()).isEqualTo("2026-01-01T10:00:00Z");
    List<Condition> b = Conditions.set(a, "Ready", false, "Failed", "other message", null, t1);
    assertThat(b.get(0).getLastTransitionTime()).isEqualTo("2026-01-01T10:00:00Z");
    assertThat(b.get(0).getReason()).isEqualTo("Failed");
    List<Condition> c = Conditions.set(b, "Ready", true, "Created", "ok", null, t1);
    assertThat(c.get(0).getLastTransitionTime()).isEqualTo("2026-01-01T11:00:00Z");
  }

  @Test
  void otherConditionsAreKeptAndRemoveOnlyRemovesOurs() {
    List<Condition> a = Conditions.set(List.of(), "Other", true, "X", "x", null, t0);
    List<Condition> b = Conditions.set(a, "Ready", true, "Y", "y", 3L, t0);
    assertThat(b).extracting(Condition::getType).containsExactly("Other", "Ready");
    assertThat(b.get(1).getObservedGeneration()).isEqualTo(3L);
    assertThat(Conditions.remove(b, "Ready")).extracting(Condition::getType).containsExactly("Other");
    assertThat(Conditions.same(b, Conditions.set(b, "Ready", true, "Y", "y", 3L, t1))).isTrue();
  }
}
