package io.tailops.operator.pipeline;

import io.tailops.controlplane.AuthKey;
import io.tailops.controlplane.AuthKeyRequest;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.Device;
import io.tailops.controlplane.DeviceRoutes;
import io.tailops.controlplane.TailnetPolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A tailnet in memory: keys minted and revoked, devices, and the calls made. */
final class FakeControlPlane implements ControlPlane {
  final Map<String, AuthKey> keys = new LinkedHashMap<>();
  final Map<String, Device> devices = new LinkedHashMap<>();
  final Map<String, DeviceRoutes> routes = new LinkedHashMap<>();
  Capabilities capabilities = ControlPlane.Capabilities.tailscale();
  TailnetPolicy policy = new TailnetPolicy(Map.of(), List.of());
  final List<String> calls = new ArrayList<>();
  /** Every key request, in order. */
  final List<AuthKeyRequest> requests = new ArrayList<>();
  /** The control plane's clock (keys expire relative to it). */
  java.util.function.Supplier<java.time.Instant> now = java.time.Instant::now;
  private int next = 1;

  @Override
  public AuthKey createAuthKey(AuthKeyRequest request) {
    calls.add("createAuthKey");
    requests.add(request);
    AuthKey k = new AuthKey("k" + next, "tskey-auth-k" + next + "-secret", request.expiry() == null ? null
        : now.get().plus(request.expiry()));
    next++;
    keys.put(k.id(), k);
    return k;
  }

  @Override
  public void deleteAuthKey(String keyId) {
    calls.add("deleteAuthKey " + keyId);
    keys.remove(keyId);
  }

  @Override
  public Optional<Device> getDevice(String deviceId) {
    calls.add("getDevice " + deviceId);
    return Optional.ofNullable(devices.get(deviceId));
  }

  @Override
  public List<Device> listDevices() {
    calls.add("listDevices");
    return List.copyOf(devices.values());
  }

  @Override
  public boolean deleteDevice(String deviceId) {
    calls.add("deleteDevice " + deviceId);
    return devices.remove(deviceId) != null;
  }

  @Override
  public Optional<DeviceRoutes> getDeviceRoutes(String deviceId) {
    calls.add("getDeviceRoutes " + deviceId);
    return devices.containsKey(deviceId) ? Optional.of(routes.getOrDefault(deviceId, new DeviceRoutes(List.of(),
        List.of()))) : Optional.empty();
  }

  @Override
  public DeviceRoutes setApprovedRoutes(String deviceId, List<String> approved) {
    calls.add("setApprovedRoutes " + deviceId + " " + approved);
    DeviceRoutes r = new DeviceRoutes(routes.getOrDefault(deviceId, new DeviceRoutes(List.of(), List.of()))
        .advertised(), approved);
    routes.put(deviceId, r);
    return r;
  }

  @Override
  public TailnetPolicy readPolicy() {
    calls.add("readPolicy");
    return policy;
  }

  @Override
  public void checkCredentials() {
  }

  @Override
  public Capabilities capabilities() {
    return capabilities;
  }
}
