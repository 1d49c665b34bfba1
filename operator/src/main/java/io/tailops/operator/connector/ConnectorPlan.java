package io.tailops.operator.connector;

import io.tailops.operator.proxy.TailscaledConfig;
import io.tailops.operator.status.Problem;
import java.util.List;

/**
 * What a valid Connector asks for, decided from its spec alone ({@link ConnectorPlanner}).
 *
 * @param name the Connector's name
 * @param hostname the hostname of a single replica (the base of the numbered hostnames otherwise)
 * @param hostnamePrefix when set, replica {@code i} asks for {@code <prefix>-<i>}: {@code spec.hostnamePrefix}, or,
 *     with more than one replica and no prefix, {@code <name>-connector}
 * @param hostnames the hostname each replica asks for, by ordinal (as many as {@code replicas})
 * @param tags the tags of the devices' auth keys
 * @param proxyClassName the ProxyClass named in the spec, or null
 * @param routes the routes the devices advertise
 * @param subnetRouter whether the Connector is a subnet router ({@code spec.subnetRouter})
 * @param exitNode whether it is an exit node
 * @param appConnector whether it is an app connector
 * @param specRoutes the subnet routes as written in the spec, joined with commas (the official
 *     {@code status.subnetRoutes}); empty when it is no subnet router
 * @param notes what the user should know although the Connector is valid (warnings about its routes)
 */
public record ConnectorPlan(String name, String hostname, String hostnamePrefix, List<String> hostnames, List<String> tags, String proxyClassName,
    ConnectorRoutes routes, boolean subnetRouter, boolean exitNode, boolean appConnector, String specRoutes,
    List<Problem> notes) {
  /** {@code TS_INTERNAL_APP} of a Connector's proxy. */
  public static final String INTERNAL_APP = "k8s-operator-connector-resource";
  /** Value of the {@code tailscale.com/parent-resource-type} label on a Connector's proxy objects. */
  public static final String PARENT_TYPE = "connector";

  public ConnectorPlan {
    hostnames = List.copyOf(hostnames);
    tags = List.copyOf(tags);
    notes = List.copyOf(notes);
  }

  public int replicas() {
    return hostnames.size();
  }

  /**
   * The tailscaled config of replica {@code ordinal}.
   *
   * @param serverUrl the login server, or null for Tailscale's
   * @param authKey the auth key to keep in the config, or null
   * @param acceptRoutes the ProxyClass's {@code spec.tailscale.acceptRoutes}
   */
  public TailscaledConfig tailscaledConfig(int ordinal, String serverUrl, String authKey, boolean acceptRoutes) {
    return new TailscaledConfig(serverUrl, authKey, hostnames.get(ordinal), acceptRoutes, routes.advertisedText(),
        appConnector);
  }

  /** What the Connector does, for messages: "subnet router for 10.0.0.0/8 and exit node". */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    List<String> subnet = routes.subnetRoutes().stream().map(IpPrefix::toString).toList();
    if (appConnector) {
      sb.append("app connector");
      if (!subnet.isEmpty()) {
        sb.append(" with routes ").append(String.join(", ", subnet));
      }
      return sb.toString();
    }
    if (!subnet.isEmpty()) {
      sb.append("subnet router for ").append(String.join(", ", subnet));
    }
    if (exitNode) {
      sb.append(sb.length() == 0 ? "" : " and ").append("exit node");
    }
    return sb.toString();
  }
}
