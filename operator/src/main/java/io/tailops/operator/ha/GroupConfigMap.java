package io.tailops.operator.ha;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.operator.proxygroup.ProxyGroupNames;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one writer of what an ingress ProxyGroup's replicas serve, in its ConfigMap {@code <pg>-ingress-config} (the
 * group creates the ConfigMap, its replicas mount it at {@code /etc/proxies}): {@code serve-config.json} (a serve
 * config whose {@code Services} hold one entry per HA Ingress) and {@code ingress-config.json} (one ClusterIP ↔ Tailscale
 * Service IP mapping per HA Service), as {@code binaryData} like the official operator. Each key holds one JSON object
 * whose entries are keyed by Tailscale Service name and rendered as Go's encoder would (keys sorted). A write is guarded
 * by the ConfigMap's resourceVersion and decided again on the live copy after a conflict.
 */
public final class GroupConfigMap {
  private static final Logger LOG = LoggerFactory.getLogger(GroupConfigMap.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ATTEMPTS = 3;

  private final KubernetesClient client;
  private final String namespace;
  private final Function<String, Optional<ConfigMap>> cache;
  private final Function<String, String> nameOf;

  /** @param cache the ConfigMaps of the operator namespace by name (an informer) */
  public GroupConfigMap(KubernetesClient client, String namespace, Function<String, Optional<ConfigMap>> cache) {
    this(client, namespace, cache, ProxyGroupNames::ingressConfigMapName);
  }

  /**
   * @param nameOf the ConfigMap of a group ({@code <pg>-ingress-config}, or {@code <pg>-egress-config} for the
   *     {@code egress-services} of an egress group)
   */
  public GroupConfigMap(KubernetesClient client, String namespace, Function<String, Optional<ConfigMap>> cache,
      Function<String, String> nameOf) {
    this.client = client;
    this.namespace = namespace;
    this.cache = cache;
    this.nameOf = nameOf;
  }

  /** The entries under {@code key} of the group's ConfigMap by service name; empty when it does not exist (yet). */
  public Optional<Map<String, JsonNode>> entries(String pg, String key) {
    return cache.apply(nameOf.apply(pg)).map(cm -> entries(cm, key));
  }

  /** The entry of {@code service}, if the group's ConfigMap has one. */
  public Optional<JsonNode> entry(String pg, String key, String service) {
    return entries(pg, key).map(m -> m.get(service));
  }

  /**
   * Sets ({@code value} non-null) or removes the entry of {@code service} under {@code key}; writes only when that
   * changes the document.
   *
   * @return false when the group's ConfigMap does not exist (the group has not been provisioned yet)
   */
  public boolean set(String pg, String key, String service, JsonNode value) {
    return update(pg, key, entries -> {
      if (value == null) {
        entries.remove(service);
      } else {
        entries.put(service, value);
      }
      return entries;
    });
  }

  private boolean update(String pg, String key, UnaryOperator<TreeMap<String, JsonNode>> change) {
    String name = nameOf.apply(pg);
    ConfigMap cm = cache.apply(name).orElse(null);
    for (int attempt = 1; ; attempt++) {
      if (cm == null) {
        return false;
      }
      TreeMap<String, JsonNode> before = entries(cm, key);
      TreeMap<String, JsonNode> after = change.apply(new TreeMap<>(before));
      if (after.equals(before)) {
        return true;
      }
      ConfigMap updated = new ConfigMapBuilder(cm).addToBinaryData(key, Base64.getEncoder().encodeToString(
          render(key, after).getBytes(StandardCharsets.UTF_8))).build();
      try {
        client.configMaps().inNamespace(namespace).resource(updated).update();
        LOG.info("updated {} of ConfigMap {}: {} entries", key, name, after.size());
        return true;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == ATTEMPTS) {
          throw e;
        }
        cm = client.configMaps().inNamespace(namespace).withName(name).get();
      }
    }
  }

  static TreeMap<String, JsonNode> entries(ConfigMap cm, String key) {
    TreeMap<String, JsonNode> out = new TreeMap<>();
    String b64 = cm.getBinaryData() == null ? null : cm.getBinaryData().get(key);
    if (b64 == null || b64.isEmpty()) {
      return out;
    }
    try {
      JsonNode doc = JSON.readTree(Base64.getDecoder().decode(b64));
      JsonNode entries = ProxyGroupNames.KEY_SERVE_CONFIG.equals(key) ? doc.path("Services") : doc;
      for (Iterator<Map.Entry<String, JsonNode>> it = entries.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        out.put(e.getKey(), e.getValue());
      }
    } catch (Exception e) {
      LOG.warn("ConfigMap {} key {} is not JSON; it will be rewritten", cm.getMetadata().getName(), key);
    }
    return out;
  }

  /** The document: {@code {"Services":{...}}} for the serve config ({@code {}} when empty), the map itself else. */
  static String render(String key, TreeMap<String, JsonNode> entries) {
    ObjectNode map = JSON.createObjectNode();
    entries.forEach(map::set);
    if (ProxyGroupNames.KEY_SERVE_CONFIG.equals(key)) {
      ObjectNode doc = JSON.createObjectNode();
      if (!entries.isEmpty()) {
        doc.set("Services", map);
      }
      return doc.toString();
    }
    return map.toString();
  }
}
