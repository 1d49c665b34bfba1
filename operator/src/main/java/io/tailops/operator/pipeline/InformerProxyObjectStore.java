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
import java.util.List;
import java.util.Optional;

/** {@link ProxyObjectStore} over a reconciler's informers for StatefulSets, Secrets and headless Services. */
public final class InformerProxyObjectStore implements ProxyObjectStore {
  private final String namespace;
  private final InformerEventSource<StatefulSet, ?> statefulSets;
  private final InformerEventSource<Secret, ?> secrets;
  private final InformerEventSource<Service, ?> services;

  public InformerProxyObjectStore(String namespace, InformerEventSource<StatefulSet, ?> statefulSets,
      InformerEventSource<Secret, ?> secrets, InformerEventSource<Service, ?> services) {
    this.namespace = namespace;
    this.statefulSets = statefulSets;
    this.secrets = secrets;
    this.services = services;
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
    }
  }
}
