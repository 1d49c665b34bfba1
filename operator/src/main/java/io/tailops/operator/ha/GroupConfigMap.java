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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one writer of what an ingress ProxyGroup's replicas serve, in its ConfigMap {@code <pg>-ingress-config} (the
 * group creates the ConfigMap, its replicas mount it at {@code /etc/proxies}): {@code serve-config.json} (a serve
 * config whose {@code Services} hold one entry per HA Ingress) and {@code ingress-config.json} (one ClusterIP ↔ Tailscale
 * Service IP mapping per HA Service), as {@code binaryData} like the official operator. Each key holds one JSON object
 * whose entries are keyed by Tailscale Service name and rendered as Go's encoder would (keys sorted). A write is guarded
 * by the ConfigMap's resourceVersion and decided again on the live copy after a conflict. The entries that several
 * reconciles set at once go out in one write ({@link CoalescedWrites}): a group with N Services costs about N /
 * (reconciler threads) rewrites of its document, not N.
 */
public final class GroupConfigMap {
  private static final Logger LOG = LoggerFactory.getLogger(GroupConfigMap.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int ATTEMPTS = 3;

  private final KubernetesClient client;
  private final String namespace;
  private final Function<String, Optional<ConfigMap>> cache;
  private final Function<String, String> nameOf;
  /** Per ConfigMap and key: the entries set at once, written together. */
  private final Map<String, CoalescedWrites<Change>> batches = new ConcurrentHashMap<>();
  /** Per ConfigMap: our last write's result, newer than the informer's copy until its watch event arrives. */
  private final Map<String, ConfigMap> lastWritten = new ConcurrentHashMap<>();

  /** One caller's change: set {@code service}'s entry to {@code value}, or remove it ({@code value} null). */
  private record Change(String service, JsonNode value) {}

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
    String name = nameOf.apply(pg);
    if (current(name) == null) {
      return false;
    }
    batches.computeIfAbsent(name + "/" + key, k -> new CoalescedWrites<>())
        .submit(new Change(service, value), changes -> write(name, key, changes));
    return true;
  }

  private void write(String name, String key, List<Change> changes) {
    ConfigMap cm = current(name);
    for (int attempt = 1; ; attempt++) {
      if (cm == null) {
        throw new IllegalStateException("ConfigMap " + namespace + "/" + name + " was deleted");
      }
      TreeMap<String, JsonNode> before = entries(cm, key);
      TreeMap<String, JsonNode> after = new TreeMap<>(before);
      for (Change c : changes) {
        if (c.value() == null) {
          after.remove(c.service());
        } else {
          after.put(c.service(), c.value());
        }
      }
      if (after.equals(before)) {
        return;
      }
      ConfigMap updated = new ConfigMapBuilder(cm).addToBinaryData(key, Base64.getEncoder().encodeToString(
          render(key, after).getBytes(StandardCharsets.UTF_8))).build();
      try {
        lastWritten.put(name, client.configMaps().inNamespace(namespace).resource(updated).update());
        LOG.info("updated {} of ConfigMap {}: {} entries ({} changes in this write)", key, name, after.size(),
            changes.size());
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == ATTEMPTS) {
          throw e;
        }
        cm = client.configMaps().inNamespace(namespace).withName(name).get();
      }
    }
  }

  /** The informer's copy of the ConfigMap, or our own last write of it if that is newer; null if it does not exist. */
  private ConfigMap current(String name) {
    ConfigMap cached = cache.apply(name).orElse(null);
    ConfigMap written = lastWritten.get(name);
    if (cached == null || written == null) {
      if (cached == null) {
        lastWritten.remove(name); // deleted (or not there yet): a later one starts afresh
      }
      return cached;
    }
    return version(written) > version(cached) ? written : cached;
  }

  private static long version(ConfigMap cm) {
    try {
      return Long.parseLong(cm.getMetadata().getResourceVersion());
    } catch (NumberFormatException | NullPointerException e) {
      return -1;
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
