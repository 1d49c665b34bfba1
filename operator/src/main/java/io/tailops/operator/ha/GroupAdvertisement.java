package io.tailops.operator.ha;

import io.fabric8.kubernetes.api.model.Secret;
import io.tailops.operator.proxy.ProxyConfigSecret;
import io.tailops.operator.proxy.ProxySecrets;
import io.tailops.operator.proxy.ReplicaState;
import io.tailops.operator.proxy.SecretChange;
import io.tailops.operator.proxygroup.ProxyGroupConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * Which Tailscale Services each replica of an ingress ProxyGroup advertises: {@code AdvertiseServices} in its config
 * Secret's {@code cap-106.hujson}, written through {@link ProxySecrets} (the one writer of proxy Secrets; the group's own
 * provisioning carries the list over). tailscaled applies a change on reload; the replica's state Secret then shows it
 * ({@link ReplicaState#advertisedServices()}).
 */
public final class GroupAdvertisement {
  private final ProxySecrets secrets;

  public GroupAdvertisement(ProxySecrets secrets) {
    this.secrets = secrets;
  }

  /** The writer of proxy Secrets this goes through. */
  ProxySecrets secrets() {
    return secrets;
  }

  /**
   * Makes each replica advertise {@code service} exactly when {@code advertise} holds for it.
   *
   * @return how many config Secrets were written
   */
  public int set(List<ReplicaState> replicas, String service, Predicate<ReplicaState> advertise) {
    int written = 0;
    for (ReplicaState r : replicas) {
      if (r.config() == null) {
        continue;
      }
      boolean want = advertise.test(r);
      Secret before = r.config();
      Secret after = secrets.change(before, current -> {
        String cfg = ProxyConfigSecret.value(current, ProxyGroupConfig.KEY);
        if (cfg.isEmpty()) {
          return SecretChange.NONE;
        }
        List<String> services = new ArrayList<>(ProxyGroupConfig.advertisedServices(cfg));
        boolean has = services.contains(service);
        if (has == want) {
          return SecretChange.NONE;
        }
        if (want) {
          services.add(service);
        } else {
          services.remove(service);
        }
        return SecretChange.builder().data(Map.of(ProxyGroupConfig.KEY,
            ProxyGroupConfig.withAdvertisedServices(cfg, services))).build();
      });
      if (after != null && after != before) {
        written++;
      }
    }
    return written;
  }
}
