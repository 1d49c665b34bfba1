package io.tailops.operator.proxy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The tailscaled config files ({@code ipn.ConfigVAlpha}, version {@code alpha0}) the operator writes into a proxy's
 * Secret: {@code cap-95.hujson} and {@code cap-107.hujson}, byte-identical to the official operator's output (plain
 * compact JSON, fields in Go struct order, unset fields omitted). containerboot picks the highest file whose
 * capability version it understands.
 *
 * @param serverUrl control server URL, or null for Tailscale's
 * @param authKey auth key to log in with, or null once the device exists
 * @param hostname requested hostname
 * @param acceptRoutes ProxyClass {@code spec.tailscale.acceptRoutes}
 * @param advertiseRoutes routes to advertise, in the order to write them (Connectors: subnet or app-connector routes
 *     and the exit node's default routes); empty writes none
 * @param appConnector whether the node acts as an app connector ({@code AppConnector.Advertise}, cap-107 only)
 */
public record TailscaledConfig(String serverUrl, String authKey, String hostname, boolean acceptRoutes,
    List<String> advertiseRoutes, boolean appConnector) {
  public static final String CAP_95 = "cap-95.hujson";
  public static final String CAP_107 = "cap-107.hujson";
  private static final ObjectMapper JSON = new ObjectMapper();

  public TailscaledConfig {
    advertiseRoutes = advertiseRoutes == null ? List.of() : List.copyOf(advertiseRoutes);
  }

  /** The config of a proxy that advertises nothing (Service and Ingress proxies, the operator's own device). */
  public TailscaledConfig(String serverUrl, String authKey, String hostname, boolean acceptRoutes) {
    this(serverUrl, authKey, hostname, acceptRoutes, List.of(), false);
  }

  /** Both config files keyed by their Secret key. */
  public Map<String, String> files() {
    Map<String, String> files = new LinkedHashMap<>();
    files.put(CAP_95, render(false));
    files.put(CAP_107, render(true));
    return files;
  }

  String render(boolean withAppConnector) {
    ObjectNode n = head(serverUrl, authKey, hostname, acceptRoutes);
    if (!advertiseRoutes.isEmpty()) {
      var routes = n.putArray("AdvertiseRoutes");
      advertiseRoutes.forEach(routes::add);
    }
    if (withAppConnector) {
      n.putObject("AppConnector").put("Advertise", appConnector);
    }
    n.put("NoStatefulFiltering", true);
    return n.toString();
  }

  /**
   * The fields every tailscaled config file of the operator starts with, in Go struct order (a proxy's, a ProxyGroup
   * replica's): version, not locked, login server and auth key when set, hostname, no DNS from the tailnet, routes.
   */
  public static ObjectNode head(String serverUrl, String authKey, String hostname, boolean acceptRoutes) {
    ObjectNode n = JSON.createObjectNode();
    n.put("Version", "alpha0");
    n.put("Locked", false);
    if (serverUrl != null && !serverUrl.isEmpty()) {
      n.put("ServerURL", serverUrl);
    }
    if (authKey != null && !authKey.isEmpty()) {
      n.put("AuthKey", authKey);
    }
    n.put("Hostname", hostname);
    n.put("acceptDNS", false);
    n.put("acceptRoutes", acceptRoutes);
    return n;
  }

  /** The {@code AuthKey} of a config file written earlier, or null (used to keep the key until the device exists). */
  public static String authKeyOf(String configJson) {
    if (configJson == null || configJson.isEmpty()) {
      return null;
    }
    try {
      var node = JSON.readTree(configJson);
      var key = node.get("AuthKey");
      return key == null || key.isNull() ? null : key.asText();
    } catch (Exception e) {
      return null;
    }
  }

  /** {@code json} without its {@code AuthKey} (as the operator renders it once the device exists); as is if no JSON. */
  public static String withoutAuthKey(String json) {
    if (json == null || json.isEmpty()) {
      return json;
    }
    try {
      var node = JSON.readTree(json);
      if (node instanceof ObjectNode o && o.has("AuthKey")) {
        o.remove("AuthKey");
        return o.toString();
      }
      return json;
    } catch (Exception e) {
      return json;
    }
  }

  /** The {@code Hostname} of a config file written earlier, or null. */
  public static String hostnameOf(String configJson) {
    if (configJson == null || configJson.isEmpty()) {
      return null;
    }
    try {
      var node = JSON.readTree(configJson);
      var h = node.get("Hostname");
      return h == null || h.isNull() ? null : h.asText();
    } catch (Exception e) {
      return null;
    }
  }
}
