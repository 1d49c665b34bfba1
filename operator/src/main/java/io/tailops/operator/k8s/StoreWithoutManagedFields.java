package io.tailops.operator.k8s;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.cache.BasicItemStore;
import io.fabric8.kubernetes.client.informers.cache.Cache;

/**
 * An informer's store that keeps objects without {@code metadata.managedFields}: the server-side-apply bookkeeping of
 * who set which field, which the operator never reads and which is, as fabric8 models it (nested maps per field), a
 * large part of every cached object. An update sent from such an object leaves the server's managedFields as they are
 * (the API server only replaces them when a request carries them).
 */
public final class StoreWithoutManagedFields<R extends HasMetadata> extends BasicItemStore<R> {

  public StoreWithoutManagedFields() {
    super(Cache::metaNamespaceKeyFunc);
  }

  @Override
  public R put(String key, R obj) {
    if (obj != null && obj.getMetadata() != null) {
      obj.getMetadata().setManagedFields(null);
    }
    return super.put(key, obj);
  }
}
