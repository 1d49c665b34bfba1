package io.tailops.operator.pipeline;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.tailops.operator.proxy.ChildLabels;
import io.tailops.operator.proxy.Drift;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProxyConfigSecret;
import io.tailops.operator.proxy.ProxyObjectStore;
import io.tailops.operator.proxy.ProxyWrites;
import io.tailops.operator.proxy.SecretChange;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The operator namespace in memory, as the pipeline sees it: the cache it reads and the API server it writes to, with
 * resourceVersions (409 on a stale update), and a log of every write.
 */
final class InMemoryCluster implements ProxyObjectStore, ProxyWrites {
  private final String namespace;
  private final Map<String, HasMetadata> objects = new LinkedHashMap<>();
  final List<String> writes = new ArrayList<>();
  final List<String> serviceMonitors = new ArrayList<>();
  private long version = 100;

  InMemoryCluster(String namespace) {
    this.namespace = namespace;
  }

  private static String key(String kind, String name) {
    return kind + "/" + name;
  }

  @SuppressWarnings("unchecked")
  static <T extends HasMetadata> T copy(T obj) {
    return obj == null ? null : (T) Serialization.unmarshal(Serialization.asJson(obj), obj.getClass());
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.values().stream().filter(type::isInstance).map(type::cast).map(InMemoryCluster::copy).toList();
  }

  <T extends HasMetadata> T get(Class<T> type, String name) {
    return all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).findFirst().orElse(null);
  }

  /** Replaces an object as somebody else would (a hand edit, the proxy, a controller): bumps its resourceVersion. */
  <T extends HasMetadata> T edit(T obj) {
    T stored = copy(obj);
    stored.getMetadata().setResourceVersion(Long.toString(++version));
    objects.put(key(stored.getKind(), stored.getMetadata().getName()), stored);
    return copy(stored);
  }

  int writeCount() {
    return writes.size();
  }

  private <T extends HasMetadata> List<T> children(Class<T> type, ParentRef parent) {
    return all(type).stream().filter(o -> ChildLabels.belongsTo(o.getMetadata().getLabels(), parent)).toList();
  }

  @Override
  public List<StatefulSet> statefulSets(ParentRef parent) {
    return children(StatefulSet.class, parent);
  }

  @Override
  public List<Secret> secrets(ParentRef parent) {
    return children(Secret.class, parent);
  }

  @Override
  public List<Service> headlessServices(ParentRef parent) {
    return services(parent).stream().filter(s -> "None".equals(s.getSpec().getClusterIP())).toList();
  }

  @Override
  public List<Service> services(ParentRef parent) {
    return children(Service.class, parent);
  }

  @Override
  public <T extends HasMetadata> List<T> objects(ParentRef parent, Class<T> type) {
    return children(type, parent);
  }

  /** The further types the operator creates (a ProxyGroup's). */
  static final List<Class<? extends HasMetadata>> OWNED_TYPES = List.of(
      io.fabric8.kubernetes.api.model.ServiceAccount.class, io.fabric8.kubernetes.api.model.rbac.Role.class,
      io.fabric8.kubernetes.api.model.rbac.RoleBinding.class, io.fabric8.kubernetes.api.model.ConfigMap.class);

  @Override
  public List<HasMetadata> owned(ParentRef parent) {
    List<HasMetadata> out = new ArrayList<>();
    for (Class<? extends HasMetadata> t : OWNED_TYPES) {
      out.addAll(children(t, parent));
    }
    return out;
  }

  @Override
  public Optional<Secret> secret(String name) {
    return Optional.ofNullable(get(Secret.class, name));
  }

  @Override
  public List<HasMetadata> accessObjects(ParentRef parent) {
    List<HasMetadata> out = new ArrayList<>(children(io.fabric8.kubernetes.api.model.ServiceAccount.class, parent));
    out.addAll(children(io.fabric8.kubernetes.api.model.rbac.Role.class, parent));
    out.addAll(children(io.fabric8.kubernetes.api.model.rbac.RoleBinding.class, parent));
    return out;
  }

  @Override
  public void created(HasMetadata obj) {
  }

  @Override
  public void updated(HasMetadata updated, HasMetadata previous) {
  }

  @Override
  public <T extends HasMetadata> T create(T obj) {
    String k = key(obj.getKind(), obj.getMetadata().getName());
    if (objects.containsKey(k)) {
      throw new KubernetesClientException("already exists", 409, null);
    }
    T stored = copy(obj);
    stored.getMetadata().setNamespace(namespace);
    stored.getMetadata().setUid(UUID.randomUUID().toString());
    stored.getMetadata().setResourceVersion(Long.toString(++version));
    stored.getMetadata().setCreationTimestamp("2026-12-01T00:00:00Z");
    objects.put(k, stored);
    writes.add("create " + k);
    return copy(stored);
  }

  @Override
  public <T extends HasMetadata> T update(T obj) {
    String k = key(obj.getKind(), obj.getMetadata().getName());
    HasMetadata live = objects.get(k);
    if (live == null) {
      throw new KubernetesClientException("not found", 404, null);
    }
    if (!live.getMetadata().getResourceVersion().equals(obj.getMetadata().getResourceVersion())) {
      throw new KubernetesClientException("conflict", 409, null);
    }
    T stored = copy(obj);
    stored.getMetadata().setResourceVersion(Long.toString(++version));
    objects.put(k, stored);
    writes.add("update " + k);
    return copy(stored);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T extends HasMetadata> T setFields(T live, Map<String, Object> fields) {
    String k = key(live.getKind(), live.getMetadata().getName());
    HasMetadata current = objects.get(k);
    if (current == null) {
      throw new KubernetesClientException("not found", 404, null);
    }
    var tree = (com.fasterxml.jackson.databind.node.ObjectNode) Drift.tree(current);
    fields.forEach((pointer, value) -> {
      String[] parts = pointer.substring(1).split("/");
      var node = tree;
      for (int i = 0; i < parts.length - 1; i++) {
        node = (com.fasterxml.jackson.databind.node.ObjectNode) node.get(parts[i]);
      }
      node.set(parts[parts.length - 1], Drift.tree(value));
    });
    T stored = (T) Serialization.unmarshal(tree.toString(), live.getClass());
    stored.getMetadata().setResourceVersion(Long.toString(++version));
    objects.put(k, stored);
    writes.add("patch " + k);
    return copy(stored);
  }

  @Override
  public void delete(HasMetadata obj, boolean foreground) {
    if (objects.remove(key(obj.getKind(), obj.getMetadata().getName())) != null) {
      writes.add("delete " + key(obj.getKind(), obj.getMetadata().getName()));
    }
  }

  @Override
  public Secret patchSecret(String name, String resourceVersion, SecretChange change) {
    String k = key("Secret", name);
    Secret live = (Secret) objects.get(k);
    if (live == null) {
      throw new KubernetesClientException("not found", 404, null);
    }
    if (!live.getMetadata().getResourceVersion().equals(resourceVersion)) {
      throw new KubernetesClientException("conflict", 409, null);
    }
    Secret s = copy(live);
    Map<String, String> data = new LinkedHashMap<>(s.getData() == null ? Map.of() : s.getData());
    data.putAll(ProxyConfigSecret.encode(change.data()));
    change.removeData().forEach(data::remove);
    s.setData(data);
    Map<String, String> ann = new LinkedHashMap<>(s.getMetadata().getAnnotations() == null ? Map.of()
        : s.getMetadata().getAnnotations());
    ann.putAll(change.annotations());
    change.removeAnnotations().forEach(ann::remove);
    s.getMetadata().setAnnotations(ann);
    s.getMetadata().setResourceVersion(Long.toString(++version));
    objects.put(k, s);
    writes.add("patch " + k);
    return copy(s);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T extends HasMetadata> T read(T obj) {
    return (T) copy(objects.get(key(obj.getKind(), obj.getMetadata().getName())));
  }

  @Override
  public Secret readSecret(String name) {
    return get(Secret.class, name);
  }

  @Override
  public <T extends HasMetadata> List<T> current(Class<T> kind, ParentRef parent) {
    return children(kind, parent);
  }

  @Override
  public List<Secret> managedSecrets() {
    return all(Secret.class);
  }

  @Override
  public void restartPod(String name) {
    writes.add("delete Pod/" + name);
  }

  @Override
  public boolean serviceMonitorExists(String name) {
    return serviceMonitors.contains(name);
  }

  @Override
  public void applyServiceMonitor(GenericKubernetesResource monitor) {
    serviceMonitors.add(monitor.getMetadata().getName());
    writes.add("apply ServiceMonitor/" + monitor.getMetadata().getName());
  }

  @Override
  public void deleteServiceMonitor(String name) {
    serviceMonitors.remove(name);
    writes.add("delete ServiceMonitor/" + name);
  }
}
