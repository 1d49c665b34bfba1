package io.tailops.operator.runtime;

import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.tailscale.CredentialSource;
import io.tailops.controlplane.tailscale.TailscaleApiClient;
import io.tailops.operator.config.OperatorConfig;

/** Builds the control-plane client the settings ask for. */
public final class ControlPlanes {
  private ControlPlanes() {
  }

  /**
   * The Tailscale API v2 client (credentials re-read from the mounted files on every call, so a rotated
   * {@code operator-oauth} Secret is picked up without a restart).
   */
  public static ControlPlane create(OperatorConfig config, OperatorMetrics metrics) {
    if (config.controlPlane() == OperatorConfig.ControlPlaneKind.HEADSCALE) {
      throw new UnsupportedOperationException("headscale support is not built yet");
    }
    TailscaleApiClient.Builder b = TailscaleApiClient.builder(CredentialSource.fromFiles(config.clientIdFile(),
        config.clientSecretFile()));
    if (!config.loginServer().isEmpty()) {
      b.loginServer(config.loginServer());
    }
    if (metrics != null) {
      b.listener(metrics::controlPlaneCall);
    }
    return b.build();
  }
}
