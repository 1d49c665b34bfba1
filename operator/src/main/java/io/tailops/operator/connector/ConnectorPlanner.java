package io.tailops.operator.connector;

import io.tailops.api.v1alpha1.Connector;
import io.tailops.api.v1alpha1.ConnectorSpec;
import io.tailops.operator.proxy.Validation;
import io.tailops.operator.status.Problem;
import java.util.ArrayList;
import java.util.List;

/**
 * Decides what a Connector asks for, from its spec alone: the devices' hostnames, tags and routes, or why the Connector
 * is invalid.
 *
 * <p>The checks of the official operator come first, with its wording ({@code Connector is invalid: ...}): nothing to
 * do, an app connector that is also a subnet router or exit node, a hostname with more than one replica, a hostname
 * and a hostname prefix, a subnet router without routes, malformed routes. The API server refuses most of these
 * already (the CRD's CEL rules and formats); they are checked again for Connectors stored under an older or a
 * hand-edited CRD. Then what the official operator lets through and the tailnet would refuse or do silently wrong:
 * half a default route, bad 4via6 routes, hostnames that are no DNS labels (a name with dots, a prefix too long for the
 * replicas' ordinals), malformed tags. Overlapping or repeated routes are warnings, not errors: the Connector works.
 *
 * <p>Hostnames: {@code spec.hostname}, else {@code <name>-connector}; with {@code spec.hostnamePrefix} replica
 * {@code i} asks for {@code <prefix>-<i>}. With more than one replica and neither, the official operator gives every
 * replica the same hostname, so the control plane names their devices {@code x}, {@code x-1}, ...; here replica
 * {@code i} asks for {@code <name>-connector-<i>} (a deliberate difference).
 */
public final class ConnectorPlanner {
  /** Condition reason of an invalid Connector (the official one). */
  public static final String REASON_INVALID = "ConnectorInvalid";
  /** Event reason of a note about a valid Connector's routes. */
  public static final String REASON_ROUTES_NOTE = "ConnectorRoutesWarning";
  private static final String INVALID_PREFIX = "Connector is invalid: ";

  private ConnectorPlanner() {
  }

  /** What the planner found. */
  public sealed interface Result {
  }

  /** The Connector can be served as {@code plan} says. */
  public record Valid(ConnectorPlan plan) implements Result {
  }

  /**
   * The Connector cannot be served as it is; an existing proxy is left as it is.
   *
   * @param errors what is wrong, each a sentence without the {@code Connector is invalid:} prefix
   */
  public record Invalid(List<String> errors) implements Result {
    public Invalid {
      errors = List.copyOf(errors);
    }

    /** The condition message (and the event's), as the official operator words it. */
    public String message() {
      return INVALID_PREFIX + String.join("\n", errors);
    }

    public Problem problem() {
      return Problem.warning(REASON_INVALID, message());
    }
  }

  /**
   * @param defaultTags the operator's proxy tags ({@code PROXY_TAGS}), used when the spec names none
   */
  public static Result plan(Connector connector, List<String> defaultTags) {
    ConnectorSpec spec = connector.getSpec() == null ? new ConnectorSpec() : connector.getSpec();
    String name = connector.getMetadata().getName();
    boolean subnetRouter = spec.getSubnetRouter() != null;
    boolean exitNode = Boolean.TRUE.equals(spec.getExitNode());
    boolean appConnector = spec.getAppConnector() != null;
    int replicas = spec.getReplicas() == null ? 1 : spec.getReplicas();
    String hostname = empty(spec.getHostname()) ? null : spec.getHostname();
    String prefix = empty(spec.getHostnamePrefix()) ? null : spec.getHostnamePrefix();

    List<String> errors = new ArrayList<>();
    if (!subnetRouter && !exitNode && !appConnector) {
      errors.add("invalid spec: a Connector must be configured as at least one of subnet router, exit node or app "
          + "connector");
    }
    if ((subnetRouter || exitNode) && appConnector) {
      errors.add("invalid spec: a Connector that is configured as an app connector must not be also configured as a "
          + "subnet router or exit node");
    }
    if (replicas > 1 && hostname != null) {
      errors.add("invalid spec: a Connector that is configured with multiple replicas cannot specify a hostname. "
          + "Instead, use a hostnamePrefix");
    }
    if (hostname != null && prefix != null) {
      errors.add("invalid spec: a Connector cannot use both a hostname and hostname prefix");
    }
    if (replicas < 0) {
      errors.add("invalid spec: replicas must not be negative, got " + replicas);
    }
    if (!errors.isEmpty()) {
      return new Invalid(errors);
    }

    List<String> specRoutes = List.of();
    if (subnetRouter) {
      specRoutes = spec.getSubnetRouter().getAdvertiseRoutes() == null ? List.of()
          : spec.getSubnetRouter().getAdvertiseRoutes();
      if (specRoutes.isEmpty()) {
        return new Invalid(List.of("invalid subnet router spec: no routes defined"));
      }
    } else if (appConnector && spec.getAppConnector().getRoutes() != null) {
      specRoutes = spec.getAppConnector().getRoutes();
    }
    ConnectorRoutes routes = ConnectorRoutes.of(specRoutes, exitNode);
    errors.addAll(routes.errors());

    List<String> hostnames = new ArrayList<>();
    String base = hostname != null ? hostname : name + "-connector";
    for (int i = 0; i < Math.max(replicas, 0); i++) {
      hostnames.add(prefix != null ? prefix + "-" + i : replicas > 1 ? base + "-" + i : base);
    }
    if (hostname == null && prefix == null) {
      Validation.dnsLabelError(replicas > 1 ? base + "-" + (replicas - 1) : base).ifPresent(e -> errors.add(
          "the hostname derived from the Connector's name is not a valid DNS label (" + e + "): set spec.hostname"
              + (replicas > 1 ? "Prefix" : "")));
    } else if (hostname != null) {
      Validation.dnsLabelError(hostname).ifPresent(e -> errors.add("invalid hostname: " + e));
    } else if (replicas > 0) {
      String last = prefix + "-" + (replicas - 1);
      Validation.dnsLabelError(last).ifPresent(e -> errors.add("hostnamePrefix " + Validation.quote(prefix)
          + " does not give valid hostnames for " + replicas + " replicas: " + e));
    }

    List<String> tags = spec.getTags() == null || spec.getTags().isEmpty() ? defaultTags : spec.getTags();
    for (String t : tags) {
      Validation.tagError(t).ifPresent(e -> errors.add("invalid tag " + Validation.quote(t) + ": " + e));
    }
    if (!errors.isEmpty()) {
      return new Invalid(errors);
    }

    List<Problem> notes = routes.warnings().stream().map(w -> Problem.warning(REASON_ROUTES_NOTE, w)).toList();
    return new Valid(new ConnectorPlan(name, base, prefix != null ? prefix : replicas > 1 ? base : null, hostnames,
        tags, empty(spec.getProxyClass()) ? null
        : spec.getProxyClass(), routes, subnetRouter, exitNode, appConnector, subnetRouter ? String.join(",",
        specRoutes) : "", notes));
  }

  private static boolean empty(String s) {
    return s == null || s.isEmpty();
  }
}
