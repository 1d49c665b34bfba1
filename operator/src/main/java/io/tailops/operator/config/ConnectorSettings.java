package io.tailops.operator.config;

import java.time.Duration;

/**
 * Settings for Connectors.
 *
 * @param headscaleApproveRoutes {@code HEADSCALE_APPROVE_ROUTES} (chart: {@code headscale.approveRoutes}, default
 *     false): on headscale, the operator approves the routes its Connectors advertise (exactly the routes in their
 *     specs, and the exit node's default routes), instead of leaving that to an admin or the policy's
 *     {@code autoApprovers}. Has no effect with Tailscale's control plane (use {@code autoApprovers} there).
 * @param routeCheckInterval {@code OPERATOR_ROUTE_CHECK_INTERVAL} (default 30s): while a Connector waits for its routes
 *     to be approved (or advertised) or for its app connector definition, how often the operator looks again in the
 *     control plane. Once everything is approved it stops looking.
 */
public record ConnectorSettings(boolean headscaleApproveRoutes, Duration routeCheckInterval) {
  public static final Duration DEFAULT_ROUTE_CHECK_INTERVAL = Duration.ofSeconds(30);
  public static final ConnectorSettings DEFAULTS = new ConnectorSettings(false, DEFAULT_ROUTE_CHECK_INTERVAL);
}
