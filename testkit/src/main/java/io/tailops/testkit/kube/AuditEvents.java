package io.tailops.testkit.kube;

import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * An immutable selection of {@link AuditEvent}s with filters and counters, e.g.
 * {@code audit.since(mark).byUserAgent("tailscale-operator").writes().count()}.
 */
public final class AuditEvents {

  /** What {@link #countByVerbResourceUserAgent()} groups by. {@code resource} includes the subresource. */
  public record RequestKey(String verb, String resource, String userAgent) implements Comparable<RequestKey> {
    private static final Comparator<RequestKey> ORDER = Comparator
        .comparing(RequestKey::userAgent, Comparator.nullsFirst(Comparator.naturalOrder()))
        .thenComparing(RequestKey::resource, Comparator.nullsFirst(Comparator.naturalOrder()))
        .thenComparing(RequestKey::verb, Comparator.nullsFirst(Comparator.naturalOrder()));

    @Override
    public int compareTo(RequestKey o) {
      return ORDER.compare(this, o);
    }
  }

  private final List<AuditEvent> events;

  public AuditEvents(List<AuditEvent> events) {
    this.events = List.copyOf(events);
  }

  public List<AuditEvent> list() {
    return events;
  }

  public Stream<AuditEvent> stream() {
    return events.stream();
  }

  public int count() {
    return events.size();
  }

  public boolean isEmpty() {
    return events.isEmpty();
  }

  public AuditEvents filter(Predicate<AuditEvent> p) {
    return new AuditEvents(events.stream().filter(p).toList());
  }

  /** create, update, patch, delete, deletecollection. */
  public AuditEvents writes() {
    return filter(AuditEvent::isWrite);
  }

  /** Everything that is not a write (get, list, watch, non-resource requests). */
  public AuditEvents reads() {
    return filter(e -> !e.isWrite());
  }

  public AuditEvents byVerb(String... verbs) {
    Set<String> s = Set.of(verbs);
    return filter(e -> s.contains(e.verb()));
  }

  /** Events whose resource (without subresource) is one of these, e.g. {@code "secrets"}. */
  public AuditEvents byResource(String... resources) {
    Set<String> s = Set.of(resources);
    return filter(e -> e.resource() != null && s.contains(e.resource()));
  }

  public AuditEvents byNamespace(String namespace) {
    return filter(e -> namespace.equals(e.namespace()));
  }

  /** Events whose user agent starts with this prefix (user agents carry versions and platforms after a slash). */
  public AuditEvents byUserAgent(String prefix) {
    return filter(e -> e.userAgent() != null && e.userAgent().startsWith(prefix));
  }

  public AuditEvents byUser(String username) {
    return filter(e -> username.equals(e.username()));
  }

  public AuditEvents excludingUsers(String... usernames) {
    Set<String> s = Set.of(usernames);
    return filter(e -> !s.contains(e.username()));
  }

  /**
   * Drops the control plane's own requests: the API server's loopback client ({@code system:apiserver}), the
   * controller manager and the launcher's health checks, so that what is left is what tests and the operator did.
   */
  public AuditEvents excludingControlPlane() {
    return filter(e -> !("system:apiserver".equals(e.username())
        || KubeApiServer.CONTROLLER_MANAGER_USER.equals(e.username())
        || e.username() != null && e.username().startsWith("system:kube-")
        || e.userAgent() != null && e.userAgent().startsWith(KubeApiServer.LAUNCHER_USER_AGENT)));
  }

  /** Counts by (verb, resource[/subresource], user agent), ordered by user agent, resource, verb. */
  public Map<RequestKey, Long> countByVerbResourceUserAgent() {
    return events.stream()
        .collect(Collectors.groupingBy(e -> new RequestKey(e.verb(), e.resourceKey(), e.userAgent()),
            java.util.TreeMap::new, Collectors.counting()));
  }

  /** Counts by any key, in first-seen order. */
  public <K> Map<K, Long> countBy(java.util.function.Function<AuditEvent, K> key) {
    return events.stream().collect(Collectors.groupingBy(key, LinkedHashMap::new, Collectors.counting()));
  }

  /** A table of {@link #countByVerbResourceUserAgent()}, one line per key, for assertion messages and logs. */
  public String summary() {
    if (events.isEmpty()) {
      return "(no requests)";
    }
    return countByVerbResourceUserAgent().entrySet().stream()
        .map(en -> String.format("%5d %-16s %-40s %s", en.getValue(), en.getKey().verb(), en.getKey().resource(),
            en.getKey().userAgent()))
        .collect(Collectors.joining("\n"));
  }

  @Override
  public String toString() {
    return count() + " audit events:\n" + summary();
  }
}
