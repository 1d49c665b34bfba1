package io.tailops.operator.proxy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The {@link DeviceRegistry} in the ConfigMap {@value DeviceRegistry#CONFIG_MAP} of the operator namespace: read with a
 * GET, written with JSON merge patches of {@code data} (created on the first write).
 */
public final class ConfigMapDeviceStore implements DeviceRegistry.Store {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final KubernetesClient client;
  private final String namespace;

  public ConfigMapDeviceStore(KubernetesClient client, String namespace) {
    this.client = client;
    this.namespace = namespace;
  }

  @Override
  public Map<String, String> read() {
    ConfigMap cm = client.configMaps().inNamespace(namespace).withName(DeviceRegistry.CONFIG_MAP).get();
    return cm == null || cm.getData() == null ? Map.of() : cm.getData();
  }

  @Override
  public Map<String, String> patch(Map<String, String> set, Set<String> remove) {
    ObjectNode body = JSON.createObjectNode();
    ObjectNode data = body.putObject("data");
    set.forEach(data::put);
    remove.forEach(data::putNull);
    for (int attempt = 0; ; attempt++) {
      try {
        ConfigMap patched = client.configMaps().inNamespace(namespace).withName(DeviceRegistry.CONFIG_MAP)
            .patch(PatchContext.of(PatchType.JSON_MERGE), body.toString());
        return patched.getData() == null ? Map.of() : patched.getData();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 404 || attempt > 0) {
          throw e;
        }
      }
      try {
        ConfigMap created = client.configMaps().inNamespace(namespace).resource(new ConfigMapBuilder()
            .withNewMetadata().withName(DeviceRegistry.CONFIG_MAP).withNamespace(namespace)
            .addToLabels("app.kubernetes.io/name", "tailscale-operator")
            .addToLabels("app.kubernetes.io/component", "device-registry")
            .addToAnnotations("tailscale.com/description", "Devices the proxies of this operator registered "
                + "(device ID: proxy Secret, parent, hostname). The operator deletes a device listed here when its "
                + "proxy goes; do not edit.")
            .endMetadata().withData(new LinkedHashMap<>(set)).build()).create();
        return created.getData() == null ? Map.of() : created.getData();
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409) {
          throw e;
        }
        // created meanwhile by another writer: patch it
      }
    }
  }
}
