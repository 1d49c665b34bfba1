package io.tailops.operator.proxygroup;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Secret;
import io.tailops.operator.proxy.ProxyConfigSecret;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The config file of a kube-apiserver ProxyGroup replica, read by the {@code k8s-proxy} binary from key
 * {@code config.hujson} of the config Secret {@code <pg>-<i>-config} (official {@code kube/k8s-proxy/conf},
 * {@code VersionedConfig} with version {@code v1alpha1} flattened): compact JSON in the Go struct's field order, unset
 * fields omitted, so that the bytes are the official operator's: {@code Version}, {@code AuthKey}, {@code State}
 * ({@code kube:<pod>}), {@code LogLevel}, {@code App}, {@code ServerURL}, {@code LocalPort} (9002),
 * {@code MetricsEnabled}, {@code HealthCheckEnabled}, {@code Hostname}, {@code AcceptRoutes},
 * {@code AdvertiseServices}, {@code APIServerProxy} ({@code Enabled}, {@code Mode}, {@code ServiceName},
 * {@code IssueCerts}: replica 0 issues the certificate). {@code AdvertiseServices} and {@code ServiceName} are set by the
 * Tailscale Service's reconcile ({@code KubeApiServerController}) and carried over from the live file.
 *
 * @param authKey the auth key, or null once the device exists
 * @param pod the replica's pod (its state Secret)
 * @param logLevel {@code info} or {@code debug}, as the operator logs
 * @param serverUrl the control server, or null for Tailscale's
 * @param metrics ProxyClass {@code spec.metrics.enable}, or null when the class says nothing
 * @param hostname {@code <hostnamePrefix or pg>-<i>}
 * @param acceptRoutes ProxyClass {@code spec.tailscale.acceptRoutes}, or null when the class has no {@code tailscale}
 * @param advertiseServices the Tailscale Services advertised (carried over)
 * @param mode {@code auth} or {@code noauth}
 * @param serviceName {@code svc:<hostname>} once the reconcile of the Tailscale Service set it (carried over), or null
 * @param issueCerts whether this replica issues the Tailscale Service's certificate (replica 0)
 */
public record K8sProxyConfig(String authKey, String pod, String logLevel, String serverUrl, Boolean metrics,
    String hostname, Boolean acceptRoutes, List<String> advertiseServices, String mode, String serviceName,
    boolean issueCerts) {
  /** The key of the config file in the config Secret (official {@code kubetypes.KubeAPIServerConfigFile}). */
  public static final String KEY = "config.hujson";
  /** {@code App} of the file (official {@code kubetypes.AppProxyGroupKubeAPIServer}). */
  public static final String APP = "k8s-operator-proxygroup-kube-apiserver";
  static final int LOCAL_PORT = 9002;
  private static final ObjectMapper JSON = new ObjectMapper();

  public K8sProxyConfig {
    advertiseServices = advertiseServices == null ? List.of() : List.copyOf(advertiseServices);
  }

  /** The config file keyed by its Secret key. */
  public Map<String, String> files() {
    return Map.of(KEY, render());
  }

  public String render() {
    ObjectNode n = JSON.createObjectNode();
    n.put("Version", "v1alpha1");
    if (authKey != null && !authKey.isEmpty()) {
      n.put("AuthKey", authKey);
    }
    n.put("State", "kube:" + pod);
    n.put("LogLevel", logLevel);
    n.put("App", APP);
    if (serverUrl != null && !serverUrl.isEmpty()) {
      n.put("ServerURL", serverUrl);
    }
    n.put("LocalPort", LOCAL_PORT);
    if (metrics != null) {
      n.put("MetricsEnabled", metrics);
    }
    n.put("HealthCheckEnabled", true);
    n.put("Hostname", hostname);
    if (acceptRoutes != null) {
      n.put("AcceptRoutes", acceptRoutes);
    }
    if (!advertiseServices.isEmpty()) {
      ArrayNode a = n.putArray("AdvertiseServices");
      advertiseServices.forEach(a::add);
    }
    ObjectNode p = n.putObject("APIServerProxy");
    p.put("Enabled", true);
    p.put("Mode", mode);
    if (serviceName != null && !serviceName.isEmpty()) {
      p.put("ServiceName", serviceName);
    }
    p.put("IssueCerts", issueCerts);
    return n.toString();
  }

  /** The file of a config Secret, parsed; null when there is none or it is not JSON. */
  static JsonNode parse(Secret configSecret) {
    return parse(ProxyConfigSecret.value(configSecret, KEY));
  }

  static JsonNode parse(String json) {
    if (json == null || json.isEmpty()) {
      return null;
    }
    try {
      JsonNode n = JSON.readTree(json);
      return n != null && n.isObject() ? n : null;
    } catch (Exception e) {
      return null;
    }
  }

  /** {@code AdvertiseServices} of a live file (empty when none). */
  public static List<String> advertisedServices(String json) {
    List<String> out = new ArrayList<>();
    JsonNode n = parse(json);
    if (n != null) {
      n.path("AdvertiseServices").forEach(v -> out.add(v.asText()));
    }
    return out;
  }

  /** {@code APIServerProxy.ServiceName} of a live file, or null. */
  public static String serviceName(String json) {
    JsonNode n = parse(json);
    if (n == null) {
      return null;
    }
    JsonNode s = n.path("APIServerProxy").get("ServiceName");
    return s == null || s.isNull() || s.asText().isEmpty() ? null : s.asText();
  }

  /**
   * A live file with {@code APIServerProxy.ServiceName} and {@code AdvertiseServices} set (the service list removed
   * when empty), everything else as it is, fields in Go order; unchanged when it is not JSON.
   */
  public static String withService(String json, String serviceName, List<String> advertise) {
    JsonNode parsed = parse(json);
    if (parsed == null) {
      return json;
    }
    ObjectNode in = (ObjectNode) parsed;
    ObjectNode out = JSON.createObjectNode();
    for (String field : List.of("Version", "AuthKey", "State", "LogLevel", "App", "ServerURL", "LocalAddr",
        "LocalPort", "MetricsEnabled", "HealthCheckEnabled", "Hostname", "AcceptRoutes")) {
      if (in.has(field)) {
        out.set(field, in.get(field));
      }
    }
    if (!advertise.isEmpty()) {
      ArrayNode a = out.putArray("AdvertiseServices");
      advertise.forEach(a::add);
    }
    ObjectNode proxyIn = in.has("APIServerProxy") && in.get("APIServerProxy").isObject()
        ? (ObjectNode) in.get("APIServerProxy") : JSON.createObjectNode();
    ObjectNode proxy = out.putObject("APIServerProxy");
    for (String field : List.of("Enabled", "Mode")) {
      if (proxyIn.has(field)) {
        proxy.set(field, proxyIn.get(field));
      }
    }
    if (serviceName != null) {
      proxy.put("ServiceName", serviceName);
    } else if (proxyIn.has("ServiceName")) {
      proxy.set("ServiceName", proxyIn.get("ServiceName"));
    }
    if (proxyIn.has("IssueCerts")) {
      proxy.set("IssueCerts", proxyIn.get("IssueCerts"));
    }
    for (var it = in.fields(); it.hasNext(); ) {
      var f = it.next();
      if (!out.has(f.getKey()) && !f.getKey().equals("AdvertiseServices")) {
        out.set(f.getKey(), f.getValue()); // StaticEndpoints, V1Alpha1: after, as Go writes them
      }
    }
    return out.toString();
  }
}
