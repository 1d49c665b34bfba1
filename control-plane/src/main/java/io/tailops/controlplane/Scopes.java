package io.tailops.controlplane;

/**
 * The Tailscale API's OAuth scopes the operator uses. A write scope grants its {@code :read} variant
 * ({@code devices:core} includes {@code devices:core:read}). Which call needs which: {@code tailscale.ApiScopes}.
 */
public final class Scopes {
  /** Minting and revoking auth keys. */
  public static final String AUTH_KEYS = "auth_keys";
  /** Listing and reading auth keys (included in {@link #AUTH_KEYS}). */
  public static final String AUTH_KEYS_READ = "auth_keys:read";
  /** Deleting devices. */
  public static final String DEVICES_CORE = "devices:core";
  /** Listing and reading devices (included in {@link #DEVICES_CORE}). */
  public static final String DEVICES_CORE_READ = "devices:core:read";
  /** Reading a device's advertised and approved routes (Connectors: whether their routes are approved). */
  public static final String DEVICES_ROUTES_READ = "devices:routes:read";
  /** Approving a device's routes (includes {@link #DEVICES_ROUTES_READ}). */
  public static final String DEVICES_ROUTES = "devices:routes";
  /** Reading, creating and deleting Tailscale Services (HA Services and Ingresses on a ProxyGroup). */
  public static final String SERVICES = "services";
  /** Reading the tailnet policy file. */
  public static final String POLICY_FILE_READ = "policy_file:read";

  private Scopes() {
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
