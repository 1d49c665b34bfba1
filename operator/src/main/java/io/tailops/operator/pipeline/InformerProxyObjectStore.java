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
 */
public final class InformerProxyObjectStore implements ProxyObjectStore {
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
    return statefulSets.list(namespace, s -> ChildLabels.belongsTo(s.getMetadata().getLabels(), parent)).toList();
  }

  /**
   * The parent's proxy Secrets: not the TLS certificate Secret an HA Ingress's ProxyGroup issues into, which carries
   * the Ingress's parent labels too ({@code tailscale.com/secret-type: certs}) but belongs to the group's replicas.
   */
  @Override
  public List<Secret> secrets(ParentRef parent) {
    return secrets.list(namespace, s -> ChildLabels.belongsTo(s.getMetadata().getLabels(), parent)
        && !"certs".equals(s.getMetadata().getLabels().get(io.tailops.operator.proxy.ReplicaState.LABEL_SECRET_TYPE)))
        .toList();
  }

  @Override
  public List<Service> headlessServices(ParentRef parent) {
    return services(parent).stream().filter(s -> "None".equals(s.getSpec().getClusterIP())).toList();
  }

  @Override
  public List<Service> services(ParentRef parent) {
    return services.list(namespace, s -> ChildLabels.belongsTo(s.getMetadata().getLabels(), parent)).toList();
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
    return source.list(namespace, o -> ChildLabels.belongsTo(o.getMetadata().getLabels(), parent)).toList();
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
