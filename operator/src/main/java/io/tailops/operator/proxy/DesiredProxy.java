package io.tailops.operator.proxy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Every object one proxy consists of, as the operator wants it: what provisioning creates and keeps equal to this.
 *
 * @param name the proxy's name (StatefulSet, headless Service; replica Secrets are {@code <name>-<i>})
 * @param headlessService the headless Service, or null for proxies without one
 * @param replicas one entry per replica Secret, in ordinal order
 * @param statefulSet the StatefulSet, carrying the hash of this whole desired proxy
 * @param metricsService the metrics Service, or null when metrics are off
 * @param owned further objects of the proxy (a ProxyGroup's ServiceAccount, Role, RoleBinding and ConfigMaps), each
 *     with the fields the operator owns in it
 * @param access the proxy pods' own ServiceAccount, Role and RoleBinding (only their own state Secrets), or null for
 *     proxies whose pods run as an account among their owned objects (ProxyGroups)
 */
public record DesiredProxy(String name, Service headlessService, List<Replica> replicas, StatefulSet statefulSet,
    Service metricsService, List<Owned> owned, ProxyAccess access) {

  public DesiredProxy {
    replicas = List.copyOf(replicas);
    owned = List.copyOf(owned);
  }

  /** A proxy without further objects (the {@link StandardProxy} shape), with its pods' own access objects. */
  public DesiredProxy(String name, Service headlessService, List<Replica> replicas, StatefulSet statefulSet,
      Service metricsService, ProxyAccess access) {
    this(name, headlessService, replicas, statefulSet, metricsService, List.of(), access);
  }

  /**
   * The operator's keys of a replica's config Secret.
   */
  @FunctionalInterface
  public interface ConfigKeys {
    /**
     * @param authKey the auth key to keep in the config, or null
     * @param live the config Secret as it is now (null when it does not exist yet): keys maintained by other writers
     *     of the operator (a ProxyGroup's advertised Tailscale Services) are carried over from it
     */
    Map<String, String> of(String authKey, Secret live);
  }

  /**
   * One replica's Secrets: its config Secret (the operator's keys and bookkeeping annotations) and its state Secret
   * (what the proxy writes), which are one and the same Secret for the {@link StandardProxy} shape.
   *
   * @param secretName the config Secret's name ({@code <name>-<ordinal>}, {@code <pg>-<ordinal>-config})
   * @param hostname the hostname it asks for
   * @param operatorKeys the operator's keys for a given auth key and live config Secret
   * @param configTemplate metadata (name, labels, owner references) of the config Secret to create, or null for the
   *     standard one ({@link ProxyConfigSecret#build})
   * @param stateTemplate metadata of a separate state Secret, created empty before the proxy starts, or null when the
   *     state lives in the config Secret
   */
  public record Replica(int ordinal, String secretName, String hostname, ConfigKeys operatorKeys,
      Secret configTemplate, Secret stateTemplate) {

    /** A replica whose config and state share one Secret of the standard shape. */
    public Replica(int ordinal, String secretName, String hostname,
        Function<String, Map<String, String>> operatorKeys) {
      this(ordinal, secretName, hostname, (key, live) -> operatorKeys.apply(key), null, null);
    }

    /** The name of the Secret the proxy writes its state to (its pod's name). */
    public String stateSecretName() {
      return stateTemplate == null ? secretName : stateTemplate.getMetadata().getName();
    }
  }

  /**
   * A further object of the proxy and the fields of it the operator owns, as JSON pointers ({@code /rules},
   * {@code /metadata/labels}, {@code /binaryData/hep-pings}): those are created with the object, compared with the
   * live object on every reconcile (desired ⊆ live, as {@link Drift} compares) and put back when they differ; every
   * other field (what other writers of the operator or the API server add) is left alone.
   */
  public record Owned(HasMetadata object, List<String> fields) {
    public Owned {
      fields = List.copyOf(fields);
    }

    /** {@code Kind/name}, how objects are matched with their live counterparts. */
    public String key() {
      return object.getKind() + "/" + object.getMetadata().getName();
    }
  }

  /** The hash the StatefulSet carries: what the operator last enforced for this proxy. */
  public String hash() {
    return ProxyStatefulSet.hashOf(statefulSet);
  }
}
