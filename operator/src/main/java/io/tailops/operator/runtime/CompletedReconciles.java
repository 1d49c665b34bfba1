package io.tailops.operator.runtime;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.javaoperatorsdk.operator.api.config.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import io.javaoperatorsdk.operator.processing.Controller;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * For each object and each controller that reconciles it, the newest version (resourceVersion) and generation that a
 * completed reconcile saw: the proof that the operator has decided about a change. A check that "nothing happened"
 * after a change holds only once every controller that receives the object has reconciled the change; tests wait for
 * that here ({@link #await}) instead of sleeping.
 *
 * <p>An object of one kind often has several controllers (a Service: the proxy controller, the ProxyGroup-served
 * Service and egress controllers, the DNS records controller), and the quickest of them finishing proves nothing about
 * the others. So each controller's reconciles are kept apart, and a wait is over when every controller whose primary
 * informer would receive the object (its kind, namespaces and label selector, from {@link #controllerRegistered}) has
 * reconciled that version or a newer one — or, for a generation-aware controller, which is not woken by changes that
 * leave the generation alone, that generation or a newer one.
 *
 * <p>Fed by JOSDK's metrics hooks: {@link #finishedReconciliation}, which every reconcile of every controller passes
 * through once it has returned (a reconcile that threw is retried and is not complete). Bounded to the
 * {@value #MAX_TRACKED} most recently reconciled (controller, object) pairs.
 */
public final class CompletedReconciles implements Metrics {
  static final int MAX_TRACKED = 16_384;

  /** A controller's primary informer: what it receives. */
  record Receiver(String controller, String kind, Set<String> namespaces, String labelSelector,
      boolean generationAware) {
    boolean receives(String objectKind, String namespace, Map<String, String> labels) {
      return kind.equals(objectKind)
          && (namespaces.isEmpty() || namespace == null || namespaces.contains(namespace))
          && LabelSelectors.matches(labelSelector, labels);
    }
  }

  /** What a controller's completed reconciles of one object saw, newest first. */
  private record Seen(long version, long generation) {
    Seen merge(Seen other) {
      return new Seen(Math.max(version, other.version), Math.max(generation, other.generation));
    }
  }

  private final List<Receiver> receivers = new CopyOnWriteArrayList<>();
  private final Map<String, Seen> newest = new LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Seen> eldest) {
      return size() > MAX_TRACKED;
    }
  };

  @Override
  public void controllerRegistered(Controller<? extends HasMetadata> controller) {
    ControllerConfiguration<? extends HasMetadata> c = controller.getConfiguration();
    var informer = c.getInformerConfig();
    Set<String> namespaces = informer.watchAllNamespaces() ? Set.of() : informer.getNamespaces();
    receivers.add(new Receiver(c.getName(), HasMetadata.getKind(c.getResourceClass()), namespaces,
        informer.getLabelSelector(), c.isGenerationAware()));
  }

  /** Registers a receiver directly (what {@link #controllerRegistered} does for a running JOSDK controller). */
  void register(Receiver receiver) {
    receivers.add(receiver);
  }

  @Override
  public void finishedReconciliation(HasMetadata resource, Map<String, Object> metadata) {
    if (resource == null || resource.getMetadata() == null) {
      return;
    }
    long version = version(resource.getMetadata().getResourceVersion());
    if (version < 0) {
      return;
    }
    Long generation = resource.getMetadata().getGeneration();
    Object controller = metadata == null ? null : metadata.get(Constants.CONTROLLER_NAME);
    String key = key(controller == null ? "" : controller.toString(), resource.getKind(),
        resource.getMetadata().getNamespace(), resource.getMetadata().getName());
    synchronized (newest) {
      newest.merge(key, new Seen(version, generation == null ? -1 : generation), Seen::merge);
      newest.notifyAll();
    }
  }

  /** The newest version of the object that a completed reconcile of any controller saw, since the operator started. */
  public OptionalLong newestVersion(String kind, String namespace, String name) {
    synchronized (newest) {
      String suffix = "|" + objectKey(kind, namespace, name);
      return newest.entrySet().stream().filter(e -> e.getKey().endsWith(suffix))
          .mapToLong(e -> e.getValue().version()).max();
    }
  }

  /** The controllers whose primary informer receives an object of this kind, namespace and labels. */
  public List<String> receiversOf(String kind, String namespace, Map<String, String> labels) {
    return receivers.stream().filter(r -> r.receives(kind, namespace, labels)).map(Receiver::controller).toList();
  }

  /**
   * Waits until every controller that receives the object has completed a reconcile that saw its version (or newer),
   * or its generation (or newer) for a generation-aware controller.
   *
   * @return empty once that holds; else, after {@code timeout}, what each waited-for controller had reconciled (or
   *     that no registered controller receives such an object)
   */
  public Optional<String> await(HasMetadata object, Duration timeout) throws InterruptedException {
    var meta = object.getMetadata();
    long version = version(meta.getResourceVersion());
    long generation = meta.getGeneration() == null ? -1 : meta.getGeneration();
    List<Receiver> waitFor = receivers.stream()
        .filter(r -> r.receives(object.getKind(), meta.getNamespace(), meta.getLabels())).toList();
    if (waitFor.isEmpty()) {
      return Optional.of("no controller receives a " + object.getKind() + " with these labels: " + meta.getLabels()
          + " (controllers: " + receivers + ")");
    }
    String objectKey = objectKey(object.getKind(), meta.getNamespace(), meta.getName());
    long deadline = System.nanoTime() + timeout.toNanos();
    synchronized (newest) {
      while (true) {
        List<String> behind = new ArrayList<>();
        for (Receiver r : waitFor) {
          Seen seen = newest.get(r.controller() + "|" + objectKey);
          boolean done = seen != null && (seen.version() >= version
              || r.generationAware() && generation >= 0 && seen.generation() >= generation);
          if (!done) {
            behind.add(r.controller() + " at " + (seen == null ? "none" : "version " + seen.version()
                + ", generation " + seen.generation()));
          }
        }
        if (behind.isEmpty()) {
          return Optional.empty();
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return Optional.of("not reconciled by " + String.join("; ", behind));
        }
        newest.wait(Math.max(1, left / 1_000_000));
      }
    }
  }

  /** A resourceVersion as a number (etcd's revision), or -1 if it is not one. */
  public static long version(String resourceVersion) {
    if (resourceVersion == null) {
      return -1;
    }
    try {
      return Long.parseLong(resourceVersion);
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private static String objectKey(String kind, String namespace, String name) {
    return kind + "/" + (namespace == null ? "" : namespace) + "/" + name;
  }

  private static String key(String controller, String kind, String namespace, String name) {
    return controller + "|" + objectKey(kind, namespace, name);
  }
}
