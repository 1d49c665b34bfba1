package io.tailops.operator.proxy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import java.util.List;

/**
 * Every write (and the few live reads) the proxy pipeline makes to the proxy objects in the operator namespace. Errors
 * are {@link io.fabric8.kubernetes.client.KubernetesClientException}s with the API server's HTTP code. The Kubernetes
 * implementation also tells the informer caches about each write, so that the next reconcile sees it before the watch
 * event; tests use an in-memory implementation.
 */
public interface ProxyWrites {
  <T extends HasMetadata> T create(T obj);

  /** Replaces {@code obj} (optimistic locking on its resourceVersion: 409 when it changed). */
  <T extends HasMetadata> T update(T obj);

  /**
   * Sets fields of {@code live} to the given values (keys are JSON pointers such as {@code /spec/template}), replacing
   * whatever is there, in one JSON patch without optimistic locking: used to put back what the operator owns as a
   * whole, so that a concurrent status write (the StatefulSet controller's) does not make it fail.
   */
  <T extends HasMetadata> T setFields(T live, java.util.Map<String, Object> fields);

  /** Deletes {@code obj}; {@code foreground} waits for its dependents (a StatefulSet's pods). 404 is success. */
  void delete(HasMetadata obj, boolean foreground);

  /** Applies {@code change} to Secret {@code name}, guarded by {@code resourceVersion}. */
  Secret patchSecret(String name, String resourceVersion, SecretChange change);

  /** {@code obj} (by kind, namespace and name) as the API server has it now (null when absent). */
  <T extends HasMetadata> T read(T obj);

  /** The Secret as the API server has it now (null when absent). */
  Secret readSecret(String name);

  /**
   * The objects of kind {@code kind} (StatefulSet, Secret or Service) with {@code parent}'s child labels in the operator
   * namespace, read live from the API server (the proxy's removal must not miss an object the caches lack yet).
   */
  <T extends HasMetadata> List<T> current(Class<T> kind, ParentRef parent);

  /** Every Secret with {@code tailscale.com/managed=true} in the operator namespace, read live. */
  List<Secret> managedSecrets();

  /** Deletes the pod {@code name} (the StatefulSet controller starts a new one); errors are ignored. */
  void restartPod(String name);


  /** Whether the ServiceMonitor {@code name} exists. */
  boolean serviceMonitorExists(String name);

  void applyServiceMonitor(GenericKubernetesResource monitor);

  void deleteServiceMonitor(String name);
}
