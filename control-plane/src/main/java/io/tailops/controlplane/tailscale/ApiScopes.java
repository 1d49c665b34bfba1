package io.tailops.controlplane.tailscale;

import io.tailops.controlplane.Scopes;
import java.util.Optional;

/**
 * The OAuth scope ({@link Scopes}) each Tailscale API call of the operator needs, so that a 403 can name the scope it
 * lacked and every message can say which scope to give the OAuth client.
 */
public final class ApiScopes {
  private ApiScopes() {
  }

  /** The scope a call needs, by its method and endpoint template (the {@code TailscaleApiClient.EP_*} constants). */
  public static Optional<String> required(String method, String template) {
    String scope = switch (template) {
      case TailscaleApiClient.EP_KEYS, TailscaleApiClient.EP_KEY -> "GET".equals(method) ? Scopes.AUTH_KEYS_READ
          : Scopes.AUTH_KEYS;
      case TailscaleApiClient.EP_DEVICE -> "GET".equals(method) ? Scopes.DEVICES_CORE_READ : Scopes.DEVICES_CORE;
      case TailscaleApiClient.EP_DEVICES -> Scopes.DEVICES_CORE_READ;
      case TailscaleApiClient.EP_DEVICE_ROUTES -> "GET".equals(method) ? Scopes.DEVICES_ROUTES_READ
          : Scopes.DEVICES_ROUTES;
      case TailscaleApiClient.EP_POLICY -> Scopes.POLICY_FILE_READ;
      case TailscaleApiClient.EP_SERVICE -> Scopes.SERVICES;
      default -> null;
    };
    return Optional.ofNullable(scope);
  }
}
