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
 * @param recheck when to look again though no event announces a change (the status depends on something outside the
 *     cluster, such as a tailnet device joining), or null
 */
public record Projection<S>(S status, List<Problem> onChange, List<Problem> notes, Duration recheck) {
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
