package io.tailops.operator.proxy;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.controlplane.AuthKey;
import io.tailops.controlplane.ControlPlane;
import io.tailops.controlplane.ControlPlaneException;
import io.tailops.controlplane.Device;
import io.tailops.operator.k8s.TailscaleKeys;
import io.tailops.operator.status.Problem;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ArrayList;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fixes, by itself and safely, what the seed guide's troubleshooting section asks users to fix by hand:
 *
 * <ul>
 *   <li><b>Logged out</b> (device deleted in the admin console; containerboot then exits with "tailscaled daemon
 *       started with a config file, but tailscale is not logged in"): the device the proxy had no longer exists, so a
 *       fresh auth key is minted, the proxy's tailscaled state is reset and its pod restarted into a clean login.</li>
 *   <li><b>{@code -1} hostname suffix</b>: the device got {@code name-1} because another device holds {@code name}.
 *       When that device provably belongs to this operator (this operator registered it ({@link DeviceRegistry}), it
 *       carries only proxy tags, no live proxy has it, and it is offline), it is deleted, and the proxy re-registers
 *       under the clean name. Otherwise nothing is deleted and the
 *       user is told which device holds the name.</li>
 * </ul>
 *
 * <p>Every action is rate-limited per proxy ({@code tailscale.com/reauth-at} on the proxy Secret, so the limit
 * survives restarts): a broken credential or policy cannot mint keys in a loop.
 */
public class ProxyHealer {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyHealer.class);

  private final ProxyWrites writes;
  private final ProxySecrets secrets;
  private final Supplier<ControlPlane> controlPlane;
  private final ProxyDefaults defaults;
  private final Clock clock;
  private final Duration minInterval;
  private final Set<String> proxyTags;
  private final boolean enabled;
  private final DeviceRegistry devices;
  /** When the hostname of each replica was last checked against the tailnet (suffixed replicas only). */
  private final Map<String, Instant> lastSuffixCheck = new java.util.concurrent.ConcurrentHashMap<>();

  private static final String IN_USE_BY_OURS = "another proxy of this operator uses it";

  /** What happened, to tell the user. */
  public record Outcome(Problem event, boolean acted) {
  }

  public ProxyHealer(ProxyWrites writes, Supplier<ControlPlane> controlPlane, ProxyDefaults defaults, Clock clock,
      Duration minInterval, boolean enabled) {
    this(writes, controlPlane, defaults, clock, minInterval, enabled, DeviceRegistry.inMemory());
  }

  /** @param devices the operator's registry of devices: devices the healer deletes are forgotten there */
  public ProxyHealer(ProxyWrites writes, Supplier<ControlPlane> controlPlane, ProxyDefaults defaults, Clock clock,
      Duration minInterval, boolean enabled, DeviceRegistry devices) {
    this.devices = devices;
    this.writes = writes;
    this.secrets = new ProxySecrets(writes);
    this.controlPlane = controlPlane;
    this.defaults = defaults;
    this.clock = clock;
    this.minInterval = minInterval;
    this.proxyTags = Set.copyOf(defaults.defaultTags());
    this.enabled = enabled;
  }

  /**
   * Checks the replicas of a freshly provisioned proxy and heals them if needed.
   *
   * @param forceToken the parent's {@code tailscale.com/force-reauth} value, or null
   * @return what was done or found, if anything (an action first)
   */
  public Optional<Outcome> check(ProxySpec spec, ObservedProxy proxy, String forceToken) throws ProvisionException {
    List<Outcome> found = new ArrayList<>();
    for (int i = 0; i < proxy.replicas().size(); i++) {
      DesiredProxy.Replica desired = proxy.desired() == null || proxy.desired().replicas().size() <= i ? null
          : proxy.desired().replicas().get(i);
      Optional<Outcome> o = check(spec, proxy.replicas().get(i), desired, spec.hostname(i), forceToken);
      if (o.isPresent() && o.get().acted()) {
        return o;
      }
      o.ifPresent(found::add);
    }
    return found.stream().findFirst();
  }

  private Optional<Outcome> check(ProxySpec spec, ReplicaState r, DesiredProxy.Replica desired, String hostname,
      String forceToken) throws ProvisionException {
    if (forceToken != null && !forceToken.isEmpty() && !forceToken.equals(r.forceReauthDone())) {
      return reauthenticate(spec, r, desired, hostname, "re-registration was requested with "
          + TailscaleKeys.FORCE_REAUTH + "=" + forceToken, null, forceToken);
    }
    if (!enabled) {
      return Optional.empty();
    }
    DeviceState state = r.device();
    if (!state.hasDevice() && !r.authKeyPending() && !r.rememberedDeviceId().isEmpty()) {
      return loggedOut(spec, r, desired, hostname, r.rememberedDeviceId());
    }
    if (state.hasDevice() && state.deviceId().equals(r.deviceMissing())) {
      // The device sweep found the proxy's device gone while the proxy still runs with it (headscale keeps a
      // deleted node's tailscaled running until it reconnects): confirm, then re-register.
      return loggedOut(spec, r, desired, hostname, state.deviceId());
    }
    if (state.isReady() && state.dnsLabel().isPresent() && isSuffixed(state.dnsLabel().get(), hostname)) {
      Instant last = lastSuffixCheck.get(r.secretName());
      if (last != null && Duration.between(last, clock.instant()).compareTo(minInterval) < 0) {
        return Optional.empty();
      }
      lastSuffixCheck.put(r.secretName(), clock.instant());
      return suffixed(spec, r, desired, hostname, state);
    }
    lastSuffixCheck.remove(r.secretName());
    return Optional.empty();
  }

  private Optional<Outcome> loggedOut(ProxySpec spec, ReplicaState r, DesiredProxy.Replica desired, String hostname,
      String deviceId) throws ProvisionException {
    Optional<Device> device;
    try {
      device = controlPlane.get().getDevice(deviceId);
    } catch (ControlPlaneException e) {
      throw new ProvisionException("checking the proxy's device " + deviceId + ": " + e.userMessage(),
          "DeviceCheckFailed", e.isTransient(), e);
    }
    if (device.isPresent()) {
      return Optional.empty(); // a normal restart: the proxy will write device_id again
    }
    String why = "the proxy's device " + deviceId + " no longer exists in the tailnet (deleted in the admin console?), "
        + "so the proxy cannot log in";
    return reauthenticate(spec, r, desired, hostname, why, null, null);
  }

  private Optional<Outcome> suffixed(ProxySpec spec, ReplicaState r, DesiredProxy.Replica desired, String hostname,
      DeviceState state) throws ProvisionException {
    String wanted = hostname.toLowerCase(Locale.ROOT);
    List<Device> devices;
    try {
      devices = controlPlane.get().listDevices();
    } catch (ControlPlaneException e) {
      throw new ProvisionException("listing devices: " + e.userMessage(), "DeviceCheckFailed", e.isTransient(), e);
    }
    Optional<Device> holder = devices.stream().filter(d -> !d.nodeId().equals(state.deviceId())
        && wanted.equalsIgnoreCase(d.dnsLabel())).findFirst();
    if (holder.isPresent()) {
      Device h = holder.get();
      String proof = provablyOursAndStale(h);
      if (IN_USE_BY_OURS.equals(proof)) {
        // Another proxy of this operator holds the name: a parent that lost the name to this one and is having its
        // proxy removed. Looked at again on the next reconcile (the removal wakes this parent), not only in 5 minutes.
        lastSuffixCheck.remove(r.secretName());
      }
      if (proof != null) {
        return Optional.of(new Outcome(Problem.warning("HostnameTaken", "the proxy's device is "
            + state.dnsLabel().get() + " instead of " + hostname + " because device " + h.name() + " ("
            + h.nodeId() + ", tags " + h.tags() + ", " + (Boolean.TRUE.equals(h.online()) ? "online" : "offline")
            + ") holds the name and " + proof + "; delete or rename that device in the admin console, then set "
            + TailscaleKeys.FORCE_REAUTH + " on this object to re-register the proxy"), false));
      }
      String why = "the proxy's device got the name " + state.dnsLabel().get() + " because a stale device of this "
          + "operator (" + h.nodeId() + ", offline, tags " + h.tags() + ") held " + hostname;
      return reauthenticate(spec, r, desired, hostname, why, h, null);
    }
    // Nobody holds the name any more: re-register to take it.
    return reauthenticate(spec, r, desired, hostname, "the proxy's device is " + state.dnsLabel().get() + " but "
        + hostname + " is free now", null, null);
  }

  /**
   * Whether the control plane gave {@code label} = {@code hostname-<n>} because the name was taken (a different label
   * altogether is a rename in progress: tailscaled reports the new hostname and the control plane follows).
   */
  static boolean isSuffixed(String label, String hostname) {
    String l = label.toLowerCase(Locale.ROOT);
    String h = hostname.toLowerCase(Locale.ROOT);
    return l.startsWith(h + "-") && l.length() > h.length() + 1 && l.substring(h.length() + 1).chars()
        .allMatch(Character::isDigit);
  }

  /** Null when {@code d} is provably a stale device of this operator; otherwise why it is not. */
  private String provablyOursAndStale(Device d) {
    if (ReplicaState.knownDeviceIds(writes.managedSecrets()).contains(d.nodeId())) {
      return IN_USE_BY_OURS;
    }
    if (d.tags().isEmpty() || !proxyTags.containsAll(d.tags())) {
      return "it does not carry only this operator's proxy tags " + proxyTags;
    }
    if (Boolean.TRUE.equals(d.online())) {
      return "it is online";
    }
    if (!devices.owns(d.nodeId())) {
      return "this operator never registered it (it is not in the ConfigMap " + DeviceRegistry.CONFIG_MAP
          + "; another cluster's or operator's device?)";
    }
    return null;
  }

  /**
   * Re-registers one replica: deletes {@code staleHolder} (if given) and the replica's current device, mints a fresh
   * key, resets tailscaled's state in the Secret and restarts the pod. Rate-limited per replica.
   *
   * @param desired the replica as provisioned (its config keys), or null for the standard config
   */
  Optional<Outcome> reauthenticate(ProxySpec spec, ReplicaState r, DesiredProxy.Replica desired, String hostname,
      String why, Device staleHolder, String forceToken) throws ProvisionException {
    Instant now = clock.instant();
    Instant last = r.reauthAt();
    if (forceToken == null && last != null && Duration.between(last, now).compareTo(minInterval) < 0) {
      Instant next = last.plus(minInterval);
      return Optional.of(new Outcome(Problem.warning("ReauthRateLimited", why + "; the operator re-registered this "
          + "proxy at " + last + " and waits until " + next + " before trying again"), false));
    }
    // 1. The stale device holding the name goes first, so that the fresh registration gets the clean name.
    try {
      if (staleHolder != null) {
        controlPlane.get().deleteDevice(staleHolder.nodeId());
        devices.forget(staleHolder.nodeId());
        LOG.info("deleted stale device {} ({}) holding hostname {}", staleHolder.nodeId(), staleHolder.name(),
            hostname);
      }
    } catch (ControlPlaneException e) {
      throw new ProvisionException("re-registering the proxy: " + e.userMessage(), "ReauthFailed", e.isTransient(),
          e);
    }
    String current = r.knownDeviceId();
    AuthKey key;
    try {
      key = controlPlane.get().createAuthKey(defaults.authKeys().forProxy(spec.tags(), spec.ephemeral(),
          "proxy reauth " + ProxyNames.statefulSetOfSecret(r.secretName())));
    } catch (ControlPlaneException e) {
      throw new ProvisionException("failed to create an auth key to re-register the proxy: " + e.userMessage(),
          "ReauthFailed", e.isTransient(), e);
    }
    // 2. A fresh key and no tailscaled state in the Secret, before anything else can observe a logged-out proxy. On a
    // conflict the reset is written again on the current copy, with the same key, unless someone re-registered the
    // proxy meanwhile.
    Map<String, String> config = desired == null
        ? ProxyConfigSecret.desiredData(spec, hostname, key.secret(), defaults)
        : desired.operatorKeys().of(key.secret(), r.config());
    boolean single = r.singleSecret();
    Secret after;
    try {
      after = secrets.change(r.config(), s -> {
        ReplicaState now2 = ReplicaState.of(s);
        if (!Objects.equals(now2.reauthAt(), r.reauthAt())) {
          return SecretChange.NONE; // re-registered meanwhile
        }
        SecretChange.Builder c = SecretChange.builder().data(config)
            .annotate(TailscaleKeys.REAUTH_AT, now.toString())
            .annotate(TailscaleKeys.REAUTH_COUNT, Integer.toString(r.reauthCount() + 1))
            .annotate(ProxySecrets.AUTH_KEY_ID, key.id())
            .removeAnnotation(ProxySecrets.DEVICE_ID)
            .removeAnnotation(TailscaleKeys.DEVICE_MISSING);
        if (key.expires() != null) {
          c.annotate(ProxySecrets.AUTH_KEY_EXPIRES, key.expires().toString());
        } else {
          c.removeAnnotation(ProxySecrets.AUTH_KEY_EXPIRES);
        }
        if (forceToken != null) {
          c.annotate(ProxySecrets.FORCE_REAUTH_DONE, forceToken);
        }
        if (single && s.getData() != null) {
          s.getData().keySet().stream().filter(ProxySecrets::isStateKey).forEach(c::removeData);
        }
        return c.build();
      });
      if (!single && after != null && r.secret() != null
          && Objects.equals(ReplicaState.of(after).reauthAt(), now)) {
        // A separate state Secret (a ProxyGroup replica's) loses tailscaled's state after the config has the new key.
        secrets.change(r.secret(), s -> {
          SecretChange.Builder c = SecretChange.builder().removeAnnotation(TailscaleKeys.DEVICE_MISSING);
          if (s.getData() != null) {
            s.getData().keySet().stream().filter(ProxySecrets::isStateKey).forEach(c::removeData);
          }
          SecretChange change = c.build();
          boolean noop = change.removeData().isEmpty() && (s.getMetadata().getAnnotations() == null
              || !s.getMetadata().getAnnotations().containsKey(TailscaleKeys.DEVICE_MISSING));
          return noop ? SecretChange.NONE : change;
        });
      }
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      revoke(key);
      throw ProxyProvisioner.apiError("resetting the proxy Secret " + r.secretName(), e);
    }
    if (after == null || !Objects.equals(ReplicaState.of(after).reauthAt(), now)) {
      revoke(key);
      throw new ProvisionException("the proxy Secret " + r.secretName() + " changed while re-registering the proxy; "
          + "retrying", "ProxyRetry", true, null);
    }
    // 3. Restart the proxy into a clean login, then remove the device it had (the Secret already says "fresh").
    writes.restartPod(r.secretName());
    if (current != null && !current.isEmpty()) {
      try {
        controlPlane.get().deleteDevice(current);
        devices.forget(current);
      } catch (ControlPlaneException e) {
        LOG.warn("could not delete the proxy's previous device {} (the orphan sweep will report it): {}", current,
            e.userMessage());
      }
    }
    LOG.info("re-registered proxy {}: {}", r.secretName(), why);
    return Optional.of(new Outcome(Problem.warning("ProxyReauthenticated", why + "; the operator minted a fresh auth "
        + "key, reset the proxy's tailscaled state and restarted it" + (staleHolder == null ? ""
        : ", after deleting the stale device " + staleHolder.nodeId())), true));
  }

  private void revoke(AuthKey key) {
    try {
      controlPlane.get().deleteAuthKey(key.id());
    } catch (ControlPlaneException ignored) {
      LOG.warn("could not revoke unused auth key {}", key.id());
    }
  }
}
