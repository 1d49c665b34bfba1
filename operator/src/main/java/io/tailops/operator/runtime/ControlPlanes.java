package io.tailops.operator.runtime;

import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.headscale.ApiKeySource;
import io.tailops.controlplane.headscale.HeadscaleControlPlane;
import io.tailops.controlplane.tailscale.CredentialSource;
import io.tailops.controlplane.tailscale.TailscaleApiClient;
import io.tailops.operator.config.OperatorConfig;
import io.tailops.operator.threads.OperatorThreads;

/** Builds the control-plane client the settings ask for. */
public final class ControlPlanes {
  private ControlPlanes() {
  }

  /**
   * The headscale client ({@code OPERATOR_CONTROL_PLANE=headscale}, API key file re-read on change), or the Tailscale
   * API v2 client (credentials re-read from the mounted files on every call, so a rotated
   * {@code operator-oauth} Secret is picked up without a restart). Either one uses the process's one outbound HTTP
   * client ({@link OperatorThreads#outbound()}).
   */
  public static ControlPlane create(OperatorConfig config, OperatorMetrics metrics) {
    if (config.controlPlane() == OperatorConfig.ControlPlaneKind.HEADSCALE) {
      HeadscaleControlPlane.Builder hb = HeadscaleControlPlane.builder(config.loginServer(),
          ApiKeySource.fromFile(config.headscaleApiKeyFile())).httpClient(OperatorThreads.outbound());
      String domain = System.getenv("HEADSCALE_BASE_DOMAIN");
      if (domain != null && !domain.isBlank()) {
        hb.baseDomain(domain.trim());
      }
      if (metrics != null) {
        hb.listener(metrics::controlPlaneCall);
      }
      return hb.build();
    }
    TailscaleApiClient.Builder b = TailscaleApiClient.builder(CredentialSource.fromFiles(config.clientIdFile(),
        config.clientSecretFile())).httpClient(OperatorThreads.outbound());
    if (!config.loginServer().isEmpty()) {
      b.loginServer(config.loginServer());
    }
    if (metrics != null) {
      b.listener(metrics::controlPlaneCall);
    }
    return b.build();
  }
}
