package io.tailops.operator.proxy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;
import java.util.TreeMap;

/**
 * A serve config ({@code ipn.ServeConfig}, wire contract §5) rendered exactly as the official operator renders it:
 * struct fields in Go order ({@code TCP}, {@code Web}, {@code AllowFunnel}) and map keys sorted as strings, so the
 * bytes are identical. {@code ${TS_CERT_DOMAIN}} is a literal placeholder that containerboot replaces with the node's
 * certificate domain.
 */
public final class ServeConfig {
  public static final String CERT_DOMAIN = "${TS_CERT_DOMAIN}";
  public static final String REDIRECT_TO_HTTPS = "301:https://${HOST}${REQUEST_URI}";
  private static final ObjectMapper JSON = new ObjectMapper();

  private final TreeMap<String, Map<String, Boolean>> tcp = new TreeMap<>();
  private final TreeMap<String, TreeMap<String, Map<String, String>>> web = new TreeMap<>();
  private final TreeMap<String, Boolean> allowFunnel = new TreeMap<>();

  /** {@code TCP[port] = {"HTTPS": true}} or {@code {"HTTP": true}}. */
  public ServeConfig tcp(int port, boolean https) {
    tcp.put(Integer.toString(port), Map.of(https ? "HTTPS" : "HTTP", true));
    return this;
  }

  /** A proxy handler at {@code mountPoint} on {@code hostPort} (e.g. {@code ${TS_CERT_DOMAIN}:443}). */
  public ServeConfig proxy(String hostPort, String mountPoint, String target) {
    web.computeIfAbsent(hostPort, k -> new TreeMap<>()).put(mountPoint, Map.of("Proxy", target));
    return this;
  }

  /** A redirect handler at {@code mountPoint} on {@code hostPort}. */
  public ServeConfig redirect(String hostPort, String mountPoint, String target) {
    web.computeIfAbsent(hostPort, k -> new TreeMap<>()).put(mountPoint, Map.of("Redirect", target));
    return this;
  }

  public ServeConfig allowFunnel(String hostPort) {
    allowFunnel.put(hostPort, true);
    return this;
  }

  /** Handlers per mount point on {@code hostPort}. */
  public Map<String, Map<String, String>> handlers(String hostPort) {
    return web.getOrDefault(hostPort, new TreeMap<>());
  }

  public boolean isEmpty() {
    return web.isEmpty();
  }

  /** Compact JSON, byte-compatible with Go's encoding/json output of the same config. */
  public String toJson() {
    ObjectNode root = JSON.createObjectNode();
    if (!tcp.isEmpty()) {
      ObjectNode t = root.putObject("TCP");
      tcp.forEach((port, h) -> {
        ObjectNode n = t.putObject(port);
        h.forEach(n::put);
      });
    }
    if (!web.isEmpty()) {
      ObjectNode w = root.putObject("Web");
      web.forEach((hp, handlers) -> {
        ObjectNode hs = w.putObject(hp).putObject("Handlers");
        handlers.forEach((mount, h) -> {
          ObjectNode n = hs.putObject(mount);
          h.forEach(n::put);
        });
      });
    }
    if (!allowFunnel.isEmpty()) {
      ObjectNode f = root.putObject("AllowFunnel");
      allowFunnel.forEach(f::put);
    }
    return root.toString();
  }

  public static String hostPort(int port) {
    return CERT_DOMAIN + ":" + port;
  }
}
