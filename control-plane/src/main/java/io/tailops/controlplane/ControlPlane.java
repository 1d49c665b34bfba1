package io.tailops.controlplane;

import java.util.List;
import java.util.Optional;

/**
 * What the operator needs from a tailnet's control plane: mint auth keys for proxies, look up, list and delete
 * devices, and read the tailnet policy. Implemented for the Tailscale API v2 and for headscale.
 *
 * <p>Every method either returns or throws {@link ControlPlaneException}; implementations retry transient failures
 * (429, 5xx, transport errors) themselves with bounded backoff before giving up. No method ever puts a secret (client
 * secret, access token, auth key) into an exception message or a log line.
 */
public interface ControlPlane {

  /** Mints a new auth key. The returned key's secret is shown only once; callers store it, never log it. */
  AuthKey createAuthKey(AuthKeyRequest request) throws ControlPlaneException;

  /** Revokes an auth key that was minted but never used. Unknown keys are not an error. */
  void deleteAuthKey(String keyId) throws ControlPlaneException;

  /**
   * The tailnet's auth keys that are still valid, as the control plane lists them for these credentials (Tailscale: {@code
   * GET /api/v2/tailnet/-/keys}, which may carry only the IDs, see {@link AuthKeyInfo#detailed()}; headscale: every
   * pre-auth key, with its {@code used} flag). Tailscale: needs {@code auth_keys:read}.
   */
  default List<AuthKeyInfo> listAuthKeys() throws ControlPlaneException {
    throw new ControlPlaneException(ControlPlaneException.Kind.UNSUPPORTED, 0, null, capabilities().name()
        + " does not list auth keys");
  }

  /** One auth key's details (Tailscale: {@code GET /api/v2/tailnet/-/keys/{id}}); empty when unknown. */
  default Optional<AuthKeyInfo> getAuthKey(String keyId) throws ControlPlaneException {
    for (AuthKeyInfo k : listAuthKeys()) {
      if (k.id().equals(keyId) && k.detailed()) {
        return Optional.of(k);
      }
    }
    return Optional.empty();
  }

  /** Looks a device up by its stable node ID (what containerboot stores as {@code device_id}); empty when unknown. */
  Optional<Device> getDevice(String deviceId) throws ControlPlaneException;

  /** Lists every device of the tailnet the credentials belong to. */
  List<Device> listDevices() throws ControlPlaneException;

  /**
   * Deletes a device by its stable node ID.
   *
   * @return {@code true} if the device existed and was deleted, {@code false} if it was already gone (404)
   */
  boolean deleteDevice(String deviceId) throws ControlPlaneException;

  /**
   * The Tailscale Service {@code name} ({@code svc:<label>}), or empty when there is none (E4). Tailscale: needs the
   * {@code services} scope. A control plane without Tailscale Services (headscale) throws {@code UNSUPPORTED}.
   */
  default Optional<TailscaleService> getService(String name) throws ControlPlaneException {
    throw servicesUnsupported();
  }

  /**
   * Creates or replaces a Tailscale Service (E5): a whole replacement, so an existing service's addresses must be sent
   * back. Tailscale: needs the {@code services} scope.
   */
  default void putService(TailscaleService service) throws ControlPlaneException {
    throw servicesUnsupported();
  }

  /** Deletes a Tailscale Service (E6); false when it was already gone. */
  default boolean deleteService(String name) throws ControlPlaneException {
    throw servicesUnsupported();
  }

  /** The error of a control plane without Tailscale Services. */
  default ControlPlaneException servicesUnsupported() {
    return new ControlPlaneException(ControlPlaneException.Kind.UNSUPPORTED, 0, null, capabilities().name()
        + " has no Tailscale Services (VIP services), which Ingresses and Services served by a ProxyGroup are "
        + "published through");
  }

  /**
   * The routes a device advertises and those the tailnet approved for it (subnet routers, exit nodes, app
   * connectors); empty when the device is unknown. Tailscale: needs the {@code devices:routes:read} scope.
   */
  Optional<DeviceRoutes> getDeviceRoutes(String deviceId) throws ControlPlaneException;

  /**
   * Replaces the routes approved for a device with {@code routes} (routes it does not advertise may be approved in
   * advance) and returns the device's routes afterwards. Tailscale: needs the {@code devices:routes} scope.
   *
   * @throws ControlPlaneException of kind {@code NOT_FOUND} when the device is unknown
   */
  DeviceRoutes setApprovedRoutes(String deviceId, List<String> routes) throws ControlPlaneException;

  /** Reads the tailnet policy file; needs the {@code policy_file:read} scope. */
  TailnetPolicy readPolicy() throws ControlPlaneException;

  /** Verifies that a token can be obtained with the current credentials (a cheap authenticated call). */
  void checkCredentials() throws ControlPlaneException;

  /**
   * The tailnet's MagicDNS domain when the control plane names devices under a domain of its own that is not a
   * {@code <tailnet>.ts.net} domain (headscale's {@code dns.base_domain}); empty otherwise.
   */
  default Optional<String> magicDnsDomain() {
    return Optional.empty();
  }

  /** What this control plane can do; features it lacks are reported to users instead of failing silently. */
  Capabilities capabilities();

  /**
   * Features that differ between control planes.
   *
   * @param appConnectors whether the control plane configures app connectors (Tailscale: from the policy's
   *     {@code tailscale.com/app-connectors} node attribute; headscale does not implement them)
   * @param keyDescriptions whether an auth key keeps the description it was minted with and lists it (Tailscale: yes;
   *     headscale's pre-auth keys have no description), which is how the operator recognises the keys it minted
   */
  record Capabilities(String name, boolean httpsCertificates, boolean funnel, boolean policyRead,
      boolean appConnectors, boolean keyDescriptions) {
    /** A control plane whose keys keep their descriptions. */
    public Capabilities(String name, boolean httpsCertificates, boolean funnel, boolean policyRead,
        boolean appConnectors) {
      this(name, httpsCertificates, funnel, policyRead, appConnectors, true);
    }

    /** A control plane without app connectors, whose keys keep their descriptions. */
    public Capabilities(String name, boolean httpsCertificates, boolean funnel, boolean policyRead) {
      this(name, httpsCertificates, funnel, policyRead, false);
    }

    public static Capabilities tailscale() {
      return new Capabilities("Tailscale", true, true, true, true, true);
    }
  }
}
