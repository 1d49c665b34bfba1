package io.tailops.operator.connector;

import io.tailops.api.v1alpha1.ConnectorDevice;
import io.tailops.api.v1alpha1.ConnectorStatus;
import io.tailops.controlplane.DeviceRoutes;
import io.tailops.operator.status.Conditions;
import io.tailops.operator.status.Problem;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a Connector's status says, from its plan, what its proxy's replicas report (their state Secrets) and what the
 * control plane says about their routes and the policy. Pure: no API calls.
 *
 * <p>The status fields are the official ones ({@code subnetRoutes}, {@code isExitNode}, {@code isAppConnector},
 * {@code devices}, {@code hostname}, {@code tailnetIPs}). The {@code ConnectorReady} condition differs on purpose
 * (the official operator sets it True as soon as the proxy's objects exist): it is True when every replica's device
 * is up and does what the Connector asks, else False with the reason and what to do:
 * <ul>
 *   <li>{@code ConnectorCreating}: devices not logged in yet, or routes not advertised yet;
 *   <li>{@code RoutesNotApproved} / {@code ExitNodeNotApproved}: the device advertises routes the tailnet has not
 *       approved, so they carry no traffic; the message names them and the {@code autoApprovers} entry to add;
 *   <li>{@code AppConnectorNotConfigured}: no app connector definition in the policy names the device's tags, so it
 *       serves no domain; {@code AppConnectorNotSupported}: the control plane (headscale) has no app connectors;
 *   <li>{@code ConnectorScaledToZero}: {@code replicas: 0}, no device runs.
 * </ul>
 * When approval cannot be checked (the OAuth client may not read routes or the policy), the Connector is ready and the
 * message says what was not checked and why.
 */
public final class ConnectorStatusProjector {
  public static final String CONDITION = "ConnectorReady";
  public static final String REASON_READY = "ConnectorCreated";
  public static final String REASON_CREATING = "ConnectorCreating";
  public static final String REASON_FAILED = "ConnectorCreationFailed";
  public static final String REASON_ROUTES_NOT_APPROVED = "RoutesNotApproved";
  public static final String REASON_EXIT_NODE_NOT_APPROVED = "ExitNodeNotApproved";
  public static final String REASON_APP_CONNECTOR_NOT_CONFIGURED = "AppConnectorNotConfigured";
  public static final String REASON_APP_CONNECTOR_NOT_SUPPORTED = "AppConnectorNotSupported";
  public static final String REASON_SCALED_TO_ZERO = "ConnectorScaledToZero";
  /** The operator setting that lets it approve its Connectors' routes on headscale. */
  public static final String APPROVE_ROUTES_SETTING = "HEADSCALE_APPROVE_ROUTES";

  private ConnectorStatusProjector() {
  }

  /**
   * What one replica's state Secret reports.
   *
   * @param deviceId the device's stable ID ({@code device_id}), or null before it logged in
   * @param dnsName its MagicDNS name without the trailing dot ({@code device_fqdn}), or null
   * @param tailnetIps its tailnet addresses ({@code device_ips})
   */
  public record Replica(int ordinal, String deviceId, String dnsName, List<String> tailnetIps) {
    public Replica {
      tailnetIps = tailnetIps == null ? List.of() : List.copyOf(tailnetIps);
    }

    boolean up() {
      return deviceId != null && !deviceId.isEmpty() && dnsName != null && !dnsName.isEmpty()
          && !tailnetIps.isEmpty();
    }

    String label() {
      int dot = dnsName == null ? -1 : dnsName.indexOf('.');
      return dot < 0 ? (dnsName == null || dnsName.isEmpty() ? "replica " + ordinal : dnsName)
          : dnsName.substring(0, dot);
    }
  }

  /** What the control plane said about the devices' routes. */
  public sealed interface RouteCheck {
  }

  /** The routes of each device, by device ID (a device missing here is unknown to the control plane). */
  public record RoutesChecked(Map<String, DeviceRoutes> byDevice) implements RouteCheck {
    public RoutesChecked {
      byDevice = Map.copyOf(byDevice);
    }
  }

  /** The routes could not be read, e.g. the OAuth client lacks the {@code devices:routes:read} scope. */
  public record RoutesNotChecked(String why) implements RouteCheck {
  }

  /** What the policy says about an app connector. */
  public sealed interface AppConnectorCheck {
  }

  /** Definitions in the policy name the device's tags (by name). */
  public record AppConnectorConfigured(List<String> names) implements AppConnectorCheck {
  }

  /** No definition names the device's tags. */
  public record AppConnectorNotConfigured() implements AppConnectorCheck {
  }

  /** The policy could not be read (why). */
  public record AppConnectorNotChecked(String why) implements AppConnectorCheck {
  }

  /** The control plane has no app connectors (its name). */
  public record AppConnectorUnsupported(String controlPlane) implements AppConnectorCheck {
  }

  /**
   * Who approves routes.
   *
   * @param controlPlane {@code Tailscale} or {@code headscale}
   * @param operatorApproves whether the operator approves its Connectors' routes itself (headscale, with
   *     {@link #APPROVE_ROUTES_SETTING})
   */
  public record Approval(String controlPlane, boolean operatorApproves) {
    boolean headscale() {
      return "headscale".equalsIgnoreCase(controlPlane);
    }
  }

  /** The {@code ConnectorReady} condition to set. */
  public record Verdict(boolean ready, String reason, String message) {
    /** The event recorded when the condition changes to this verdict. */
    public Problem event() {
      return ready ? Problem.normal("ConnectorReady", message) : Problem.warning(reason, message);
    }
  }

  /**
   * The verdict for a valid Connector whose proxy is provisioned.
   *
   * @param replicas what each replica reports, by ordinal (one per desired replica)
   * @param routes the control plane's view of the devices' routes (ignored until every device is up)
   * @param app the policy's app connector definitions (only for app connectors)
   */
  public static Verdict verdict(ConnectorPlan plan, List<Replica> replicas, RouteCheck routes, AppConnectorCheck app,
      Approval approval) {
    if (plan.replicas() == 0) {
      return new Verdict(false, REASON_SCALED_TO_ZERO, "replicas is 0: no device runs, so the Connector ("
          + plan.describe() + ") serves nothing; set replicas to 1 or more");
    }
    List<String> waiting = new ArrayList<>();
    for (Replica r : replicas) {
      if (!r.up()) {
        waiting.add(plan.hostnames().get(Math.min(r.ordinal(), plan.replicas() - 1)));
      }
    }
    if (replicas.size() < plan.replicas()) {
      for (int i = replicas.size(); i < plan.replicas(); i++) {
        waiting.add(plan.hostnames().get(i));
      }
    }
    if (!waiting.isEmpty()) {
      return new Verdict(false, REASON_CREATING, "waiting for " + (waiting.size() == 1 ? "device " : "devices ")
          + String.join(", ", waiting) + " to log in to the tailnet (" + (plan.replicas() - waiting.size()) + " of "
          + plan.replicas() + " up)");
    }
    List<String> notes = new ArrayList<>();
    if (plan.appConnector()) {
      if (app instanceof AppConnectorUnsupported u) {
        return new Verdict(false, REASON_APP_CONNECTOR_NOT_SUPPORTED, u.controlPlane() + " does not implement app "
            + "connectors: the device advertises itself as one but no domain is routed through it; use a subnet "
            + "router with the applications' routes instead");
      }
      if (app instanceof AppConnectorNotConfigured) {
        return new Verdict(false, REASON_APP_CONNECTOR_NOT_CONFIGURED, "no app connector in the tailnet policy "
            + "names the device's tags " + plan.tags() + ", so no domain is routed through it: add to the policy "
            + "\"nodeAttrs\": [{\"target\": [\"*\"], \"app\": {\"tailscale.com/app-connectors\": [{\"name\": \""
            + plan.name() + "\", \"connectors\": [\"" + plan.tags().get(0) + "\"], \"domains\": "
            + "[\"example.com\"]}]}}] with your domains");
      }
      if (app instanceof AppConnectorNotChecked c) {
        notes.add("whether the tailnet policy defines an app connector for " + plan.tags() + " was not checked: "
            + c.why());
      }
    }
    if (!plan.routes().advertised().isEmpty() || plan.appConnector()) {
      if (routes instanceof RoutesNotChecked n) {
        notes.add("whether the tailnet approved its routes was not checked: " + n.why());
      } else if (routes instanceof RoutesChecked c) {
        Verdict v = approvalVerdict(plan, replicas, c, approval);
        if (v != null) {
          return v;
        }
        if (!plan.routes().advertised().isEmpty()) {
          notes.add(approval.operatorApproves() ? "routes approved (the operator approves its Connectors' routes: "
              + APPROVE_ROUTES_SETTING + "=true)" : approval.headscale() ? "routes approved in headscale (the "
              + "operator does not approve routes itself: " + APPROVE_ROUTES_SETTING + " is off)"
              : "routes approved in the tailnet");
        }
      }
    }
    StringBuilder msg = new StringBuilder("Connector is ready: ").append(plan.describe()).append("; ")
        .append(replicas.size() == 1 ? "device " : "devices ");
    List<String> devices = new ArrayList<>();
    for (Replica r : replicas) {
      devices.add(r.dnsName() + " (" + String.join(", ", r.tailnetIps()) + ")");
    }
    msg.append(String.join(", ", devices));
    for (String n : notes) {
      msg.append("; ").append(n);
    }
    return new Verdict(true, REASON_READY, msg.toString());
  }

  private static Verdict approvalVerdict(ConnectorPlan plan, List<Replica> replicas, RoutesChecked check,
      Approval approval) {
    Set<String> notAdvertised = new LinkedHashSet<>();
    Set<String> unapproved = new LinkedHashSet<>();
    boolean exit = false;
    List<String> waitingDevices = new ArrayList<>();
    List<String> pendingDevices = new ArrayList<>();
    List<String> pendingIds = new ArrayList<>();
    List<String> unknown = new ArrayList<>();
    for (Replica r : replicas) {
      DeviceRoutes dr = check.byDevice().get(r.deviceId());
      if (dr == null) {
        unknown.add(r.label());
        continue;
      }
      RouteApproval a = RouteApproval.of(plan.routes().advertised(), dr);
      if (!a.notYetAdvertised().isEmpty()) {
        notAdvertised.addAll(a.notYetAdvertised());
        waitingDevices.add(r.label());
      }
      if (a.pending()) {
        unapproved.addAll(a.unapprovedRoutes());
        exit |= a.exitNodeUnapproved();
        pendingDevices.add(r.label() + (approval.headscale() ? " (node " + r.deviceId() + ")" : ""));
        pendingIds.add(r.deviceId());
      }
    }
    if (!unknown.isEmpty()) {
      return new Verdict(false, REASON_CREATING, "the control plane does not know " + (unknown.size() == 1
          ? "device " : "devices ") + String.join(", ", unknown) + " yet");
    }
    if (!unapproved.isEmpty() || exit) {
      List<String> routes = new ArrayList<>(unapproved);
      String what = (routes.isEmpty() ? "" : (routes.size() == 1 ? "route " : "routes ") + String.join(", ", routes))
          + (exit ? (routes.isEmpty() ? "" : " and ") + "the exit node (0.0.0.0/0, ::/0)" : "");
      boolean one = routes.size() + (exit ? 1 : 0) == 1;
      String them = one ? "it" : "them";
      StringBuilder m = new StringBuilder();
      m.append(pendingDevices.size() == 1 ? "device " : "devices ").append(String.join(", ", pendingDevices))
          .append(pendingDevices.size() == 1 ? " advertises " : " advertise ").append(what)
          .append(" but the tailnet has not approved ").append(them)
          .append(", so ").append(one ? "it carries" : "they carry")
          .append(" no traffic: ");
      String snippet = RouteApproval.autoApproversSnippet(routes, exit, plan.tags());
      if (approval.headscale()) {
        if (approval.operatorApproves()) {
          m.append("the operator approves ").append(them).append(" (").append(APPROVE_ROUTES_SETTING).append("=true); if this stays, "
              + "check the operator's log, or add to the headscale policy ").append(snippet);
        } else {
          List<String> all = new ArrayList<>(routes);
          if (exit) {
            all.add("0.0.0.0/0");
            all.add("::/0");
          }
          m.append("approve ").append(them).append(" with headscale nodes approve-routes --identifier ")
              .append(pendingIds.size() == 1 ? pendingIds.get(0) : "<node>").append(" --routes ")
              .append(String.join(",", all)).append(", let the operator approve its Connectors' routes (")
              .append(APPROVE_ROUTES_SETTING).append("=true, chart value headscale.approveRoutes), or add to the "
                  + "headscale policy ").append(snippet);
        }
      } else {
        m.append("approve ").append(them).append(" in the admin console (Machines, the device, Edit route settings) or add to the tailnet "
            + "policy ").append(snippet);
      }
      return new Verdict(false, routes.isEmpty() ? REASON_EXIT_NODE_NOT_APPROVED : REASON_ROUTES_NOT_APPROVED,
          m.toString());
    }
    if (!notAdvertised.isEmpty()) {
      return new Verdict(false, REASON_CREATING, "waiting for " + (waitingDevices.size() == 1 ? "device " : "devices ")
          + String.join(", ", waitingDevices) + " to advertise " + String.join(", ", notAdvertised)
          + " (the proxy applies its new config)");
    }
    return null;
  }

  /**
   * {@code current} with the official status fields for {@code plan} and its replicas, and the condition set to
   * {@code verdict}.
   *
   * @param generation the Connector's {@code metadata.generation} (the condition's {@code observedGeneration})
   */
  public static ConnectorStatus status(ConnectorStatus current, ConnectorPlan plan, List<Replica> replicas,
      Verdict verdict, Long generation, Clock clock) {
    ConnectorStatus s = copy(current);
    s.setSubnetRoutes(plan.specRoutes());
    s.setIsExitNode(plan.exitNode());
    s.setIsAppConnector(plan.appConnector());
    List<ConnectorDevice> devices = new ArrayList<>();
    for (Replica r : replicas) {
      if (r.deviceId() != null && !r.deviceId().isEmpty()) {
        devices.add(new ConnectorDevice(r.dnsName() == null ? "" : r.dnsName(), r.tailnetIps().isEmpty() ? null
            : r.tailnetIps()));
      }
    }
    s.setDevices(devices);
    s.setHostname(devices.isEmpty() ? null : emptyToNull(devices.get(0).getHostname()));
    s.setTailnetIPs(devices.isEmpty() ? null : devices.get(0).getTailnetIPs());
    s.setConditions(Conditions.set(s.getConditions(), CONDITION, verdict.ready(), verdict.reason(), verdict.message(),
        generation, clock));
    return s;
  }

  /**
   * {@code current} with only the condition changed (an invalid Connector, or a failure: what the devices did before
   * stays in the status, as upstream).
   */
  public static ConnectorStatus condition(ConnectorStatus current, Verdict verdict, Long generation, Clock clock) {
    ConnectorStatus s = copy(current);
    s.setConditions(Conditions.set(s.getConditions(), CONDITION, verdict.ready(), verdict.reason(), verdict.message(),
        generation, clock));
    return s;
  }

  private static ConnectorStatus copy(ConnectorStatus c) {
    ConnectorStatus s = new ConnectorStatus();
    if (c != null) {
      s.setConditions(new ArrayList<>(c.getConditions()));
      s.setSubnetRoutes(c.getSubnetRoutes());
      s.setIsExitNode(c.getIsExitNode());
      s.setIsAppConnector(c.getIsAppConnector());
      s.setDevices(c.getDevices() == null ? null : new ArrayList<>(c.getDevices()));
      s.setHostname(c.getHostname());
      s.setTailnetIPs(c.getTailnetIPs());
    }
    return s;
  }

  private static String emptyToNull(String s) {
    return s == null || s.isEmpty() ? null : s;
  }
}
