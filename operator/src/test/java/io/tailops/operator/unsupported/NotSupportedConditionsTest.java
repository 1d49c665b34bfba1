package io.tailops.operator.unsupported;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.tailops.api.v1alpha1.ConditionTypes;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

class NotSupportedConditionsTest {
  static final Clock T0 = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);
  static final Clock T1 = Clock.fixed(Instant.parse("2026-01-02T00:00:00Z"), ZoneOffset.UTC);
  static final UnsupportedKind PROXY_GROUP = ProxyGroupNotSupported.KIND;

  @Test
  void aNewObjectGetsTheKindsConditionFalseNotSupported() {
    List<Condition> write = NotSupportedConditions.toWrite(PROXY_GROUP, List.of(), 3L, T0).orElseThrow();
    assertThat(write).singleElement().satisfies(c -> {
      assertThat(c.getType()).isEqualTo("ProxyGroupReady");
      assertThat(c.getStatus()).isEqualTo("False");
      assertThat(c.getReason()).isEqualTo("NotSupported");
      assertThat(c.getMessage()).isEqualTo(PROXY_GROUP.message());
      assertThat(c.getObservedGeneration()).isEqualTo(3L);
      assertThat(c.getLastTransitionTime()).isEqualTo("2026-01-01T00:00:00Z");
    });
  }

  @Test
  void nothingIsWrittenWhenTheConditionIsAlreadyThereForThisGeneration() {
    List<Condition> current = NotSupportedConditions.toWrite(PROXY_GROUP, List.of(), 3L, T0).orElseThrow();
    assertThat(NotSupportedConditions.toWrite(PROXY_GROUP, current, 3L, T1)).isEmpty();
  }

  @Test
  void aNewGenerationUpdatesObservedGenerationButKeepsTheTransitionTimeAndIsNoNews() {
    assertThat(NotSupportedConditions.isNews(PROXY_GROUP, List.of())).isTrue();
    List<Condition> current = NotSupportedConditions.toWrite(PROXY_GROUP, List.of(), 3L, T0).orElseThrow();
    List<Condition> write = NotSupportedConditions.toWrite(PROXY_GROUP, current, 4L, T1).orElseThrow();
    assertThat(write.get(0).getObservedGeneration()).isEqualTo(4L);
    assertThat(write.get(0).getLastTransitionTime()).isEqualTo("2026-01-01T00:00:00Z");
    assertThat(NotSupportedConditions.isNews(PROXY_GROUP, current)).as("no second Event").isFalse();
  }

  @Test
  void aReadyConditionLeftByTheOfficialOperatorIsReplacedAndOtherTypesAreKept() {
    Condition ready = new ConditionBuilder().withType("ProxyGroupReady").withStatus("True")
        .withReason("ProxyGroupReady").withMessage("ProxyGroupReady").withObservedGeneration(3L).withLastTransitionTime("2025-12-01T00:00:00Z")
        .build();
    Condition other = new ConditionBuilder().withType("Other").withStatus("True").withReason("R").withMessage("m")
        .withLastTransitionTime("2025-12-01T00:00:00Z").build();
    List<Condition> write = NotSupportedConditions.toWrite(PROXY_GROUP, List.of(ready, other), 3L, T1).orElseThrow();
    assertThat(write).extracting(Condition::getType, Condition::getStatus, Condition::getReason).containsExactly(
        org.assertj.core.groups.Tuple.tuple("ProxyGroupReady", "False", "NotSupported"),
        org.assertj.core.groups.Tuple.tuple("Other", "True", "R"));
    assertThat(write.get(0).getLastTransitionTime()).as("the status changed").isEqualTo("2026-01-02T00:00:00Z");
    assertThat(NotSupportedConditions.isNews(PROXY_GROUP, List.of(ready, other))).isTrue();
  }

  @Test
  void everyUnsupportedKindUsesItsOfficialConditionTypeAndSaysWhatToDo() {
    assertThat(UnsupportedKinds.kinds()).extracting(UnsupportedKind::kind, UnsupportedKind::conditionType)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("ProxyGroup", ConditionTypes.PROXY_GROUP_READY));
    for (UnsupportedKind k : UnsupportedKinds.kinds()) {
      assertThat(k.message()).startsWith(k.kind() + " is not supported by this operator yet: ")
          .contains("run the official Tailscale operator").contains("delete the object")
          .hasSizeLessThan(32768);
    }
    assertThat(ProxyGroupNotSupported.KIND.crdName()).isEqualTo("proxygroups.tailscale.com");
  }
}
