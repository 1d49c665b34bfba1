package io.tailops.operator.pipeline;

import io.tailops.operator.status.Problem;
import java.util.List;

/**
 * A kind's view of an outcome: the parent's status and what to tell the user.
 *
 * @param status the status the parent should have; null leaves it as it is
 * @param onChange events recorded only when the status changes (a condition's transitions)
 * @param notes events recorded once while they hold (recorded again only after they went away and came back)
 */
public record Projection<S>(S status, List<Problem> onChange, List<Problem> notes) {
  public Projection {
    onChange = List.copyOf(onChange);
    notes = List.copyOf(notes);
  }

  public static <S> Projection<S> unchanged(List<Problem> notes) {
    return new Projection<>(null, List.of(), notes);
  }
}
