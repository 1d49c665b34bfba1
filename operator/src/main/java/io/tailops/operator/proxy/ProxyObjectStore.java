package io.tailops.operator.proxy;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.StatefulSet;
import java.util.List;
import java.util.Optional;

/**
 * Read access to the proxy objects in the operator namespace (from informer caches, so reading costs no API call),
 * and notifications of the operator's own writes so that the next reconcile sees them even before the watch event
 * arrives.
 */
public interface ProxyObjectStore {

  List<StatefulSet> statefulSets(ParentRef parent);

  List<Secret> secrets(ParentRef parent);

  /** The proxy's headless Service(s) ({@code clusterIP: None}). */
  List<Service> headlessServices(ParentRef parent);

  /** Every Service with the proxy's child labels (headless and metrics Services). */
  List<Service> services(ParentRef parent);

  Optional<Secret> secret(String name);

  /**
   * The parent's objects of one further type its kind watches (a ProxyGroup's ServiceAccounts, Roles, RoleBindings,
   * ConfigMaps and Pods); empty for types the kind does not watch.
   */
  default <T extends HasMetadata> List<T> objects(ParentRef parent, Class<T> type) {
    return List.of();
  }

  /** Every object of the further types the operator creates for the parent ({@link DesiredProxy#owned()}). */
  default List<HasMetadata> owned(ParentRef parent) {
    return List.of();
  }

  /** The proxy's ServiceAccount, Role and RoleBinding ({@link ProxyAccess}) that exist. */
  List<HasMetadata> accessObjects(ParentRef parent);

  /** The operator created {@code obj}. */
  void created(HasMetadata obj);

  /** The operator updated {@code previous} to {@code updated}. */
  void updated(HasMetadata updated, HasMetadata previous);
}
