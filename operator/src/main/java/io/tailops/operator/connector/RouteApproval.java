package io.tailops.operator.connector;

import io.tailops.controlplane.DeviceRoutes;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Whether a device's routes carry traffic: the tailnet must approve what the device advertises (by hand, by the
 * policy's {@code autoApprovers}, or, on headscale, by the operator when it is set to). Compares what the Connector
 * wants advertised, what the device advertises and what is approved, and says what to add to the policy.
 *
 * @param notYetAdvertised routes the Connector wants that the device does not advertise yet (its proxy has not applied
 *     the config)
 * @param unapprovedRoutes advertised subnet routes (app connector routes included) the tailnet has not approved
 * @param exitNodeUnapproved whether the device advertises the exit node's default routes without approval
 */
public record RouteApproval(List<String> notYetAdvertised, List<String> unapprovedRoutes,
    boolean exitNodeUnapproved) {
  public RouteApproval {
    notYetAdvertised = List.copyOf(notYetAdvertised);
    unapprovedRoutes = List.copyOf(unapprovedRoutes);
  }

  /**
   * @param wanted the routes the Connector's config advertises
   * @param device what the control plane says about the device
   */
  public static RouteApproval of(List<IpPrefix> wanted, DeviceRoutes device) {
    Set<String> advertised = canonical(device.advertised());
    Set<String> approved = canonical(device.approved());
    List<String> missing = new ArrayList<>();
    for (IpPrefix p : wanted) {
      if (!advertised.contains(p.toString())) {
        missing.add(p.toString());
      }
    }
    TreeSet<IpPrefix> unapproved = new TreeSet<>();
    List<String> unparsed = new ArrayList<>();
    boolean exit = false;
    for (String r : advertised) {
      if (approved.contains(r)) {
        continue;
      }
      var p = IpPrefix.parse(r);
      if (p.isEmpty()) {
        unparsed.add(r);
      } else if (p.get().isDefaultRoute()) {
        exit = true;
      } else {
        unapproved.add(p.get());
      }
    }
    List<String> routes = new ArrayList<>(unapproved.stream().map(IpPrefix::toString).toList());
    routes.addAll(unparsed);
    return new RouteApproval(missing, routes, exit);
  }

  /** Whether everything the device advertises is approved (and it advertises all that is wanted). */
  public boolean complete() {
    return notYetAdvertised.isEmpty() && unapprovedRoutes.isEmpty() && !exitNodeUnapproved;
  }

  /** Whether something advertised waits for approval. */
  public boolean pending() {
    return !unapprovedRoutes.isEmpty() || exitNodeUnapproved;
  }

  /**
   * The policy snippet that approves {@code routes} (and the exit node) for devices with {@code tags}, e.g.
   * {@code "autoApprovers": {"routes": {"10.0.0.0/8": ["tag:k8s"]}, "exitNode": ["tag:k8s"]}}.
   */
  public static String autoApproversSnippet(List<String> routes, boolean exitNode, List<String> tags) {
    String owners = "[" + String.join(", ", tags.stream().map(t -> "\"" + t + "\"").toList()) + "]";
    List<String> parts = new ArrayList<>();
    if (!routes.isEmpty()) {
      parts.add("\"routes\": {" + String.join(", ", routes.stream().map(r -> "\"" + r + "\": " + owners).toList())
          + "}");
    }
    if (exitNode) {
      parts.add("\"exitNode\": " + owners);
    }
    return "\"autoApprovers\": {" + String.join(", ", parts) + "}";
  }

  private static Set<String> canonical(List<String> routes) {
    Set<String> out = new LinkedHashSet<>();
    for (String r : routes) {
      out.add(IpPrefix.parse(r).map(p -> p.masked().toString()).orElse(r));
    }
    return out;
  }
}
