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
  private final Supplier<ControlPlane> controlPlane;
  private final Map<String, List<String>> checked = new ConcurrentHashMap<>();

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
      return Optional.empty(); // cannot read the policy (scope, control plane): doctor explains how to enable this
    }
    if (policy.grantsAttr(tags, "funnel")) {
      return Optional.empty();
    }
    return Optional.of(Problem.warning("FunnelNotPermitted", "the tailnet policy does not grant the \"funnel\" node "
        + "attribute to " + tags + ", so Funnel will be refused with a permission error; add \"nodeAttrs\": "
        + "[{\"target\": [\"" + tags.get(0) + "\"], \"attr\": [\"funnel\"]}] to the policy"));
  }

  /** Forgets a resource (deleted or no longer using Funnel). */
  public void forget(String uid) {
    checked.remove(uid);
  }
}
