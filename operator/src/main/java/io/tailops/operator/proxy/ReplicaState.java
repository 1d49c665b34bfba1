package io.tailops.operator.proxy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.Secret;
import io.tailops.operator.k8s.TailscaleKeys;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One proxy replica as its Secrets show it: what the proxy wrote ({@link DeviceState}) and what the operator wrote (its
 * config keys and annotations). A replica has a state Secret (the proxy's) and a config Secret (the operator's): the
 * same Secret for Service, Ingress and Connector proxies, two Secrets ({@code <pg>-<i>} and {@code <pg>-<i>-config},
 * labelled {@code tailscale.com/secret-type}) for a ProxyGroup's replicas. The only place that reads a proxy Secret's
 * contents: the pipeline, the healer, cleanup, the device sweep, {@code doctor} and the status page all go through it.
 *
 * <p>The operator keeps its bookkeeping (the remembered device, the minted key, self-healing) on the config Secret,
 * which only the operator writes; the device sweep marks a missing device on the state Secret that reports it.
 *
 * @param secret the state Secret (the pod's Secret; the config Secret too for single-Secret replicas); null for a
 *     replica whose state Secret does not exist (yet)
 * @param config the config Secret (equal to {@code secret} for single-Secret replicas); null when it does not exist
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
public record ReplicaState(Secret secret, Secret config, DeviceState device, String rememberedDeviceId,
    String authKeyId, boolean authKeyPending, String configuredHostname, String configuredServeHost,
    Instant reauthAt, int reauthCount, String forceReauthDone, String deviceMissing) {

  /** Label of a ProxyGroup's Secrets: {@code config} or {@code state} (official). */
  public static final String LABEL_SECRET_TYPE = "tailscale.com/secret-type";
  public static final String SECRET_TYPE_CONFIG = "config";
  public static final String SECRET_TYPE_STATE = "state";
  /** Suffix of a separate config Secret's name ({@code <pg>-<i>-config}). */
  public static final String CONFIG_SUFFIX = "-config";
  /** The config file of a k8s-proxy replica (kube-apiserver ProxyGroups), read where no tailscaled file is. */
  public static final String K8S_PROXY_CONFIG = "config.hujson";

  private static final ObjectMapper JSON = new ObjectMapper();

  /** A replica whose config and state share one Secret. */
  public static ReplicaState of(Secret secret) {
    return of(secret, secret);
  }

  /**
   * A replica with a state Secret and a config Secret (either may be missing, not both; they may be the same).
   */
  public static ReplicaState of(Secret state, Secret config) {
    Map<String, String> a = annotations(config);
    Map<String, String> stateAnnotations = annotations(state);
    String latest = latestConfig(config);
    boolean keyPending = false;
    if (config != null && config.getData() != null) {
      for (String k : config.getData().keySet()) {
        keyPending |= (capabilityOf(k) >= 0 || K8S_PROXY_CONFIG.equals(k))
            && TailscaledConfig.authKeyOf(ProxyConfigSecret.value(config, k)) != null;
      }
    }
    int count;
    try {
      count = Integer.parseInt(a.getOrDefault(TailscaleKeys.REAUTH_COUNT, "0"));
    } catch (NumberFormatException e) {
      count = 0;
    }
    return new ReplicaState(state, config, DeviceState.from(state), a.getOrDefault(ProxySecrets.DEVICE_ID, ""),
        a.get(ProxySecrets.AUTH_KEY_ID), keyPending, TailscaledConfig.hostnameOf(latest),
        plainHttpHost(ProxyConfigSecret.value(config, ProxyStatefulSet.SERVE_CONFIG_KEY)),
        instant(a.get(TailscaleKeys.REAUTH_AT)), count, a.get(ProxySecrets.FORCE_REAUTH_DONE),
        stateAnnotations.get(TailscaleKeys.DEVICE_MISSING));
  }

  /**
   * The replicas a set of one proxy's (or several proxies') Secrets make: a config Secret labelled
   * {@code secret-type=config} and named {@code <x>-config} is paired with the Secret {@code <x>}; every other Secret
   * is a replica of its own (its config and state in one). Replicas are in the order of their state Secrets.
   */
  public static List<ReplicaState> pair(Collection<Secret> secrets) {
    Map<String, Secret> byName = new LinkedHashMap<>();
    secrets.forEach(s -> byName.put(s.getMetadata().getName(), s));
    Map<String, Secret> configOf = new LinkedHashMap<>();
    for (Secret s : secrets) {
      if (isSeparateConfig(s)) {
        String n = s.getMetadata().getName();
        configOf.put(n.substring(0, n.length() - CONFIG_SUFFIX.length()), s);
      }
    }
    List<ReplicaState> out = new ArrayList<>();
    for (Secret s : secrets) {
      if (isSeparateConfig(s)) {
        String n = s.getMetadata().getName();
        if (!byName.containsKey(n.substring(0, n.length() - CONFIG_SUFFIX.length()))) {
          out.add(of(null, s)); // its state Secret is gone (or not created yet)
        }
        continue;
      }
      Secret cfg = configOf.get(s.getMetadata().getName());
      out.add(isState(s) ? of(s, cfg) : of(s));
    }
    return out;
  }

  /** Whether {@code s} is a separate config Secret ({@code secret-type=config}, {@code <x>-config}). */
  public static boolean isSeparateConfig(Secret s) {
    Map<String, String> l = s.getMetadata().getLabels();
    return l != null && SECRET_TYPE_CONFIG.equals(l.get(LABEL_SECRET_TYPE))
        && s.getMetadata().getName().endsWith(CONFIG_SUFFIX);
  }

  private static boolean isState(Secret s) {
    Map<String, String> l = s.getMetadata().getLabels();
    return l != null && SECRET_TYPE_STATE.equals(l.get(LABEL_SECRET_TYPE));
  }

  /** The config file with the highest capability version ({@code cap-<N>.hujson}), or "". */
  static String latestConfig(Secret config) {
    if (config == null || config.getData() == null) {
      return "";
    }
    String best = null;
    int bestCap = -1;
    for (String k : config.getData().keySet()) {
      int cap = capabilityOf(k);
      if (cap > bestCap) {
        bestCap = cap;
        best = k;
      }
    }
    if (best == null) {
      String k8sProxy = ProxyConfigSecret.value(config, K8S_PROXY_CONFIG);
      return k8sProxy == null ? "" : k8sProxy;
    }
    return ProxyConfigSecret.value(config, best);
  }

  /** N of a config file key {@code cap-<N>.hujson}, or -1. */
  static int capabilityOf(String key) {
    if (!key.startsWith("cap-") || !key.endsWith(".hujson")) {
      return -1;
    }
    try {
      return Integer.parseInt(key.substring(4, key.length() - ".hujson".length()));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static Map<String, String> annotations(Secret s) {
    return s == null || s.getMetadata().getAnnotations() == null ? Map.of() : s.getMetadata().getAnnotations();
  }

  /** The name of the state Secret (the replica's pod), or of the config Secret when there is no state Secret yet. */
  public String secretName() {
    if (secret != null) {
      return secret.getMetadata().getName();
    }
    String n = config.getMetadata().getName();
    return n.endsWith(CONFIG_SUFFIX) ? n.substring(0, n.length() - CONFIG_SUFFIX.length()) : n;
  }

  /** Whether the replica's config and state are one Secret. */
  public boolean singleSecret() {
    return secret == config;
  }

  /** The device the proxy reports, else the one the operator remembers; "" when neither is known. */
  public String knownDeviceId() {
    return device.hasDevice() ? device.deviceId() : rememberedDeviceId;
  }

  /** The auth key in the config (the one to revoke when the proxy never used it), or null. */
  public String pendingAuthKey() {
    String k = TailscaledConfig.authKeyOf(latestConfig(config));
    return k != null ? k : TailscaledConfig.authKeyOf(ProxyConfigSecret.value(config, TailscaledConfig.CAP_95));
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

  /**
   * The Tailscale Services the replica's tailscaled advertises now: {@code AdvertiseServices} of its current profile's
   * prefs in the state Secret ({@code _current-profile} names the key), as the official operator reads them; empty
   * before it logged in.
   */
  public List<String> advertisedServices() {
    List<String> out = new ArrayList<>();
    String profile = ProxyConfigSecret.value(secret, "_current-profile");
    if (profile.isEmpty()) {
      return out;
    }
    String prefs = ProxyConfigSecret.value(secret, profile);
    if (prefs.isEmpty()) {
      return out;
    }
    try {
      JSON.readTree(prefs).path("AdvertiseServices").forEach(n -> out.add(n.asText()));
    } catch (Exception e) {
      return out;
    }
    return out;
  }

  /**
   * What the replica's containerboot reports about the HA Services it routes (state Secret key
   * {@code ingress-config.json}: {@code {"configs":{...},"podIPv4":"…","podIPv6":"…"}}), or null before it did.
   */
  public JsonNode ingressServicesStatus() {
    String raw = ProxyConfigSecret.value(secret, "ingress-config.json");
    if (raw.isEmpty()) {
      return null;
    }
    try {
      return JSON.readTree(raw);
    } catch (Exception e) {
      return null;
    }
  }

  /** Every device ID the given proxy Secrets report or remember. */
  public static Set<String> knownDeviceIds(Collection<Secret> secrets) {
    Set<String> ids = new HashSet<>();
    for (ReplicaState r : pair(secrets)) {
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
