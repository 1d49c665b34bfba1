package io.tailops.controlplane.tailscale;

import java.util.Optional;

/**
 * The OAuth scope each Tailscale API call of the operator needs. A write scope grants its {@code :read} variant
 * ({@code devices:core} includes {@code devices:core:read}). A 403 names the scope it lacked, so that every message
 * can say which scope to add to the OAuth client.
 */
public final class ApiScopes {
  /** Minting and revoking auth keys. */
  public static final String AUTH_KEYS = "auth_keys";
  /** Listing and reading auth keys (included in {@link #AUTH_KEYS}). */
  public static final String AUTH_KEYS_READ = "auth_keys:read";
  /** Deleting devices. */
  public static final String DEVICES_CORE = "devices:core";
  /** Listing and reading devices (included in {@link #DEVICES_CORE}). */
  public static final String DEVICES_CORE_READ = "devices:core:read";
  /** Reading the tailnet policy file. */
  public static final String POLICY_FILE_READ = "policy_file:read";

  private ApiScopes() {
  }

  /** The scope a call needs, by its method and endpoint template (the {@code TailscaleApiClient.EP_*} constants). */
  public static Optional<String> required(String method, String template) {
    String scope = switch (template) {
      case TailscaleApiClient.EP_KEYS -> "GET".equals(method) ? AUTH_KEYS_READ : AUTH_KEYS;
      case TailscaleApiClient.EP_KEY -> "GET".equals(method) ? AUTH_KEYS_READ : AUTH_KEYS;
      case TailscaleApiClient.EP_DEVICE -> "GET".equals(method) ? DEVICES_CORE_READ : DEVICES_CORE;
      case TailscaleApiClient.EP_DEVICES -> DEVICES_CORE_READ;
      case TailscaleApiClient.EP_POLICY -> POLICY_FILE_READ;
      default -> null;
    };
    return Optional.ofNullable(scope);
  }

  /** The scope to give the OAuth client for {@code scope}: the write scope for a read one the operator also writes. */
  public static String toGrant(String scope) {
    return switch (scope) {
      case AUTH_KEYS_READ -> AUTH_KEYS;
      case DEVICES_CORE_READ -> DEVICES_CORE;
      default -> scope;
    };
  }
}
