package io.tailops.operator.runtime;

import io.tailops.controlplane.Scopes;
import io.tailops.operator.doctor.Doctor;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The OAuth scopes the control plane refused calls for (403), each with what the operator cannot do without it, until a
 * call that needs the scope succeeds again. Fed by {@link ObservedControlPlane}; shown in the status ConfigMap
 * ({@code missingScopes}), {@code doctor} and the log (once per scope, when it goes missing and when it is back).
 * Each feature keeps working as far as it can without the scope; this is where it says what it cannot do.
 */
public final class MissingScopes {
  private static final Logger LOG = LoggerFactory.getLogger(MissingScopes.class);

  /** A scope the control plane refused a call for: the call and since when. */
  public record Missing(String scope, String call, Instant since) {
  }

  private final Clock clock;
  private final Map<String, Missing> missing = new TreeMap<>();
  private volatile Runnable onChange = () -> { };

  public MissingScopes(Clock clock) {
    this.clock = clock;
  }

  /** Called (outside any lock) whenever a scope goes missing or comes back. */
  public void onChange(Runnable r) {
    this.onChange = r;
  }

  /** A call needing {@code scope} was refused with 403. */
  public void forbidden(String scope, String call) {
    boolean added;
    synchronized (this) {
      added = !missing.containsKey(scope);
      if (added) {
        missing.put(scope, new Missing(scope, call, clock.instant()));
      }
    }
    if (added) {
      LOG.warn("the OAuth client lacks the {} scope ({} was refused): {}; give the OAuth client the scope {}", scope,
          call, affects(scope), Scopes.toGrant(scope));
      onChange.run();
    }
  }

  /** A call needing {@code scope} succeeded: the scope is there (a write scope also proves its read variant). */
  public void granted(String scope) {
    boolean removed;
    synchronized (this) {
      removed = missing.remove(scope) != null;
      removed |= missing.remove(scope + ":read") != null;
    }
    if (removed) {
      LOG.info("the OAuth client has the {} scope now", scope);
      onChange.run();
    }
  }

  public synchronized List<Missing> list() {
    return List.copyOf(missing.values());
  }

  /** What the operator cannot do without {@code scope}. */
  public static String affects(String scope) {
    return switch (scope) {
      case Scopes.AUTH_KEYS -> "no new proxies (and no own device) can be created or re-registered: they need "
          + "auth keys; unused keys cannot be revoked";
      case Scopes.AUTH_KEYS_READ -> "the credential check (listing auth keys) fails";
      case Scopes.DEVICES_CORE -> "devices cannot be deleted: a deleted Service's or Ingress's proxy keeps its "
          + "finalizer until its device is removed, stale devices holding a proxy's name stay, orphaned devices are "
          + "only reported";
      case Scopes.DEVICES_CORE_READ -> "devices cannot be read: the device sweep (orphaned devices, proxies whose "
          + "device was deleted) and self-healing do nothing, doctor cannot check proxies' devices";
      case Scopes.POLICY_FILE_READ -> "optional: doctor and the Funnel preflight cannot read the policy's tagOwners "
          + "and nodeAttrs";
      case Scopes.DEVICES_ROUTES_READ -> "optional: whether a Connector's routes are approved cannot be checked (it is "
          + "ready once its devices are up)";
      case Scopes.DEVICES_ROUTES -> "routes cannot be approved by the operator";
      case Scopes.SERVICES -> "HA Services and HA Ingresses on a ProxyGroup cannot get their Tailscale Service";
      default -> "calls needing it fail";
    };
  }

  /** For the status ConfigMap: "none" or one line per missing scope. */
  public String summary() {
    List<Missing> l = list();
    if (l.isEmpty()) {
      return "none";
    }
    List<String> lines = new ArrayList<>();
    for (Missing m : l) {
      lines.add(m.scope() + " (since " + m.since() + ", " + m.call() + " was refused): " + affects(m.scope())
          + "; give the OAuth client the scope " + Scopes.toGrant(m.scope()));
    }
    return String.join("\n", lines);
  }

  /** The doctor line: a failure for a required scope, a warning when only optional ones (policy, routes) miss. */
  public Optional<Doctor.Check> check() {
    List<Missing> l = list();
    if (l.isEmpty()) {
      return Optional.empty();
    }
    boolean onlyOptional = l.stream().allMatch(m -> m.scope().equals(Scopes.POLICY_FILE_READ)
        || m.scope().equals(Scopes.DEVICES_ROUTES_READ));
    String detail = String.join("; ", l.stream().map(m -> m.scope() + " missing: " + affects(m.scope())).toList());
    String fix = "give the OAuth client the scopes " + String.join(", ", l.stream()
        .map(m -> Scopes.toGrant(m.scope())).distinct().toList()) + " and patch the operator-oauth Secret with it";
    return Optional.of(new Doctor.Check("scopes", onlyOptional ? Doctor.Status.WARN : Doctor.Status.FAIL, detail,
        fix));
  }
}
