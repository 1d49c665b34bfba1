package io.tailops.operator.pipeline;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.tailops.operator.proxy.ChildLabels;
import io.tailops.operator.proxy.ParentRef;
import io.tailops.operator.proxy.ProxyObjectStore;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * {@link ProxyObjectStore} over a reconciler's informers for StatefulSets, Secrets, Services and the proxies' own
 * ServiceAccounts, Roles and RoleBindings.
 */
public final class InformerProxyObjectStore implements ProxyObjectStore {
  private final String namespace;
  private final InformerEventSource<StatefulSet, ?> statefulSets;
  private final InformerEventSource<Secret, ?> secrets;
  private final InformerEventSource<Service, ?> services;
  private final InformerEventSource<ServiceAccount, ?> serviceAccounts;
  private final InformerEventSource<Role, ?> roles;
  private final InformerEventSource<RoleBinding, ?> roleBindings;

  public InformerProxyObjectStore(String namespace, InformerEventSource<StatefulSet, ?> statefulSets,
      InformerEventSource<Secret, ?> secrets, InformerEventSource<Service, ?> services,
      InformerEventSource<ServiceAccount, ?> serviceAccounts, InformerEventSource<Role, ?> roles,
      InformerEventSource<RoleBinding, ?> roleBindings) {
    this.namespace = namespace;
    this.statefulSets = statefulSets;
    this.secrets = secrets;
    this.services = services;
    this.serviceAccounts = serviceAccounts;
    this.roles = roles;
    this.roleBindings = roleBindings;
  }

  @Override
  public List<HasMetadata> accessObjects(ParentRef parent) {
    List<HasMetadata> out = new java.util.ArrayList<>();
    serviceAccounts.list(namespace, o -> ChildLabels.belongsTo(o.getMetadata().getLabels(), parent))
        .forEach(out::add);
    roles.list(namespace, o -> ChildLabels.belongsTo(o.getMetadata().getLabels(), parent)).forEach(out::add);
    roleBindings.list(namespace, o -> ChildLabels.belongsTo(o.getMetadata().getLabels(), parent)).forEach(out::add);
    return out;
  }

  @Override
  public List<StatefulSet> statefulSets(ParentRef parent) {
    return statefulSets.list(namespace, s -> ChildLabels.belongsTo(s.getMetadata().getLabels(), parent)).toList();
  }

  @Override
  public List<Secret> secrets(ParentRef parent) {
    return secrets.list(namespace, s -> ChildLabels.belongsTo(s.getMetadata().getLabels(), parent)).toList();
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
  public void created(HasMetadata obj) {
    ResourceID id = ResourceID.fromResource(obj);
    if (obj instanceof StatefulSet s) {
      statefulSets.handleRecentResourceCreate(id, s);
    } else if (obj instanceof Secret s) {
      secrets.handleRecentResourceCreate(id, s);
    } else if (obj instanceof Service s) {
      services.handleRecentResourceCreate(id, s);
    } else if (obj instanceof ServiceAccount s) {
      serviceAccounts.handleRecentResourceCreate(id, s);
    } else if (obj instanceof Role r) {
      roles.handleRecentResourceCreate(id, r);
    } else if (obj instanceof RoleBinding r) {
      roleBindings.handleRecentResourceCreate(id, r);
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
    } else if (updated instanceof ServiceAccount s) {
      serviceAccounts.handleRecentResourceUpdate(id, s, (ServiceAccount) previous);
    } else if (updated instanceof Role r) {
      roles.handleRecentResourceUpdate(id, r, (Role) previous);
    } else if (updated instanceof RoleBinding r) {
      roleBindings.handleRecentResourceUpdate(id, r, (RoleBinding) previous);
    }
  }
}
