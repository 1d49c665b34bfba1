package io.tailops.operator.k8s;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Which parents of every proxy kind ask for which tailnet hostname (from the reconcilers' caches), which proxies hold
 * one (their config asks the control plane for it), and who wakes up when a name is let go. One hostname, one owner:
 * when several parents ask for the same name, exactly one gets a proxy; the others get {@code HostnameConflict} instead
 * of a silent {@code -1} device (the control plane suffixes the second device that asks for a taken name).
 *
 * <p><b>The order is total and the same on every reconcile and every replica of the operator</b>: the oldest claim
 * wins (creation timestamp); creation timestamps have one-second resolution, so claims made in the same second (one
 * multi-document {@code kubectl apply}) are ordered by kind, then namespace, then name (alphabetically: the user can
 * predict the winner), then UID. A parent whose name is taken never keeps a proxy (the pipeline removes one that it got
 * before it lost), and the winner waits until no other proxy holds the name, so that its device gets the plain name.
 */
public final class HostnameClaims {

  /** One object asking for a hostname. */
  public record Claim(String kind, String namespace, String name, String uid, Instant created) {
    public String describe() {
      return kind + " " + (namespace == null || namespace.isEmpty() ? name : namespace + "/" + name);
    }
  }

  /**
   * A proxy whose config asks for a hostname: its parent's type ({@code tailscale.com/parent-resource-type}),
   * namespace and name as its labels say.
   */
  public record Holder(String parentType, String namespace, String name, String kind) {
    public String describe() {
      return kind + " " + (namespace == null || namespace.isEmpty() ? name : namespace + "/" + name);
    }
  }

  /** The claim order (see the class comment). */
  public static final Comparator<Claim> ORDER = Comparator.comparing(Claim::created, Comparator.nullsLast(
      Comparator.naturalOrder())).thenComparing(Claim::kind).thenComparing(Claim::namespace,
      Comparator.nullsFirst(Comparator.naturalOrder())).thenComparing(Claim::name)
      .thenComparing(Claim::uid, Comparator.nullsLast(Comparator.naturalOrder()));

  private final Map<String, Function<String, List<Claim>>> sources = new ConcurrentHashMap<>();
  private final Map<String, Function<String, List<Holder>>> holders = new ConcurrentHashMap<>();
  private final Map<String, Consumer<Claim>> kicks = new ConcurrentHashMap<>();
  /** The hostnames each parent (by UID) claimed at its last reconcile, to tell when it lets one go. */
  private final Map<String, Set<String>> lastClaimed = new ConcurrentHashMap<>();

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

  /** Registers where a kind's proxies are found by the hostname their config asks for (lower case). */
  public void registerHolders(String kind, Function<String, List<Holder>> source) {
    holders.put(kind, source);
  }

  /** Reconciles soon every claimant of {@code hostname} other than {@code uid}: the name was freed. */
  public void freed(String hostname, String uid) {
    for (Claim c : all(hostname)) {
      if (!c.uid().equals(uid)) {
        kicks.getOrDefault(c.kind(), x -> { }).accept(c);
      }
    }
  }

  /** Reconciles soon every claimant of {@code hostname}: a proxy that held it let it go. */
  public void released(String hostname) {
    freed(hostname, "");
  }

  /**
   * Records the hostnames a parent claims now and wakes the other claimants of every name it started or stopped
   * claiming: of a name it let go (a changed annotation, a parent that no longer wants a proxy or is gone), they may
   * get it now; of a name it asks for anew, one of them may have lost it and must give up its proxy.
   */
  public void claiming(String uid, Set<String> hostnames) {
    Set<String> now = new HashSet<>();
    hostnames.forEach(h -> now.add(h.toLowerCase(Locale.ROOT)));
    Set<String> before = now.isEmpty() ? lastClaimed.remove(uid) : lastClaimed.put(uid, now);
    Set<String> changed = new HashSet<>(now);
    if (before != null) {
      changed.removeAll(before);
      for (String h : before) {
        if (!now.contains(h)) {
          changed.add(h);
        }
      }
    }
    for (String h : changed) {
      freed(h, uid);
    }
  }

  /** The claim that owns {@code hostname} among all current claims, if any. */
  public Optional<Claim> owner(String hostname) {
    return all(hostname).stream().findFirst();
  }

  /** Every claim on {@code hostname}, in claim order (the owner first). */
  public List<Claim> all(String hostname) {
    String key = hostname.toLowerCase(Locale.ROOT);
    List<Claim> claims = new ArrayList<>();
    for (Function<String, List<Claim>> s : sources.values()) {
      claims.addAll(s.apply(key));
    }
    claims.sort(ORDER);
    return claims;
  }

  /** Every proxy whose config asks for {@code hostname}. */
  public List<Holder> holders(String hostname) {
    String key = hostname.toLowerCase(Locale.ROOT);
    List<Holder> out = new ArrayList<>();
    for (Function<String, List<Holder>> s : holders.values()) {
      out.addAll(s.apply(key));
    }
    return out;
  }
}
