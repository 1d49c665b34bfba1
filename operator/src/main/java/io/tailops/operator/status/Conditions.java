package io.tailops.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Clock;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * metav1.Condition semantics as the official operator uses them: {@code lastTransitionTime} in whole seconds and
 * changed only when {@code status} changes; the list is rewritten only when something differs.
 */
public final class Conditions {
  private Conditions() {
  }

  /**
   * {@code existing} with the condition of {@code type} set (other types untouched).
   *
   * @param observedGeneration null to omit (Services, Ingresses)
   */
  public static List<Condition> set(List<Condition> existing, String type, boolean status, String reason,
      String message, Long observedGeneration, Clock clock) {
    List<Condition> out = new ArrayList<>();
    String statusText = status ? "True" : "False";
    boolean replaced = false;
    for (Condition c : existing == null ? List.<Condition>of() : existing) {
      if (!type.equals(c.getType())) {
        out.add(c);
        continue;
      }
      String ltt = statusText.equals(c.getStatus()) && c.getLastTransitionTime() != null ? c.getLastTransitionTime()
          : now(clock);
      out.add(build(type, statusText, reason, message, observedGeneration, ltt));
      replaced = true;
    }
    if (!replaced) {
      out.add(build(type, statusText, reason, message, observedGeneration, now(clock)));
    }
    return out;
  }

  /** {@code existing} without conditions of {@code type}. */
  public static List<Condition> remove(List<Condition> existing, String type) {
    List<Condition> out = new ArrayList<>();
    for (Condition c : existing == null ? List.<Condition>of() : existing) {
      if (!type.equals(c.getType())) {
        out.add(c);
      }
    }
    return out;
  }

  /**
   * Whether the condition of {@code type} says the same in both lists (status, reason, message, observed generation;
   * the transition time follows from those), or is absent from both.
   */
  public static boolean same(List<Condition> a, List<Condition> b, String type) {
    Optional<Condition> x = find(a, type);
    Optional<Condition> y = find(b, type);
    if (x.isEmpty() || y.isEmpty()) {
      return x.isEmpty() == y.isEmpty();
    }
    return Objects.equals(x.get().getStatus(), y.get().getStatus())
        && Objects.equals(x.get().getReason(), y.get().getReason())
        && Objects.equals(x.get().getMessage(), y.get().getMessage())
        && Objects.equals(x.get().getObservedGeneration(), y.get().getObservedGeneration());
  }

  public static Optional<Condition> find(List<Condition> conditions, String type) {
    if (conditions == null) {
      return Optional.empty();
    }
    return conditions.stream().filter(c -> type.equals(c.getType())).findFirst();
  }

  /** Whether two condition lists say the same (ignoring nothing: times included). */
  public static boolean same(List<Condition> a, List<Condition> b) {
    List<Condition> x = a == null ? List.of() : a;
    List<Condition> y = b == null ? List.of() : b;
    if (x.size() != y.size()) {
      return false;
    }
    for (int i = 0; i < x.size(); i++) {
      Condition p = x.get(i);
      Condition q = y.get(i);
      if (!Objects.equals(p.getType(), q.getType()) || !Objects.equals(p.getStatus(), q.getStatus())
          || !Objects.equals(p.getReason(), q.getReason()) || !Objects.equals(p.getMessage(), q.getMessage())
          || !Objects.equals(p.getObservedGeneration(), q.getObservedGeneration())
          || !sameTime(p.getLastTransitionTime(), q.getLastTransitionTime())) {
        return false;
      }
    }
    return true;
  }

  private static boolean sameTime(String a, String b) {
    if (Objects.equals(a, b)) {
      return true;
    }
    try {
      return a != null && b != null && Instant.parse(a).equals(Instant.parse(b));
    } catch (Exception e) {
      return false;
    }
  }

  private static Condition build(String type, String status, String reason, String message, Long generation,
      String ltt) {
    return new ConditionBuilder().withType(type).withStatus(status).withReason(reason).withMessage(message)
        .withObservedGeneration(generation).withLastTransitionTime(ltt).build();
  }

  static String now(Clock clock) {
    return DateTimeFormatter.ISO_INSTANT.format(clock.instant().truncatedTo(ChronoUnit.SECONDS));
  }
}
