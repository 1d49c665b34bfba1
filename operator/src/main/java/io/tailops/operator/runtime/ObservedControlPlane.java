package io.tailops.operator.runtime;

import io.tailops.controlplane.AuthKey;
import io.tailops.controlplane.AuthKeyRequest;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.Device;
import io.tailops.controlplane.DeviceRoutes;
import io.tailops.controlplane.TailnetPolicy;
import io.tailops.controlplane.Scopes;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wraps the control plane to keep {@link OperatorHealth} current: every call tells whether the credentials work, so
 * the operator can report "credentials invalid since …" and notice recovery without a restart; and which OAuth scopes
 * are missing ({@link MissingScopes}: a 403 names the scope the call needed, a later success of such a call clears it).
 */
public final class ObservedControlPlane implements ControlPlane {
  private static final Logger LOG = LoggerFactory.getLogger(ObservedControlPlane.class);

  /** Called when the credential state changes (e.g. to re-enqueue waiting resources on recovery). */
  public interface Listener {
    void credentialStateChanged(OperatorHealth.CredentialState state);
  }

  private final ControlPlane delegate;
  private final OperatorHealth health;
  private final MissingScopes scopes;
  private volatile Listener listener = s -> { };

  public ObservedControlPlane(ControlPlane delegate, OperatorHealth health) {
    this(delegate, health, new MissingScopes(java.time.Clock.systemUTC()));
  }

  public ObservedControlPlane(ControlPlane delegate, OperatorHealth health, MissingScopes scopes) {
    this.delegate = delegate;
    this.health = health;
    this.scopes = scopes;
  }

  /** The scopes calls were refused for. */
  public MissingScopes scopes() {
    return scopes;
  }

  public void listener(Listener l) {
    this.listener = l;
  }

  public ControlPlane delegate() {
    return delegate;
  }

  private interface Call<T> {
    T run() throws ControlPlaneException;
  }

  /**
   * @param scope the OAuth scope the call needs (for {@link MissingScopes})
   * @param what the call, for users ("listing devices")
   */
  private <T> T observe(String scope, String what, Call<T> call) throws ControlPlaneException {
    try {
      T result = call.run();
      scopes.granted(scope);
      changed(health.credentials(OperatorHealth.CredentialState.VALID, "credentials accepted"),
          OperatorHealth.CredentialState.VALID);
      return result;
    } catch (ControlPlaneException e) {
      if (e.kind() == ControlPlaneException.Kind.FORBIDDEN) {
        e.requiredScope().ifPresent(required -> scopes.forbidden(required, what));
      }
      OperatorHealth.CredentialState s = switch (e.kind()) {
        case UNAUTHORIZED -> OperatorHealth.CredentialState.INVALID;
        case CREDENTIALS_UNAVAILABLE -> OperatorHealth.CredentialState.UNAVAILABLE;
        default -> null;
      };
      if (s != null) {
        boolean c = health.credentials(s, e.userMessage());
        if (c) {
          LOG.warn("control-plane credentials: {}", e.userMessage());
        }
        changed(c, s);
      } else if (e.kind() != ControlPlaneException.Kind.TRANSPORT
          && e.kind() != ControlPlaneException.Kind.UNSUPPORTED
          && e.kind() != ControlPlaneException.Kind.RATE_LIMITED
          && e.kind() != ControlPlaneException.Kind.SERVER_ERROR) {
        changed(health.credentials(OperatorHealth.CredentialState.VALID, "credentials accepted"),
            OperatorHealth.CredentialState.VALID);
      }
      throw e;
    }
  }

  private void changed(boolean changed, OperatorHealth.CredentialState s) {
    if (changed) {
      try {
        listener.credentialStateChanged(s);
      } catch (RuntimeException e) {
        LOG.warn("credential listener failed: {}", e.toString());
      }
    }
  }

  @Override
  public AuthKey createAuthKey(AuthKeyRequest request) throws ControlPlaneException {
    return observe(Scopes.AUTH_KEYS, "minting an auth key", () -> delegate.createAuthKey(request));
  }

  @Override
  public void deleteAuthKey(String keyId) throws ControlPlaneException {
    observe(Scopes.AUTH_KEYS, "revoking an auth key", () -> {
      delegate.deleteAuthKey(keyId);
      return null;
    });
  }

  @Override
  public List<io.tailops.controlplane.AuthKeyInfo> listAuthKeys() throws ControlPlaneException {
    return observe(Scopes.AUTH_KEYS_READ, "listing auth keys", delegate::listAuthKeys);
  }

  @Override
  public Optional<io.tailops.controlplane.AuthKeyInfo> getAuthKey(String keyId) throws ControlPlaneException {
    return observe(Scopes.AUTH_KEYS_READ, "reading an auth key", () -> delegate.getAuthKey(keyId));
  }

  @Override
  public Optional<Device> getDevice(String deviceId) throws ControlPlaneException {
    return observe(Scopes.DEVICES_CORE_READ, "reading a device", () -> delegate.getDevice(deviceId));
  }

  @Override
  public List<Device> listDevices() throws ControlPlaneException {
    return observe(Scopes.DEVICES_CORE_READ, "listing devices", delegate::listDevices);
  }

  @Override
  public boolean deleteDevice(String deviceId) throws ControlPlaneException {
    return observe(Scopes.DEVICES_CORE, "deleting a device", () -> delegate.deleteDevice(deviceId));
  }

  @Override
  public Optional<io.tailops.controlplane.TailscaleService> getService(String name) throws ControlPlaneException {
    return observe(Scopes.SERVICES, "reading a Tailscale Service", () -> delegate.getService(name));
  }

  @Override
  public void putService(io.tailops.controlplane.TailscaleService service) throws ControlPlaneException {
    observe(Scopes.SERVICES, "writing a Tailscale Service", () -> {
      delegate.putService(service);
      return null;
    });
  }

  @Override
  public boolean deleteService(String name) throws ControlPlaneException {
    return observe(Scopes.SERVICES, "deleting a Tailscale Service", () -> delegate.deleteService(name));
  }

  @Override
  public Optional<DeviceRoutes> getDeviceRoutes(String deviceId) throws ControlPlaneException {
    return observe(Scopes.DEVICES_ROUTES_READ, "reading a device's routes", () -> delegate.getDeviceRoutes(deviceId));
  }

  @Override
  public DeviceRoutes setApprovedRoutes(String deviceId, List<String> routes) throws ControlPlaneException {
    return observe(Scopes.DEVICES_ROUTES, "approving a device's routes",
        () -> delegate.setApprovedRoutes(deviceId, routes));
  }

  @Override
  public TailnetPolicy readPolicy() throws ControlPlaneException {
    return observe(Scopes.POLICY_FILE_READ, "reading the policy", delegate::readPolicy);
  }

  @Override
  public void checkCredentials() throws ControlPlaneException {
    observe(Scopes.AUTH_KEYS_READ, "listing auth keys (credential check)", () -> {
      delegate.checkCredentials();
      return null;
    });
  }

  @Override
  public java.util.Optional<String> magicDnsDomain() {
    return delegate.magicDnsDomain();
  }

  @Override
  public Capabilities capabilities() {
    return delegate.capabilities();
  }
}
