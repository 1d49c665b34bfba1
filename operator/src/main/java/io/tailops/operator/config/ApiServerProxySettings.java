package io.tailops.operator.config;

import java.nio.file.Path;

/**
 * The Kubernetes API server proxy on the operator's own device: {@code APISERVER_PROXY} ({@code true} = auth mode,
 * {@code noauth}, {@code false}; the deprecated {@code AUTH_PROXY=true} means auth mode, as upstream), the loopback
 * port the proxy listens on inside the operator pod ({@code OPERATOR_APISERVER_PROXY_PORT}; the device's serve config
 * forwards tailnet requests there), and the LocalAPI socket of the device's tailscaled
 * ({@code OPERATOR_DEVICE_SOCKET}), where the proxy asks who a caller is.
 */
public record ApiServerProxySettings(Mode mode, int port, Path deviceSocket) {
  public static final int DEFAULT_PORT = 8081;
  public static final Path DEFAULT_DEVICE_SOCKET = Path.of("/var/run/tailscale-device/tailscaled.sock");

  /** What the proxy does with a caller's identity. */
  public enum Mode {
    /** No proxy. */
    OFF,
    /** Requests are sent with the operator's credentials, impersonating the caller's tailnet identity. */
    AUTH,
    /** Requests are sent unchanged, without the operator's credentials (the caller authenticates itself). */
    NOAUTH;

    /** The value of {@code APISERVER_PROXY} that selects this mode. */
    public String envValue() {
      return switch (this) {
        case OFF -> "false";
        case AUTH -> "true";
        case NOAUTH -> "noauth";
      };
    }
  }

  public static final ApiServerProxySettings OFF = new ApiServerProxySettings(Mode.OFF, DEFAULT_PORT,
      DEFAULT_DEVICE_SOCKET);

  public boolean enabled() {
    return mode != Mode.OFF;
  }
}
