package io.tailops.controlplane;

import java.util.ArrayList;
import java.util.List;

/**
 * The subnet routes of a device: what it advertises and what the tailnet has approved for it. A route carries traffic
 * only when it is both. Exit nodes advertise {@code 0.0.0.0/0} and {@code ::/0}.
 *
 * <p>Tailscale API v2: {@code GET /api/v2/device/{id}/routes} answers {@code {"advertisedRoutes":[...],
 * "enabledRoutes":[...]}}. headscale: a node's {@code availableRoutes} and {@code approvedRoutes}.
 *
 * @param advertised the routes the device advertises (announces) now
 * @param approved the routes the tailnet has approved (enabled) for it; may include routes it does not advertise
 */
public record DeviceRoutes(List<String> advertised, List<String> approved) {
  public DeviceRoutes {
    advertised = advertised == null ? List.of() : List.copyOf(advertised);
    approved = approved == null ? List.of() : List.copyOf(approved);
  }

  /** Advertised routes that are not approved, in the order advertised. */
  public List<String> unapproved() {
    List<String> out = new ArrayList<>();
    for (String r : advertised) {
      if (!approved.contains(r)) {
        out.add(r);
      }
    }
    return out;
  }
}
