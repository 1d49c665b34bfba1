package io.tailops.operator.proxy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.tailops.controlplane.AuthKey;
import io.tailops.controlplane.AuthKeyRequest;
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
 *       When that device provably belongs to this operator (it carries only proxy tags, no live proxy has it, and it is
 *       offline), it is deleted, and the proxy re-registers under the clean name. Otherwise nothing is deleted and the
 *       user is told which device holds the name.</li>
 * </ul>
 *
 * <p>Every action is rate-limited per proxy ({@code tailscale.com/reauth-at} on the proxy Secret, so the limit
 * survives restarts): a broken credential or policy cannot mint keys in a loop.
 */
public class ProxyHealer {
  /** Keys of tailscaled's state in the Secret; removing them makes the next start a fresh login. */
  static final Set<String> STATE_KEYS = Set.of("_machinekey", "_profiles", "_current-profile", DeviceState.KEY_DEVICE_ID,
      DeviceState.KEY_DEVICE_FQDN, DeviceState.KEY_DEVICE_IPS, DeviceState.KEY_HTTPS_ENDPOINT);
  private static final Logger LOG = LoggerFactory.getLogger(ProxyHealer.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final KubernetesClient client;
  private final Supplier<ControlPlane> controlPlane;
  private final ProxyDefaults defaults;
  private final Clock clock;
  private final Duration minInterval;
  private final Set<String> proxyTags;
  private final boolean enabled;
  /** When the hostname of each proxy was last checked against the tailnet (suffixed proxies only). */
  private final Map<String, Instant> lastSuffixCheck = new java.util.concurrent.ConcurrentHashMap<>();
  /** On the proxy Secret: the last {@code tailscale.com/force-reauth} value acted upon. */
  public static final String FORCE_REAUTH_DONE = "tailscale.com/force-reauth-done";

  /** What happened, to tell the user. */
  public record Outcome(Problem event, boolean acted) {
  }

  public ProxyHealer(KubernetesClient client, Supplier<ControlPlane> controlPlane, ProxyDefaults defaults, Clock clock,
      Duration minInterval, boolean enabled) {
    this.client = client;
    this.controlPlane = controlPlane;
    this.defaults = defaults;
    this.clock = clock;
    this.minInterval = minInterval;
    this.proxyTags = Set.copyOf(defaults.defaultTags());
    this.enabled = enabled;
  }

  /**
   * Checks a freshly provisioned proxy and heals it if needed.
   *
   * @return what was done or found, if anything
   */
  public Optional<Outcome> check(ProxySpec spec, ProxyProvisioner.Provisioned p, String forceToken)
      throws ProvisionException {
    if (p.secret() == null) {
      return Optional.empty();
    }
    Map<String, String> secretAnn = p.secret().getMetadata().getAnnotations() == null ? Map.of()
        : p.secret().getMetadata().getAnnotations();
    if (forceToken != null && !forceToken.isEmpty() && !forceToken.equals(secretAnn.get(FORCE_REAUTH_DONE))) {
      return reauthenticate(spec, p, "re-registration was requested with " + TailscaleKeys.FORCE_REAUTH + "="
          + forceToken, null, forceToken);
    }
    if (!enabled) {
      return Optional.empty();
    }
    DeviceState state = p.device();
    Secret secret = p.secret();
    Map<String, String> ann = secret.getMetadata().getAnnotations() == null ? Map.of()
        : secret.getMetadata().getAnnotations();
    String knownDevice = ann.get(ProxyProvisioner.DEVICE_ID_ANNOTATION);
    boolean hasKey = TailscaledConfig.authKeyOf(ProxyConfigSecret.value(secret, TailscaledConfig.CAP_107)) != null;
    if (!state.hasDevice() && !hasKey && knownDevice != null && !knownDevice.isEmpty()) {
      return loggedOut(spec, p, knownDevice);
    }
    if (state.hasDevice() && state.deviceId().equals(ann.get(TailscaleKeys.DEVICE_MISSING))) {
      // The device sweep found the proxy's device gone while the proxy still runs with it (headscale keeps a
      // deleted node's tailscaled running until it reconnects): confirm, then re-register.
      return loggedOut(spec, p, state.deviceId());
    }
    if (state.isReady() && state.dnsLabel().isPresent() && isSuffixed(state.dnsLabel().get(), spec.hostname())) {
      Instant last = lastSuffixCheck.get(p.statefulSetName());
      if (last != null && Duration.between(last, clock.instant()).compareTo(minInterval) < 0) {
        return Optional.empty();
      }
      lastSuffixCheck.put(p.statefulSetName(), clock.instant());
      return suffixed(spec, p, state);
    }
    lastSuffixCheck.remove(p.statefulSetName());
    return Optional.empty();
  }

  private Optional<Outcome> loggedOut(ProxySpec spec, ProxyProvisioner.Provisioned p, String deviceId)
      throws ProvisionException {
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
    return reauthenticate(spec, p, why, null, null);
  }

  private Optional<Outcome> suffixed(ProxySpec spec, ProxyProvisioner.Provisioned p, DeviceState state)
      throws ProvisionException {
    String wanted = spec.hostname().toLowerCase(Locale.ROOT);
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
      if (proof != null) {
        return Optional.of(new Outcome(Problem.warning("HostnameTaken", "the proxy's device is "
            + state.dnsLabel().get() + " instead of " + spec.hostname() + " because device " + h.name() + " ("
            + h.nodeId() + ", tags " + h.tags() + ", " + (Boolean.TRUE.equals(h.online()) ? "online" : "offline")
            + ") holds the name and " + proof + "; delete or rename that device in the admin console, then set "
            + TailscaleKeys.FORCE_REAUTH + " on this object to re-register the proxy"), false));
      }
      String why = "the proxy's device got the name " + state.dnsLabel().get() + " because a stale device of this "
          + "operator (" + h.nodeId() + ", offline, tags " + h.tags() + ") held " + spec.hostname();
      return reauthenticate(spec, p, why, h, null);
    }
    // Nobody holds the name any more: re-register to take it.
    return reauthenticate(spec, p, "the proxy's device is " + state.dnsLabel().get() + " but " + spec.hostname()
        + " is free now", null, null);
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
    if (d.tags().isEmpty() || !proxyTags.containsAll(d.tags())) {
      return "it does not carry only this operator's proxy tags " + proxyTags;
    }
    if (Boolean.TRUE.equals(d.online())) {
      return "it is online";
    }
    if (liveDeviceIds().contains(d.nodeId())) {
      return "another proxy of this operator uses it";
    }
    return null;
  }

  /** Device IDs every proxy of this operator reports or remembers. */
  private Set<String> liveDeviceIds() {
    return DeviceState.knownDeviceIds(client, defaults.namespace());
  }

  /**
   * Re-registers the proxy: deletes {@code staleHolder} (if given) and the proxy's current device, mints a fresh key,
   * resets tailscaled's state in the Secret and restarts the pod. Rate-limited per proxy.
   */
  public Optional<Outcome> reauthenticate(ProxySpec spec, ProxyProvisioner.Provisioned p, String why,
      Device staleHolder, String forceToken) throws ProvisionException {
    Secret secret = p.secret();
    Map<String, String> ann = secret.getMetadata().getAnnotations() == null ? Map.of()
        : secret.getMetadata().getAnnotations();
    Instant now = clock.instant();
    Instant last = parse(ann.get(TailscaleKeys.REAUTH_AT));
    if (forceToken == null && last != null && Duration.between(last, now).compareTo(minInterval) < 0) {
      Instant next = last.plus(minInterval);
      return Optional.of(new Outcome(Problem.warning("ReauthRateLimited", why + "; the operator re-registered this "
          + "proxy at " + last + " and waits until " + next + " before trying again"), false));
    }
    // 1. The stale device holding the name goes first, so that the fresh registration gets the clean name.
    try {
      if (staleHolder != null) {
        controlPlane.get().deleteDevice(staleHolder.nodeId());
        LOG.info("deleted stale device {} ({}) holding hostname {}", staleHolder.nodeId(), staleHolder.name(),
            spec.hostname());
      }
    } catch (ControlPlaneException e) {
      throw new ProvisionException("re-registering the proxy: " + e.userMessage(), "ReauthFailed", e.isTransient(),
          e);
    }
    DeviceState state = p.device();
    String current = state.hasDevice() ? state.deviceId() : ann.get(ProxyProvisioner.DEVICE_ID_ANNOTATION);
    AuthKey key;
    try {
      key = controlPlane.get().createAuthKey(AuthKeyRequest.forProxy(spec.tags(), spec.ephemeral(),
          "k8s proxy reauth " + p.statefulSetName()));
    } catch (ControlPlaneException e) {
      throw new ProvisionException("failed to create an auth key to re-register the proxy: " + e.userMessage(),
          "ReauthFailed", e.isTransient(), e);
    }
    int count = 0;
    try {
      count = Integer.parseInt(ann.getOrDefault(TailscaleKeys.REAUTH_COUNT, "0"));
    } catch (NumberFormatException ignored) {
      count = 0;
    }
    // 2. A fresh key and no tailscaled state in the Secret, before anything else can observe a logged-out proxy.
    // The proxy (and the device sweep) write the same Secret: on a conflict the reset is written again on the current
    // copy, with the same key, unless someone re-registered the proxy meanwhile.
    Secret target = secret;
    for (int attempt = 1; ; attempt++) {
      try {
        client.secrets().inNamespace(defaults.namespace()).withName(secret.getMetadata().getName())
            .patch(PatchContext.of(PatchType.JSON_MERGE), resetPatch(spec, target, key, now, count, forceToken));
        break;
      } catch (KubernetesClientException e) {
        Secret fresh = null;
        if (e.getCode() == 409 && attempt < 3) {
          try {
            fresh = client.secrets().inNamespace(defaults.namespace()).withName(secret.getMetadata().getName()).get();
          } catch (KubernetesClientException ignored) {
            fresh = null;
          }
        }
        String lastReauth = fresh == null || fresh.getMetadata().getAnnotations() == null ? null
            : fresh.getMetadata().getAnnotations().get(TailscaleKeys.REAUTH_AT);
        if (fresh != null && Objects.equals(lastReauth, ann.get(TailscaleKeys.REAUTH_AT))) {
          target = fresh;
          continue;
        }
        try {
          controlPlane.get().deleteAuthKey(key.id());
        } catch (ControlPlaneException ignored) {
          LOG.warn("could not revoke unused auth key {}", key.id());
        }
        throw ProxyProvisioner.apiError("resetting the proxy Secret " + secret.getMetadata().getName(), e);
      }
    }
    // 3. Restart the proxy into a clean login, then remove the device it had (the Secret already says "fresh").
    try {
      client.pods().inNamespace(defaults.namespace()).withName(secret.getMetadata().getName()).delete();
    } catch (KubernetesClientException e) {
      LOG.debug("could not restart pod {}: {}", secret.getMetadata().getName(), e.getMessage());
    }
    if (current != null && !current.isEmpty()) {
      try {
        controlPlane.get().deleteDevice(current);
      } catch (ControlPlaneException e) {
        LOG.warn("could not delete the proxy's previous device {} (the orphan sweep will report it): {}", current,
            e.userMessage());
      }
    }
    LOG.info("re-registered proxy {}: {}", p.statefulSetName(), why);
    return Optional.of(new Outcome(Problem.warning("ProxyReauthenticated", why + "; the operator minted a fresh auth "
        + "key, reset the proxy's tailscaled state and restarted it" + (staleHolder == null ? ""
        : ", after deleting the stale device " + staleHolder.nodeId())), true));
  }

  /** The merge patch that resets {@code secret} to a fresh registration with {@code key}. */
  private String resetPatch(ProxySpec spec, Secret secret, AuthKey key, Instant now, int count, String forceToken) {
    ObjectNode patch = JSON.createObjectNode();
    ObjectNode meta = patch.putObject("metadata");
    meta.put("resourceVersion", secret.getMetadata().getResourceVersion());
    ObjectNode a = meta.putObject("annotations");
    a.put(TailscaleKeys.REAUTH_AT, now.toString());
    a.put(TailscaleKeys.REAUTH_COUNT, Integer.toString(count + 1));
    a.put(ProxyProvisioner.AUTH_KEY_ID_ANNOTATION, key.id());
    a.putNull(ProxyProvisioner.DEVICE_ID_ANNOTATION);
    a.putNull(TailscaleKeys.DEVICE_MISSING);
    if (forceToken != null) {
      a.put(FORCE_REAUTH_DONE, forceToken);
    }
    ObjectNode data = patch.putObject("data");
    ProxyConfigSecret.encode(ProxyConfigSecret.desiredData(spec, key.secret(), defaults)).forEach(data::put);
    if (secret.getData() != null) {
      for (String k : secret.getData().keySet()) {
        if (STATE_KEYS.contains(k) || k.startsWith("profile-")) {
          data.putNull(k);
        }
      }
    }
    return patch.toString();
  }

  private static Instant parse(String s) {
    try {
      return s == null ? null : Instant.parse(s);
    } catch (Exception e) {
      return null;
    }
  }
}
