package io.tailops.operator.proxy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * The devices this operator's proxies registered: what proves that a device is this operator's before it deletes it.
 * Carrying only the proxy tags proves nothing (another cluster's operator, or the official operator, in the same
 * tailnet mints devices with the same tags), so an orphaned device is deleted, and a stale device holding a proxy's
 * name replaced, only when it is registered here.
 *
 * <p>Kept in the ConfigMap {@value #CONFIG_MAP} in the operator namespace: device ID to {@code <proxy Secret> <first
 * seen>}. The device sweep is its one writer: it adds every device a proxy Secret reports or remembers (so a device
 * stays provably ours after its Secret is lost) and removes devices that no longer exist in the tailnet. Proxies
 * adopted from the official operator are registered by the first sweep; devices orphaned before this operator was
 * installed are never registered, so they are only reported.
 */
public final class DeviceRegistry {
  /** The registry ConfigMap. */
  public static final String CONFIG_MAP = "tailscale-operator-devices";

  private DeviceRegistry() {
  }

  /** The registry entry for a device found in proxy Secret {@code secretName} at {@code at}. */
  public static String entry(String secretName, Instant at) {
    return secretName + " " + at;
  }

  /** A new registry ConfigMap holding {@code entries}. */
  public static ConfigMap configMap(String namespace, Map<String, String> entries) {
    return new ConfigMapBuilder().withNewMetadata().withName(CONFIG_MAP).withNamespace(namespace)
        .addToLabels("app.kubernetes.io/name", "tailscale-operator")
        .addToLabels("app.kubernetes.io/component", "device-registry")
        .addToAnnotations("tailscale.com/description", "Devices registered by this operator's proxies: only these are "
            + "ever deleted as orphaned or stale. Written by the operator; do not edit.")
        .endMetadata().withData(new TreeMap<>(entries)).build();
  }
}
