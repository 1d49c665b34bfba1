package io.tailops.operator.proxy;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The config/state Secret of a proxy replica (§3.3): the operator owns the keys {@code cap-95.hujson},
 * {@code cap-107.hujson} and (Ingress proxies) {@code serve-config}; containerboot and tailscaled own everything
 * else. The same Secret doubles as tailscaled's state store.
 */
public final class ProxyConfigSecret {
  private ProxyConfigSecret() {
  }

  /**
   * The keys the operator wants in the Secret.
   *
   * @param authKey the auth key to keep in the config, or null
   */
  public static Map<String, String> desiredData(ProxySpec spec, String authKey, ProxyDefaults defaults) {
    return desiredData(spec, spec.hostname(), authKey, defaults);
  }

  /** The keys the operator wants in the Secret of a replica that asks for {@code hostname}. */
  public static Map<String, String> desiredData(ProxySpec spec, String hostname, String authKey,
      ProxyDefaults defaults) {
    boolean acceptRoutes = spec.proxyClass() != null && spec.proxyClass().getSpec() != null
        && spec.proxyClass().getSpec().getTailscale() != null
        && Boolean.TRUE.equals(spec.proxyClass().getSpec().getTailscale().getAcceptRoutes());
    String server = defaults.loginServer().isEmpty() ? null : defaults.loginServer();
    TailscaledConfig config = spec.target() instanceof ProxyTarget.Connector c
        ? new TailscaledConfig(server, authKey, hostname, acceptRoutes, c.advertiseRoutes(), c.appConnector())
        : new TailscaledConfig(server, authKey, hostname, acceptRoutes);
    Map<String, String> data = new LinkedHashMap<>(config.files());
    if (spec.hasServeConfig()) {
      data.put(ProxyStatefulSet.SERVE_CONFIG_KEY, spec.serveConfig());
    }
    return data;
  }

  public static Secret build(ProxySpec spec, String name, Map<String, String> data, ProxyDefaults defaults) {
    return new SecretBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(defaults.namespace())
        .withLabels(ChildLabels.of(spec.parent()))
        .endMetadata()
        .withData(encode(data))
        .build();
  }

  /** The operator-owned keys whose live value differs from {@code desired} (decoded), with their desired values. */
  public static Map<String, String> changedKeys(Secret live, Map<String, String> desired) {
    Map<String, String> changed = new LinkedHashMap<>();
    Map<String, String> liveData = live.getData() == null ? Map.of() : live.getData();
    desired.forEach((k, v) -> {
      if (!v.equals(DeviceState.decode(liveData.get(k)))) {
        changed.put(k, v);
      }
    });
    return changed;
  }

  /** A decoded value of the Secret, or "" when absent. */
  public static String value(Secret secret, String key) {
    if (secret == null || secret.getData() == null) {
      return "";
    }
    return DeviceState.decode(secret.getData().get(key));
  }

  /** The decoded values of a Secret's data. */
  public static Map<String, String> decode(Map<String, String> data) {
    Map<String, String> out = new LinkedHashMap<>();
    if (data != null) {
      data.forEach((k, v) -> out.put(k, DeviceState.decode(v)));
    }
    return out;
  }

  public static Map<String, String> encode(Map<String, String> data) {
    Map<String, String> out = new LinkedHashMap<>();
    data.forEach((k, v) -> out.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
    return out;
  }
}
