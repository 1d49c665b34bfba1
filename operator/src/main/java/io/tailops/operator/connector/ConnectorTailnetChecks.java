package io.tailops.operator.connector;

import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.DeviceRoutes;
import io.tailops.controlplane.TailnetPolicy;
import io.tailops.operator.config.ConnectorSettings;
import io.tailops.operator.connector.ConnectorStatusProjector.AppConnectorCheck;
import io.tailops.operator.connector.ConnectorStatusProjector.AppConnectorConfigured;
import io.tailops.operator.connector.ConnectorStatusProjector.AppConnectorNotChecked;
import io.tailops.operator.connector.ConnectorStatusProjector.AppConnectorNotConfigured;
import io.tailops.operator.connector.ConnectorStatusProjector.AppConnectorUnsupported;
import io.tailops.operator.connector.ConnectorStatusProjector.Replica;
import io.tailops.operator.connector.ConnectorStatusProjector.RouteCheck;
import io.tailops.operator.connector.ConnectorStatusProjector.RoutesChecked;
import io.tailops.operator.connector.ConnectorStatusProjector.RoutesNotChecked;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Asks the control plane what it thinks of a Connector's devices: their routes (advertised, approved) and, for app
 * connectors, whether the policy defines one for their tags; on headscale with
 * {@link ConnectorSettings#headscaleApproveRoutes()}, approves the routes the Connector asks for.
 *
 * <p>Calls are made only when they can tell something new: when the Connector's routes, tags or devices changed, and,
 * while the last answer was not settled (a route waits for approval, a device has not advertised its routes yet, a
 * call failed), at most once per {@link ConnectorSettings#routeCheckInterval()}. A settled Connector (everything
 * approved, or approval cannot be checked with these credentials) costs no call on later reconciles.
 */
public final class ConnectorTailnetChecks {
  private static final Logger LOG = LoggerFactory.getLogger(ConnectorTailnetChecks.class);

  /** What the control plane said, and whether it was complete (no call failed). */
  public record Result(RouteCheck routes, AppConnectorCheck app) {
  }

  private record Entry(String fingerprint, Result result, Instant checkedAt, boolean settled, boolean failed) {
  }

  private final Supplier<ControlPlane> controlPlane;
  private final ConnectorSettings settings;
  private final Clock clock;
  private final Map<String, Entry> entries = new ConcurrentHashMap<>();

  public ConnectorTailnetChecks(Supplier<ControlPlane> controlPlane, ConnectorSettings settings, Clock clock) {
    this.controlPlane = controlPlane;
    this.settings = settings;
    this.clock = clock;
  }

  /** Whether the operator approves Connector routes itself here (headscale with the setting on). */
  public boolean operatorApproves() {
    return settings.headscaleApproveRoutes() && headscale();
  }

  private boolean headscale() {
    return "headscale".equalsIgnoreCase(controlPlane.get().capabilities().name());
  }

  /**
   * The control plane's view of the Connector's devices (every replica is up).
   *
   * @param uid the Connector's UID
   */
  public Result check(String uid, ConnectorPlan plan, List<Replica> replicas) {
    String fingerprint = plan.routes().advertisedText() + "|" + plan.appConnector() + "|" + plan.tags() + "|"
        + replicas.stream().map(Replica::deviceId).toList();
    Instant now = clock.instant();
    Entry e = entries.get(uid);
    if (e != null && e.fingerprint().equals(fingerprint)
        && (e.settled() || now.isBefore(e.checkedAt().plus(settings.routeCheckInterval())))) {
      return e.result();
    }
    boolean[] failed = {false};
    AppConnectorCheck app = plan.appConnector() ? appConnector(plan, failed)
        : new AppConnectorConfigured(List.of());
    RouteCheck routes = routes(plan, replicas, failed);
    Result result = new Result(routes, app);
    entries.put(uid, new Entry(fingerprint, result, now, false, failed[0]));
    return result;
  }

  /**
   * Records whether the Connector's status settled with the last result (ready, or nothing more to learn), so that
   * later reconciles make no call; returns when to look again otherwise.
   */
  public Duration settle(String uid, boolean settled) {
    Entry e = entries.get(uid);
    if (e == null) {
      return null;
    }
    boolean done = settled && !e.failed();
    entries.put(uid, new Entry(e.fingerprint(), e.result(), e.checkedAt(), done, e.failed()));
    return done ? null : settings.routeCheckInterval();
  }

  public void forget(String uid) {
    entries.remove(uid);
  }

  private AppConnectorCheck appConnector(ConnectorPlan plan, boolean[] failed) {
    ControlPlane cp = controlPlane.get();
    if (!cp.capabilities().appConnectors()) {
      return new AppConnectorUnsupported(cp.capabilities().name());
    }
    if (!cp.capabilities().policyRead()) {
      return new AppConnectorNotChecked(cp.capabilities().name() + " does not let the operator read the policy");
    }
    try {
      List<TailnetPolicy.AppConnector> defined = cp.readPolicy().appConnectorsFor(plan.tags());
      return defined.isEmpty() ? new AppConnectorNotConfigured()
          : new AppConnectorConfigured(defined.stream().map(TailnetPolicy.AppConnector::name).toList());
    } catch (ControlPlaneException ex) {
      if (ex.kind() == ControlPlaneException.Kind.FORBIDDEN) {
        return new AppConnectorNotChecked("the OAuth client may not read the tailnet policy (give it the "
            + "policy_file:read scope)");
      }
      failed[0] = true;
      return new AppConnectorNotChecked("reading the tailnet policy failed: " + ex.userMessage());
    }
  }

  private RouteCheck routes(ConnectorPlan plan, List<Replica> replicas, boolean[] failed) {
    ControlPlane cp = controlPlane.get();
    boolean approve = settings.headscaleApproveRoutes() && "headscale".equalsIgnoreCase(cp.capabilities().name());
    Set<String> wanted = plan.routes().advertised().stream().map(IpPrefix::toString)
        .collect(Collectors.toCollection(java.util.LinkedHashSet::new));
    Map<String, DeviceRoutes> byDevice = new LinkedHashMap<>();
    for (Replica r : replicas) {
      try {
        var routes = cp.getDeviceRoutes(r.deviceId());
        if (routes.isEmpty()) {
          continue; // unknown to the control plane (yet): the projector says so
        }
        DeviceRoutes dr = routes.get();
        if (approve) {
          dr = approveWanted(cp, r.deviceId(), dr, wanted);
        }
        byDevice.put(r.deviceId(), dr);
      } catch (ControlPlaneException ex) {
        if (ex.kind() == ControlPlaneException.Kind.FORBIDDEN) {
          return new RoutesNotChecked("the OAuth client may not read device routes (give it the "
              + "devices:routes:read scope)");
        }
        failed[0] = true;
        return new RoutesNotChecked("reading the routes of device " + r.label() + " failed: " + ex.userMessage());
      }
    }
    return new RoutesChecked(byDevice);
  }

  /** Approves, on top of what is approved, the routes the device advertises that the Connector asks for. */
  private static DeviceRoutes approveWanted(ControlPlane cp, String deviceId, DeviceRoutes dr, Set<String> wanted)
      throws ControlPlaneException {
    Set<String> have = canonical(dr.approved());
    List<String> add = new ArrayList<>();
    for (String r : canonical(dr.advertised())) {
      if (wanted.contains(r) && !have.contains(r)) {
        add.add(r);
      }
    }
    if (add.isEmpty()) {
      return dr;
    }
    List<String> all = new ArrayList<>(dr.approved());
    all.addAll(add);
    LOG.info("approving routes {} of device {} (HEADSCALE_APPROVE_ROUTES=true)", add, deviceId);
    return cp.setApprovedRoutes(deviceId, all);
  }

  private static Set<String> canonical(List<String> routes) {
    return routes.stream().map(ConnectorTailnetChecks::canon)
        .collect(Collectors.toCollection(java.util.LinkedHashSet::new));
  }

  private static String canon(String r) {
    return IpPrefix.parse(r).map(p -> p.masked().toString()).orElse(r);
  }
}
