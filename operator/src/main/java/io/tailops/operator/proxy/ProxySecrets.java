package io.tailops.operator.proxy;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.controlplane.AuthKey;
import io.tailops.operator.k8s.TailscaleKeys;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one writer of proxy Secrets' contents: the operator's config keys and its annotations, for provisioning, the
 * healer's reset and the device sweep's marks. The proxy (containerboot, tailscaled) writes the same Secrets, so a
 * write decided on an older copy conflicts now and then (409); every caller then goes through the same path: the
 * decision is made again on the current Secret, up to three times.
 *
 * <p>It never sets a key the proxy writes. The only keys of the proxy it touches are tailscaled's state keys, which a
 * re-registration removes ({@link #STATE_KEYS}).
 */
public final class ProxySecrets {
  /** On the config Secret: ID of the auth key minted for it, so that an unused key can be revoked. */
  public static final String AUTH_KEY_ID = "tailscale.com/auth-key-id";
  /** On the config Secret: when that auth key expires (RFC 3339); a key still unused then is replaced and revoked. */
  public static final String AUTH_KEY_EXPIRES = "tailscale.com/auth-key-expires";
  /** On the config Secret: the last device ID the proxy reported, kept across proxy restarts for cleanup. */
  public static final String DEVICE_ID = "tailscale.com/device-id";
  /** On the config Secret: the last {@code tailscale.com/force-reauth} value acted upon. */
  public static final String FORCE_REAUTH_DONE = "tailscale.com/force-reauth-done";
  /** The config file of a ProxyGroup replica (capability version 106, as the official operator writes it). */
  public static final String CAP_106 = "cap-106.hujson";
  /** The keys the operator writes; everything else in the Secret belongs to the proxy. */
  public static final Set<String> OPERATOR_KEYS = Set.of(TailscaledConfig.CAP_95, TailscaledConfig.CAP_107, CAP_106,
      ReplicaState.K8S_PROXY_CONFIG,
      ProxyStatefulSet.SERVE_CONFIG_KEY);
  /** tailscaled's state in the Secret; removing it makes the proxy's next start a fresh login. */
  public static final Set<String> STATE_KEYS = Set.of("_machinekey", "_profiles", "_current-profile",
      DeviceState.KEY_DEVICE_ID, DeviceState.KEY_DEVICE_FQDN, DeviceState.KEY_DEVICE_IPS,
      DeviceState.KEY_HTTPS_ENDPOINT);

  private static final Logger LOG = LoggerFactory.getLogger(ProxySecrets.class);
  private static final int ATTEMPTS = 3;

  private final ProxyWrites writes;

  public ProxySecrets(ProxyWrites writes) {
    this.writes = writes;
  }

  /**
   * The annotations that record a key just minted on the Secret that holds it: {@link #AUTH_KEY_ID} (the key sweep
   * leaves a key a Secret names alone) and, when the control plane said, {@link #AUTH_KEY_EXPIRES} (a key still unused
   * then is replaced and revoked). Proxies, the operator's own device and Recorders record their keys so.
   */
  public static Map<String, String> keyAnnotations(AuthKey key) {
    Map<String, String> a = new LinkedHashMap<>();
    a.put(AUTH_KEY_ID, key.id());
    if (key.expires() != null) {
      a.put(AUTH_KEY_EXPIRES, key.expires().toString());
    }
    return a;
  }

  /** Whether {@code key} is part of tailscaled's state (a {@code profile-…} key or one of {@link #STATE_KEYS}). */
  public static boolean isStateKey(String key) {
    return STATE_KEYS.contains(key) || key.startsWith("profile-");
  }

  /** Creates a new proxy Secret (its data holds only operator keys). */
  public Secret create(Secret fresh) {
    check(SecretChange.builder().data(ProxyConfigSecret.decode(fresh.getData())).build());
    return writes.create(fresh);
  }

  /**
   * Writes the change {@code decide} makes for the Secret, starting from {@code current}; on a conflict, decides again on
   * the live copy. Nothing is written when the decision is empty.
   *
   * @return the Secret after the write (or as it was when nothing was written); null when it no longer exists
   */
  public Secret change(Secret current, Function<Secret, SecretChange> decide) {
    Secret copy = current;
    for (int attempt = 1; ; attempt++) {
      SecretChange change = decide.apply(copy);
      if (change.isEmpty()) {
        return copy;
      }
      check(change);
      try {
        Secret updated = writes.patchSecret(copy.getMetadata().getName(), copy.getMetadata().getResourceVersion(),
            change);
        LOG.debug("updated proxy Secret {}: keys {}, removed {}, annotations {}, removed {}",
            copy.getMetadata().getName(), change.data().keySet(), change.removeData(), change.annotations().keySet(),
            change.removeAnnotations());
        return updated;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == ATTEMPTS) {
          throw e;
        }
        LOG.debug("proxy Secret {} changed under us (409); deciding again on the current copy",
            copy.getMetadata().getName());
        copy = writes.readSecret(copy.getMetadata().getName());
        if (copy == null) {
          return null;
        }
      }
    }
  }

  /**
   * Marks the Secret of a proxy whose device {@code deviceId} no longer exists in the tailnet (the device sweep); its
   * parent's reconcile confirms and re-registers the proxy. Nothing is written when the proxy reports another device
   * by now, or the mark is already there.
   */
  public boolean markDeviceMissing(Secret secret, String deviceId) {
    Secret after = change(secret, s -> {
      ReplicaState r = ReplicaState.of(s);
      if (!deviceId.equals(r.device().deviceId()) || deviceId.equals(r.deviceMissing())) {
        return SecretChange.NONE;
      }
      return SecretChange.builder().annotate(TailscaleKeys.DEVICE_MISSING, deviceId).build();
    });
    return after != null && deviceId.equals(ReplicaState.of(after).deviceMissing());
  }

  private static void check(SecretChange change) {
    for (String k : change.data().keySet()) {
      if (!OPERATOR_KEYS.contains(k)) {
        throw new IllegalArgumentException("the operator does not write key " + k + " of a proxy Secret");
      }
    }
    for (String k : change.removeData()) {
      if (!isStateKey(k) && !OPERATOR_KEYS.contains(k)) {
        throw new IllegalArgumentException("the operator does not remove key " + k + " of a proxy Secret");
      }
    }
  }
}
