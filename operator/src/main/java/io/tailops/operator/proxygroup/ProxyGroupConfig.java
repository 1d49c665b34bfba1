package io.tailops.operator.proxygroup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Secret;
import io.tailops.operator.proxy.ProxyConfigSecret;
import io.tailops.operator.proxy.ProxySecrets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The tailscaled config file of a ProxyGroup replica: only {@code cap-106.hujson} ({@code ipn.ConfigVAlpha}, version
 * {@code alpha0}), byte-identical to the official operator's (compact JSON, fields in Go struct order, unset fields
 * omitted): {@code Version}, {@code Locked}, {@code ServerURL}, {@code AuthKey}, {@code Hostname}, {@code acceptDNS},
 * {@code acceptRoutes}, {@code AdvertiseServices}. The Tailscale Services a replica advertises are decided per replica
 * by the HA Ingress and Service reconciles, so the group carries them over from the live config.
 *
 * @param serverUrl control server URL, or null for Tailscale's
 * @param authKey auth key to log in with, or null once the device exists
 * @param hostname requested hostname ({@code <prefix>-<i>})
 * @param acceptRoutes ProxyClass {@code spec.tailscale.acceptRoutes}
 * @param advertiseServices the Tailscale Services ({@code svc:<name>}) the replica advertises
 */
public record ProxyGroupConfig(String serverUrl, String authKey, String hostname, boolean acceptRoutes,
    List<String> advertiseServices) {
  public static final String KEY = ProxySecrets.CAP_106;
  private static final ObjectMapper JSON = new ObjectMapper();

  public ProxyGroupConfig {
    advertiseServices = List.copyOf(advertiseServices);
  }

  /** The config file keyed by its Secret key. */
  public Map<String, String> files() {
    return Map.of(KEY, render());
  }

  String render() {
    ObjectNode n = io.tailops.operator.proxy.TailscaledConfig.head(serverUrl, authKey, hostname, acceptRoutes);
    if (!advertiseServices.isEmpty()) {
      ArrayNode a = n.putArray("AdvertiseServices");
      advertiseServices.forEach(a::add);
    }
    return n.toString();
  }

  /** The Tailscale Services the config in {@code configSecret} advertises (empty when none or no Secret). */
  public static List<String> advertisedServices(Secret configSecret) {
    return advertisedServices(ProxyConfigSecret.value(configSecret, KEY));
  }

  /** The {@code AdvertiseServices} of a config file. */
  public static List<String> advertisedServices(String configJson) {
    List<String> out = new ArrayList<>();
    if (configJson == null || configJson.isEmpty()) {
      return out;
    }
    try {
      JsonNode a = JSON.readTree(configJson).get("AdvertiseServices");
      if (a != null && a.isArray()) {
        a.forEach(v -> out.add(v.asText()));
      }
    } catch (Exception e) {
      return out;
    }
    return out;
  }

  /** {@code configJson} with {@code AdvertiseServices} replaced (removed when empty), the other fields as they are. */
  public static String withAdvertisedServices(String configJson, List<String> services) {
    try {
      ObjectNode n = (ObjectNode) JSON.readTree(configJson);
      ObjectNode out = JSON.createObjectNode();
      boolean placed = false;
      for (var it = n.fields(); it.hasNext(); ) {
        var f = it.next();
        if (f.getKey().equals("AdvertiseServices")) {
          continue;
        }
        if (!placed && isAfterAdvertiseServices(f.getKey())) {
          put(out, services);
          placed = true;
        }
        out.set(f.getKey(), f.getValue());
      }
      if (!placed) {
        put(out, services);
      }
      return out.toString();
    } catch (Exception e) {
      throw new IllegalArgumentException("not a tailscaled config file", e);
    }
  }

  private static void put(ObjectNode out, List<String> services) {
    if (!services.isEmpty()) {
      ArrayNode a = out.putArray("AdvertiseServices");
      services.forEach(a::add);
    }
  }

  /** Fields of ipn.ConfigVAlpha that Go writes after AdvertiseServices. */
  private static boolean isAfterAdvertiseServices(String field) {
    return List.of("AppConnector", "NetfilterMode", "NoStatefulFiltering", "PostureChecking", "RunSSHServer",
        "RunWebClient", "ShieldsUp", "AutoUpdate", "ServeConfigTemp", "StaticEndpoints").contains(field);
  }
}
