package io.tailops.operator.proxy;

import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.TailnetPolicy;
import io.tailops.operator.status.Problem;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Checks, before a Funnel proxy is relied on, that the tailnet policy grants the {@code funnel} node attribute to the
 * proxy's tags (the seed guide's "permission error" case). The policy is read only when the credentials allow it
 * ({@code policy_file:read}); each resource is checked once per set of tags, so resyncs make no API call.
 */
public class FunnelPreflight {
  /** What the tailnet policy says about a resource's Funnel, as far as the operator knows. */
  public enum Verdict {
    /** The policy grants the funnel node attribute to the proxy's tags. */
    GRANTED,
    /** The policy does not grant it: Funnel will be refused. */
    DENIED,
    /** The policy could not be read (no policy_file:read scope, or no policy API): not known. */
    UNKNOWN
  }

  private final Supplier<ControlPlane> controlPlane;
  private final Map<String, List<String>> checked = new ConcurrentHashMap<>();
  private final Map<String, Verdict> verdicts = new ConcurrentHashMap<>();

  public FunnelPreflight(Supplier<ControlPlane> controlPlane) {
    this.controlPlane = controlPlane;
  }

  /**
   * @param uid the resource's UID (each resource is checked once per tag set)
   * @return a Warning to record when the policy can be read and does not grant funnel to {@code tags}
   */
  public Optional<Problem> check(String uid, List<String> tags) {
    if (tags.equals(checked.get(uid))) {
      return Optional.empty();
    }
    checked.put(uid, List.copyOf(tags));
    TailnetPolicy policy;
    try {
      policy = controlPlane.get().readPolicy();
    } catch (ControlPlaneException e) {
      // Cannot read the policy (scope, control plane): the status says it is not known; doctor explains the scope.
      verdicts.put(uid, Verdict.UNKNOWN);
      return Optional.empty();
    }
    if (policy.grantsAttr(tags, "funnel")) {
      verdicts.put(uid, Verdict.GRANTED);
      return Optional.empty();
    }
    verdicts.put(uid, Verdict.DENIED);
    return Optional.of(Problem.warning("FunnelNotPermitted", "the tailnet policy does not grant the \"funnel\" node "
        + "attribute to " + tags + ", so Funnel will be refused with a permission error; add \"nodeAttrs\": "
        + "[{\"target\": [\"" + tags.get(0) + "\"], \"attr\": [\"funnel\"]}] to the policy"));
  }

  /** What the last check of the resource found ({@link Verdict#UNKNOWN} before any). */
  public Verdict verdict(String uid) {
    return verdicts.getOrDefault(uid, Verdict.UNKNOWN);
  }

  /**
   * How a status message words Funnel for a resource that asks for it: public only when the policy is known to allow
   * it.
   *
   * @param url where it is public when it is
   */
  public static String wording(Verdict verdict, String url) {
    return switch (verdict) {
      case GRANTED -> "public through Funnel at " + url;
      case DENIED -> "Funnel requested, but the tailnet policy does not grant the funnel node attribute to the proxy's "
          + "tags, so it is not public (see the FunnelNotPermitted event)";
      case UNKNOWN -> "Funnel requested; the tailnet policy is not readable by the operator, so whether " + url
          + " is public is not known (doctor's funnel check says how to let the operator read it)";
    };
  }

  /** Forgets a resource (deleted or no longer using Funnel). */
  public void forget(String uid) {
    checked.remove(uid);
    verdicts.remove(uid);
  }
}
