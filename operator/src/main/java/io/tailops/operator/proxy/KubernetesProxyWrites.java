package io.tailops.operator.proxy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.tailops.operator.k8s.TailscaleKeys;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link ProxyWrites} against the API server, telling {@code store} (when given) about each write. */
public final class KubernetesProxyWrites implements ProxyWrites {
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesProxyWrites.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final KubernetesClient client;
  private final String namespace;
  private final ProxyObjectStore store;

  /** @param store the informer caches to tell about each write, or null (writers outside a reconcile) */
  public KubernetesProxyWrites(KubernetesClient client, String namespace, ProxyObjectStore store) {
    this.client = client;
    this.namespace = namespace;
    this.store = store;
  }

  @Override
  public <T extends HasMetadata> T create(T obj) {
    T created = client.resource(obj).create();
    if (store != null) {
      store.created(created);
    }
    return created;
  }

  @Override
  public <T extends HasMetadata> T update(T obj) {
    T updated = client.resource(obj).update();
    if (store != null) {
      store.updated(updated, obj);
    }
    return updated;
  }

  @Override
  public <T extends HasMetadata> T setFields(T live, Map<String, Object> fields) {
    ArrayNode ops = JSON.createArrayNode();
    fields.forEach((pointer, value) -> ops.addObject().put("op", "add").put("path", pointer)
        .set("value", Drift.tree(value)));
    T updated = client.resource(live).patch(PatchContext.of(PatchType.JSON), ops.toString());
    if (store != null) {
      store.updated(updated, live);
    }
    return updated;
  }

  @Override
  public void delete(HasMetadata obj, boolean foreground) {
    try {
      if (foreground) {
        client.resource(obj).withPropagationPolicy(DeletionPropagation.FOREGROUND).delete();
      } else {
        client.resource(obj).withGracePeriod(0).delete();
      }
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
    }
  }

  @Override
  public Secret patchSecret(String name, String resourceVersion, SecretChange change) {
    ObjectNode patch = JSON.createObjectNode();
    ObjectNode meta = patch.putObject("metadata");
    meta.put("resourceVersion", resourceVersion);
    if (!change.annotations().isEmpty() || !change.removeAnnotations().isEmpty()) {
      ObjectNode a = meta.putObject("annotations");
      change.annotations().forEach(a::put);
      change.removeAnnotations().forEach(a::putNull);
    }
    if (!change.data().isEmpty() || !change.removeData().isEmpty()) {
      ObjectNode d = patch.putObject("data");
      ProxyConfigSecret.encode(change.data()).forEach(d::put);
      change.removeData().forEach(d::putNull);
    }
    Secret previous = store == null ? null : store.secret(name).orElse(null);
    Secret updated = client.secrets().inNamespace(namespace).withName(name)
        .patch(PatchContext.of(PatchType.JSON_MERGE), patch.toString());
    if (previous != null) {
      store.updated(updated, previous);
    }
    return updated;
  }

  @Override
  public Secret readSecret(String name) {
    return client.secrets().inNamespace(namespace).withName(name).get();
  }

  @Override
  public <T extends HasMetadata> List<T> current(Class<T> kind, ParentRef parent) {
    return client.resources(kind).inNamespace(namespace).withLabels(ChildLabels.of(parent)).list().getItems();
  }

  @Override
  public List<Secret> managedSecrets() {
    return client.secrets().inNamespace(namespace).withLabel(TailscaleKeys.LABEL_MANAGED, "true").list().getItems();
  }

  @Override
  public void restartPod(String name) {
    try {
      client.pods().inNamespace(namespace).withName(name).delete();
    } catch (KubernetesClientException e) {
      LOG.debug("could not restart pod {}: {}", name, e.getMessage());
    }
  }

  @Override
  public boolean serviceMonitorExists(String name) {
    return client.genericKubernetesResources(ProxyMetrics.SERVICE_MONITOR_API, "ServiceMonitor").inNamespace(namespace)
        .withName(name).get() != null;
  }

  @Override
  public void applyServiceMonitor(GenericKubernetesResource monitor) {
    client.genericKubernetesResources(ProxyMetrics.SERVICE_MONITOR_API, "ServiceMonitor").inNamespace(namespace)
        .resource(monitor).createOr(r -> r.update());
  }

  @Override
  public void deleteServiceMonitor(String name) {
    client.genericKubernetesResources(ProxyMetrics.SERVICE_MONITOR_API, "ServiceMonitor").inNamespace(namespace)
        .withName(name).delete();
  }
}
