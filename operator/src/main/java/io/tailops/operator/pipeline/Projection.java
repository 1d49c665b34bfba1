package io.tailops.operator.pipeline;

import io.tailops.operator.status.Problem;
import java.time.Duration;
import java.util.List;

/**
 * A kind's view of an outcome: the parent's status and what to tell the user.
 *
 * @param status the status the parent should have; null leaves it as it is
 * @param onChange events recorded only when the status changes (a condition's transitions)
 * @param notes events recorded once while they hold (recorded again only after they went away and came back)
 * @param recheckAfter when to reconcile again although no event may announce a change (the kind waits for something
 *     outside the cluster, e.g. a route approval in the tailnet), or null
 */
public record Projection<S>(S status, List<Problem> onChange, List<Problem> notes, Duration recheckAfter) {
  public Projection {
    onChange = List.copyOf(onChange);
    notes = List.copyOf(notes);
  }

  public Projection(S status, List<Problem> onChange, List<Problem> notes) {
    this(status, onChange, notes, null);
  }

  public static <S> Projection<S> unchanged(List<Problem> notes) {
    return new Projection<>(null, List.of(), notes);
  }
}
