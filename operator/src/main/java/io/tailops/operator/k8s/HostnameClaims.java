package io.tailops.operator.k8s;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Which Services and Ingresses ask for which tailnet hostname, from the reconcilers' caches. When several ask for the
 * same name, the oldest keeps it and the others get a clear condition instead of a silent {@code -1} device (the
 * control plane would otherwise suffix the second device's name).
 */
public final class HostnameClaims {

  /** One object asking for a hostname. */
  public record Claim(String kind, String namespace, String name, String uid, Instant created) {
    public String describe() {
      return kind + " " + namespace + "/" + name;
    }
  }

  private static final Comparator<Claim> AGE = Comparator.comparing(Claim::created, Comparator.nullsLast(
      Comparator.naturalOrder())).thenComparing(Claim::kind).thenComparing(Claim::namespace)
      .thenComparing(Claim::name);

  private final Map<String, Function<String, List<Claim>>> sources = new ConcurrentHashMap<>();
  private final Map<String, Consumer<Claim>> kicks = new ConcurrentHashMap<>();

  /** A creation timestamp as an Instant (null when absent or malformed). */
  public static Instant created(String creationTimestamp) {
    try {
      return creationTimestamp == null ? null : Instant.parse(creationTimestamp);
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** Registers a source of claims (one per reconciler): hostname (lower case) → claims. */
  public void register(String kind, Function<String, List<Claim>> source) {
    register(kind, source, c -> { });
  }

  /**
   * Registers a source of claims and how to reconcile one of its claimants soon (when a hostname it waits for is
   * freed).
   */
  public void register(String kind, Function<String, List<Claim>> source, Consumer<Claim> kick) {
    sources.put(kind, source);
    kicks.put(kind, kick);
  }

  /** Reconciles soon every claimant of {@code hostname} other than {@code uid}: the name was freed. */
  public void freed(String hostname, String uid) {
    for (Claim c : all(hostname)) {
      if (!c.uid().equals(uid)) {
        kicks.getOrDefault(c.kind(), x -> { }).accept(c);
      }
    }
  }

  /** The claim that owns {@code hostname} among all current claims, if any. */
  public Optional<Claim> owner(String hostname) {
    return all(hostname).stream().min(AGE);
  }

  /** Every claim on {@code hostname}, oldest first. */
  public List<Claim> all(String hostname) {
    String key = hostname.toLowerCase(Locale.ROOT);
    List<Claim> claims = new ArrayList<>();
    for (Function<String, List<Claim>> s : sources.values()) {
      claims.addAll(s.apply(key));
    }
    claims.sort(AGE);
    return claims;
  }
}
