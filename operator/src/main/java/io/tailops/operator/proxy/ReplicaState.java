package io.tailops.operator.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Secret;
import io.tailops.operator.k8s.TailscaleKeys;
import java.time.Instant;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * One proxy replica as its config/state Secret shows it: what the proxy wrote ({@link DeviceState}) and what the
 * operator wrote (its config keys and annotations). The only place that reads a proxy Secret's contents: the pipeline,
 * the healer, cleanup, the device sweep, {@code doctor} and the status page all go through it.
 *
 * @param secret the Secret it was read from
 * @param device what the proxy reported
 * @param rememberedDeviceId the last device ID the operator recorded ({@link ProxySecrets#DEVICE_ID}), or ""
 * @param authKeyId the ID of the last auth key minted for this Secret, or null
 * @param authKeyPending whether the config still carries an auth key (the proxy has not logged in with it yet)
 * @param configuredHostname the {@code Hostname} of the config the operator wrote, or null
 * @param configuredServeHost the MagicDNS name a plain-HTTP serve config was written for, or null
 * @param reauthAt when self-healing last re-registered the proxy, or null
 * @param reauthCount how often it did
 * @param forceReauthDone the last {@code tailscale.com/force-reauth} value acted upon, or null
 * @param deviceMissing the device ID the device sweep found gone from the tailnet, or null
 */
public record ReplicaState(Secret secret, DeviceState device, String rememberedDeviceId, String authKeyId,
    boolean authKeyPending, String configuredHostname, String configuredServeHost, Instant reauthAt, int reauthCount,
    String forceReauthDone, String deviceMissing) {

  private static final ObjectMapper JSON = new ObjectMapper();

  public static ReplicaState of(Secret secret) {
    Map<String, String> a = secret.getMetadata().getAnnotations() == null ? Map.of()
        : secret.getMetadata().getAnnotations();
    String cap107 = ProxyConfigSecret.value(secret, TailscaledConfig.CAP_107);
    String cap95 = ProxyConfigSecret.value(secret, TailscaledConfig.CAP_95);
    boolean keyPending = TailscaledConfig.authKeyOf(cap107) != null || TailscaledConfig.authKeyOf(cap95) != null;
    int count;
    try {
      count = Integer.parseInt(a.getOrDefault(TailscaleKeys.REAUTH_COUNT, "0"));
    } catch (NumberFormatException e) {
      count = 0;
    }
    return new ReplicaState(secret, DeviceState.from(secret), a.getOrDefault(ProxySecrets.DEVICE_ID, ""),
        a.get(ProxySecrets.AUTH_KEY_ID), keyPending, TailscaledConfig.hostnameOf(cap107),
        plainHttpHost(ProxyConfigSecret.value(secret, ProxyStatefulSet.SERVE_CONFIG_KEY)),
        instant(a.get(TailscaleKeys.REAUTH_AT)), count, a.get(ProxySecrets.FORCE_REAUTH_DONE),
        a.get(TailscaleKeys.DEVICE_MISSING));
  }

  public String secretName() {
    return secret.getMetadata().getName();
  }

  /** The device the proxy reports, else the one the operator remembers; "" when neither is known. */
  public String knownDeviceId() {
    return device.hasDevice() ? device.deviceId() : rememberedDeviceId;
  }

  /** The auth key in the config (the one to revoke when the proxy never used it), or null. */
  public String pendingAuthKey() {
    String k = TailscaledConfig.authKeyOf(ProxyConfigSecret.value(secret, TailscaledConfig.CAP_107));
    return k != null ? k : TailscaledConfig.authKeyOf(ProxyConfigSecret.value(secret, TailscaledConfig.CAP_95));
  }

  /** When the last auth key minted for this Secret expires ({@link ProxySecrets#AUTH_KEY_EXPIRES}), or null. */
  public Instant authKeyExpires() {
    return secret.getMetadata().getAnnotations() == null ? null
        : instant(secret.getMetadata().getAnnotations().get(ProxySecrets.AUTH_KEY_EXPIRES));
  }

  /** The MagicDNS name to use for this replica: the reported one, else the one the serve config was written for. */
  public String knownFqdn() {
    return !device.fqdn().isEmpty() ? device.fqdn() : configuredServeHost;
  }

  /** Every device ID the given proxy Secrets report or remember. */
  public static Set<String> knownDeviceIds(Collection<Secret> secrets) {
    Set<String> ids = new HashSet<>();
    for (Secret s : secrets) {
      ReplicaState r = of(s);
      if (r.device().hasDevice()) {
        ids.add(r.device().deviceId());
      }
      if (!r.rememberedDeviceId().isEmpty()) {
        ids.add(r.rememberedDeviceId());
      }
    }
    return ids;
  }

  /** The host of a plain-HTTP serve config ({@code "Web": {"<fqdn>:80": …}}), or null. */
  static String plainHttpHost(String serveConfig) {
    if (serveConfig == null || serveConfig.isEmpty()) {
      return null;
    }
    try {
      JsonNode web = JSON.readTree(serveConfig).get("Web");
      if (web == null) {
        return null;
      }
      for (Iterator<String> it = web.fieldNames(); it.hasNext(); ) {
        String hostPort = it.next();
        if (hostPort.endsWith(":80") && !hostPort.startsWith("${")) {
          return hostPort.substring(0, hostPort.length() - 3);
        }
      }
      return null;
    } catch (Exception e) {
      return null;
    }
  }

  private static Instant instant(String s) {
    try {
      return s == null ? null : Instant.parse(s);
    } catch (RuntimeException e) {
      return null;
    }
  }
}
