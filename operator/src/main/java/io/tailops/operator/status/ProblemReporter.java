package io.tailops.operator.status;

import io.fabric8.kubernetes.api.model.HasMetadata;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Records each problem of an object as an Event once, when it appears, instead of on every reconcile: a resync of an
 * unchanged object then writes nothing. Forgotten when the problem goes away, so a recurrence is reported again.
 */
public final class ProblemReporter {
  private final EventSink events;
  private final Map<String, Set<Problem>> reported = new ConcurrentHashMap<>();

  public ProblemReporter(EventSink events) {
    this.events = events;
  }

  /** Reports the problems of {@code obj} that were not reported last time; forgets the ones that went away. */
  public void report(HasMetadata obj, List<Problem> problems) {
    String uid = obj.getMetadata().getUid();
    Set<Problem> now = new LinkedHashSet<>(problems);
    Set<Problem> before = reported.getOrDefault(uid, Set.of());
    for (Problem p : now) {
      if (!before.contains(p)) {
        events.record(obj, p.type(), p.reason(), p.message());
      }
    }
    if (now.isEmpty()) {
      reported.remove(uid);
    } else {
      reported.put(uid, now);
    }
  }

  /** Adds one problem to the reported set (reported now unless it already was). */
  public void add(HasMetadata obj, Problem p) {
    String uid = obj.getMetadata().getUid();
    Set<Problem> set = reported.computeIfAbsent(uid, k -> ConcurrentHashMap.newKeySet());
    if (set.add(p)) {
      events.record(obj, p.type(), p.reason(), p.message());
    }
  }

  public void forget(HasMetadata obj) {
    reported.remove(obj.getMetadata().getUid());
  }
}
