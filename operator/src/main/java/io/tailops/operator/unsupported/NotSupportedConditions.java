package io.tailops.operator.unsupported;

import io.fabric8.kubernetes.api.model.Condition;
import io.tailops.operator.status.Conditions;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

/** Decides the conditions of an object of an {@link UnsupportedKind}: the kind's condition, False, NotSupported. */
final class NotSupportedConditions {
  private NotSupportedConditions() {
  }

  /**
   * The conditions to write, or empty when the current ones already say it for this generation (then nothing is
   * written). Conditions of other types are kept as they are.
   */
  static Optional<List<Condition>> toWrite(UnsupportedKind kind, List<Condition> current, Long generation,
      Clock clock) {
    List<Condition> desired = Conditions.set(current, kind.conditionType(), false, UnsupportedKind.REASON,
        kind.message(), generation, clock);
    return Conditions.same(current, desired) ? Optional.empty() : Optional.of(desired);
  }

  /**
   * Whether writing the condition tells something new (so an Event is due): the object did not say NotSupported
   * with this message yet. A new observedGeneration alone is not news.
   */
  static boolean isNews(UnsupportedKind kind, List<Condition> current) {
    return Conditions.find(current, kind.conditionType())
        .map(c -> !("False".equals(c.getStatus()) && UnsupportedKind.REASON.equals(c.getReason())
            && kind.message().equals(c.getMessage())))
        .orElse(true);
  }
}
