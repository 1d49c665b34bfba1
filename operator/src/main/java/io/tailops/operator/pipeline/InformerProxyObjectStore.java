package io.tailops.operator.pipeline;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.tailops.operator.proxy.ChildLabels;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProxyObjectStore;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@link ProxyObjectStore} over a reconciler's informers for StatefulSets, Secrets and Services, and for the further
 * types its kind watches ({@link ProxyKind#ownedTypes()}, {@link ProxyKind#watchedTypes()}) and the proxies' own
 * ServiceAccounts, Roles and RoleBindings ({@link io.tailops.operator.proxy.ProxyAccess#TYPES}).
 *
 * <p>A parent's objects are found through an index of each informer by the parent its labels name (type, namespace,
 * name), not by testing every cached object: a reconcile reads the proxy objects of its parent several times, and a
 * scan of all of them made each reconcile cost O(N) with N proxies — at N = 1,000 the scans' label lookups and string
 * comparisons were about 40 % of the operator's CPU samples (JFR, docs/benchmarks).
 */
public final class InformerProxyObjectStore implements ProxyObjectStore {
  /** The index of the proxy-object informers: the parent named by an object's child labels. */
  static final String INDEX_PARENT = "proxy-parent";

  private final String namespace;
  private final InformerEventSource<StatefulSet, ?> statefulSets;
  private final InformerEventSource<Secret, ?> secrets;
  private final InformerEventSource<Service, ?> services;
  private final Map<Class<? extends HasMetadata>, ? extends InformerEventSource<? extends HasMetadata, ?>> further;
  private final Set<Class<? extends HasMetadata>> owned;

  public InformerProxyObjectStore(String namespace, InformerEventSource<StatefulSet, ?> statefulSets,
      InformerEventSource<Secret, ?> secrets, InformerEventSource<Service, ?> services) {
    this(namespace, statefulSets, secrets, services, Map.of(), Set.of());
  }

  /**
   * @param further informers of further types, by type
   * @param owned which of those types the operator creates for the proxies (the rest it only reads)
   */
  public InformerProxyObjectStore(String namespace, InformerEventSource<StatefulSet, ?> statefulSets,
      InformerEventSource<Secret, ?> secrets, InformerEventSource<Service, ?> services,
      Map<Class<? extends HasMetadata>, ? extends InformerEventSource<? extends HasMetadata, ?>> further,
      Set<Class<? extends HasMetadata>> owned) {
    this.namespace = namespace;
    this.statefulSets = statefulSets;
    this.secrets = secrets;
    this.services = services;
    this.further = Map.copyOf(further);
    this.owned = Set.copyOf(owned);
    index(statefulSets);
    index(secrets);
    index(services);
    further.values().forEach(InformerProxyObjectStore::index);
  }

  /** Indexes an informer (before it starts) by the parent its objects' labels name. */
  private static <T extends HasMetadata> void index(InformerEventSource<T, ?> source) {
    source.addIndexer(INDEX_PARENT, o -> {
      Map<String, String> labels = o.getMetadata().getLabels();
      String type = labels == null ? null : labels.get(io.tailops.operator.k8s.TailscaleKeys.LABEL_PARENT_TYPE);
      return type == null ? List.of()
          : ChildLabels.parentOf(labels, type).map(p -> List.of(key(type, p.namespace(), p.name()))).orElse(List.of());
    });
  }

  private static String key(String type, String namespace, String labelValue) {
    return type + "/" + namespace + "/" + labelValue;
  }

  /** The objects of an informer whose labels name the parent (the index narrows, the labels decide). */
  private static <T extends HasMetadata> java.util.stream.Stream<T> of(InformerEventSource<T, ?> source,
      ParentRef parent) {
    String ns = parent.namespace() == null ? "" : parent.namespace();
    return source.byIndex(INDEX_PARENT, key(parent.type(), ns,
        io.tailops.operator.proxy.DerivedNames.labelValue(parent.name()))).stream()
        .filter(o -> ChildLabels.belongsTo(o.getMetadata().getLabels(), parent));
  }

  @Override
  public List<HasMetadata> accessObjects(ParentRef parent) {
    List<HasMetadata> out = new java.util.ArrayList<>();
    for (Class<? extends HasMetadata> type : io.tailops.operator.proxy.ProxyAccess.TYPES) {
      out.addAll(objects(parent, type));
    }
    return out;
  }

  @Override
  public List<StatefulSet> statefulSets(ParentRef parent) {
    return of(statefulSets, parent).toList();
  }

  /**
   * The parent's proxy Secrets: not the TLS certificate Secret an HA Ingress's ProxyGroup issues into, which carries
   * the Ingress's parent labels too ({@code tailscale.com/secret-type: certs}) but belongs to the group's replicas.
   */
  @Override
  public List<Secret> secrets(ParentRef parent) {
    return of(secrets, parent)
        .filter(s -> !"certs".equals(s.getMetadata().getLabels().get(io.tailops.operator.proxy.ReplicaState
            .LABEL_SECRET_TYPE)))
        .toList();
  }

  @Override
  public List<Service> headlessServices(ParentRef parent) {
    return services(parent).stream().filter(s -> "None".equals(s.getSpec().getClusterIP())).toList();
  }

  @Override
  public List<Service> services(ParentRef parent) {
    return of(services, parent).toList();
  }

  /**
   * The parents named by the labels of every proxy object of {@code type} in the caches (their names as the labels
   * have them), for the parent-less sweep.
   */
  public Set<ParentRef> parentsOf(String type) {
    Set<ParentRef> refs = new LinkedHashSet<>();
    statefulSets.list(namespace, x -> true).forEach(o -> ChildLabels.parentOf(o.getMetadata().getLabels(), type)
        .ifPresent(refs::add));
    secrets.list(namespace, x -> true).forEach(o -> ChildLabels.parentOf(o.getMetadata().getLabels(), type)
        .ifPresent(refs::add));
    services.list(namespace, x -> true).forEach(o -> ChildLabels.parentOf(o.getMetadata().getLabels(), type)
        .ifPresent(refs::add));
    return refs;
  }

  @Override
  public Optional<Secret> secret(String name) {
    return secrets.get(new ResourceID(name, namespace));
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T extends HasMetadata> List<T> objects(ParentRef parent, Class<T> type) {
    InformerEventSource<T, ?> source = (InformerEventSource<T, ?>) further.get(type);
    if (source == null) {
      return List.of();
    }
    return of(source, parent).toList();
  }

  @Override
  public List<HasMetadata> owned(ParentRef parent) {
    List<HasMetadata> out = new ArrayList<>();
    for (Class<? extends HasMetadata> type : owned) {
      out.addAll(objects(parent, type));
    }
    return out;
  }

  @Override
  public void created(HasMetadata obj) {
    ResourceID id = ResourceID.fromResource(obj);
    if (obj instanceof StatefulSet s) {
      statefulSets.handleRecentResourceCreate(id, s);
    } else if (obj instanceof Secret s) {
      secrets.handleRecentResourceCreate(id, s);
    } else if (obj instanceof Service s) {
      services.handleRecentResourceCreate(id, s);
    } else {
      InformerEventSource<HasMetadata, ?> source = sourceOf(obj);
      if (source != null) {
        source.handleRecentResourceCreate(id, obj);
      }
    }
  }

  @Override
  public void updated(HasMetadata updated, HasMetadata previous) {
    ResourceID id = ResourceID.fromResource(updated);
    if (updated instanceof StatefulSet s) {
      statefulSets.handleRecentResourceUpdate(id, s, (StatefulSet) previous);
    } else if (updated instanceof Secret s) {
      secrets.handleRecentResourceUpdate(id, s, (Secret) previous);
    } else if (updated instanceof Service s) {
      services.handleRecentResourceUpdate(id, s, (Service) previous);
    } else {
      InformerEventSource<HasMetadata, ?> source = sourceOf(updated);
      if (source != null) {
        source.handleRecentResourceUpdate(id, updated, previous);
      }
    }
  }

  @SuppressWarnings("unchecked")
  private InformerEventSource<HasMetadata, ?> sourceOf(HasMetadata obj) {
    return (InformerEventSource<HasMetadata, ?>) further.get(obj.getClass());
  }
}
