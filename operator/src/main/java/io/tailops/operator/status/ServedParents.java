package io.tailops.operator.status;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Every parent the operator is asked to serve (of every proxy kind), with what its last reconcile found: ready, pending,
 * failed (invalid, blocked, API errors) with the reason and message, or ignored with a near-miss warning (an annotation
 * value that looks like yes but is not {@code "true"}). Kept by the proxy pipeline, in memory, at no API cost; the
 * status page and {@code doctor} list every parent from it, with or without a proxy, so that an Ingress that was never
 * served (no valid backend, an invalid hostname) shows up as a failure rather than not at all.
 */
public final class ServedParents {
  /** Where a parent stands. */
  public enum State {
    READY, PENDING, FAILED, IGNORED
  }

  /**
   * One parent.
   *
   * @param kind {@code Service}, {@code Ingress}, ...
   * @param parentType the {@code tailscale.com/parent-resource-type} of its proxy's objects ({@code svc})
   * @param namespace its namespace ("" for cluster-scoped kinds)
   * @param reason the condition reason or event reason that explains the state
   * @param message what to tell the user (what is wrong and what to do)
   * @param hostname the tailnet hostname it asks for, or ""
   * @param proxy the proxy's StatefulSet name, or "" when it has no proxy
   * @param funnel whether it asks for Funnel
   * @param proxyClass the ProxyClass it uses, or null
   * @param warnings what else the user was warned about (an annotation that is ignored, a ProxyClass setting that
   *     does nothing, Funnel the policy does not allow, ...)
   * @param since when it entered this state
   */
  public record Entry(String kind, String parentType, String namespace, String name, State state, String reason,
      String message, String hostname, String proxy, boolean funnel, String proxyClass, List<Problem> warnings,
      Instant since) {

    public Entry {
      warnings = List.copyOf(warnings);
    }

    Entry since(Instant at) {
      return new Entry(kind, parentType, namespace, name, state, reason, message, hostname, proxy, funnel, proxyClass,
          warnings, at);
    }

    /** {@code Kind namespace/name}. */
    public String describe() {
      return kind + " " + (namespace == null || namespace.isEmpty() ? name : namespace + "/" + name);
    }

    boolean sameAs(Entry o) {
      return o != null && state == o.state && Objects.equals(reason, o.reason) && Objects.equals(message, o.message)
          && Objects.equals(hostname, o.hostname) && Objects.equals(proxy, o.proxy) && funnel == o.funnel
          && Objects.equals(proxyClass, o.proxyClass) && warnings.equals(o.warnings);
    }
  }

  private final Map<String, Entry> byUid = new ConcurrentHashMap<>();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  /** Records the state of the parent {@code uid}; listeners hear of it when it differs from the last one. */
  public void put(String uid, Entry entry) {
    Entry before = byUid.get(uid);
    if (entry.sameAs(before)) {
      return;
    }
    byUid.put(uid, before != null && before.state() == entry.state() ? entry.since(before.since()) : entry);
    listeners.forEach(Runnable::run);
  }

  /** Forgets a parent (gone, or no longer asking to be served and without a warning). */
  public void remove(String uid) {
    if (byUid.remove(uid) != null) {
      listeners.forEach(Runnable::run);
    }
  }

  /** Every parent, by kind, namespace and name. */
  public List<Entry> all() {
    List<Entry> out = new ArrayList<>(byUid.values());
    out.sort(Comparator.comparing(Entry::kind).thenComparing(Entry::namespace, Comparator.nullsFirst(
        Comparator.naturalOrder())).thenComparing(Entry::name));
    return out;
  }

  /** Called (on the reconciling thread) after each change. */
  public void onChange(Runnable listener) {
    listeners.add(listener);
  }
}
