package io.tailops.operator.connector;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;

/**
 * The routes a Connector's device advertises, worked out from its spec as tailscaled would take them, with what is
 * wrong and what is merely odd about them.
 *
 * <p>Errors (the Connector is invalid): a route that is not an IP prefix, a prefix with host bits set (the official
 * operator's check and wording), {@code 0.0.0.0/0} without {@code ::/0} or the other way round, a 4via6 route that is
 * too short or has a site ID above {@code 0xffff} (what tailscaled refuses; the official operator only finds these
 * while writing the config and reports them as a creation failure). Warnings (the routes are advertised anyway): the
 * same route twice, a route inside another route of the same Connector, both default routes given as subnet routes
 * instead of {@code exitNode: true}.
 *
 * @param advertised what the device advertises: deduplicated and sorted (shorter prefixes first, IPv4 before IPv6),
 *     the exit node's {@code 0.0.0.0/0} and {@code ::/0} included
 * @param errors why the routes cannot be advertised (empty when they can)
 * @param warnings what the user should know about the routes
 */
public record ConnectorRoutes(List<IpPrefix> advertised, List<String> errors, List<String> warnings) {
  public ConnectorRoutes {
    advertised = List.copyOf(advertised);
    errors = List.copyOf(errors);
    warnings = List.copyOf(warnings);
  }

  /**
   * @param routes the routes as written in the spec ({@code subnetRouter.advertiseRoutes} or
   *     {@code appConnector.routes}); may be empty
   * @param exitNode whether the device is an exit node (adds both default routes)
   */
  public static ConnectorRoutes of(List<String> routes, boolean exitNode) {
    List<String> errors = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    List<IpPrefix> given = new ArrayList<>();
    for (String r : routes) {
      var why = IpPrefix.parseError(r);
      if (why.isPresent()) {
        errors.add("route " + r + " is invalid: " + why.get());
        continue;
      }
      IpPrefix p = IpPrefix.parse(r).orElseThrow();
      if (!p.isCanonical()) {
        errors.add("route " + p + " has non-address bits set; expected " + p.masked());
        continue;
      }
      if (p.isVia()) {
        if (p.bits() < 96) {
          errors.add(p + " 4-in-6 prefix must be at least a /96");
          continue;
        }
        if (p.viaSiteId() > 0xffff) {
          errors.add(String.format("route %s contains invalid site ID %08x; must be 0xffff or less", p,
              p.viaSiteId()));
          continue;
        }
      }
      given.add(p);
    }
    boolean default4 = given.contains(IpPrefix.ALL_IPV4);
    boolean default6 = given.contains(IpPrefix.ALL_IPV6);
    if (default4 && !default6) {
      errors.add("0.0.0.0/0 advertised without its IPv6 counterpart, please also advertise ::/0 (or set exitNode: "
          + "true instead)");
    } else if (default6 && !default4) {
      errors.add("::/0 advertised without its IPv4 counterpart, please also advertise 0.0.0.0/0 (or set exitNode: "
          + "true instead)");
    } else if (default4 && !exitNode) {
      warnings.add("routes 0.0.0.0/0 and ::/0 make the Connector an exit node; set exitNode: true instead, so that"
          + " its status says so");
    }
    TreeSet<IpPrefix> unique = new TreeSet<>();
    for (IpPrefix p : given) {
      if (!unique.add(p)) {
        warnings.add("route " + p + " is listed more than once");
      }
    }
    for (IpPrefix inner : unique) {
      if (inner.isDefaultRoute()) {
        continue;
      }
      for (IpPrefix outer : unique) {
        if (!outer.isDefaultRoute() && !outer.equals(inner) && outer.contains(inner)) {
          warnings.add("route " + inner + " lies within route " + outer + " of the same Connector; "
              + inner + " adds nothing");
          break;
        }
      }
    }
    if (exitNode) {
      unique.add(IpPrefix.ALL_IPV4);
      unique.add(IpPrefix.ALL_IPV6);
    }
    return new ConnectorRoutes(new ArrayList<>(unique), errors, warnings);
  }

  /** The advertised routes as strings, in order (what goes into {@code AdvertiseRoutes}). */
  public List<String> advertisedText() {
    return advertised.stream().map(IpPrefix::toString).toList();
  }

  /** The advertised routes without the exit node's default routes. */
  public List<IpPrefix> subnetRoutes() {
    return advertised.stream().filter(p -> !p.isDefaultRoute()).toList();
  }
}
