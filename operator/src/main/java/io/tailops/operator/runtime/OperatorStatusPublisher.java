package io.tailops.operator.runtime;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.tailops.operator.threads.TimerTasks;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the operator's own state where {@code kubectl} shows it without reading logs: the ConfigMap
 * {@code tailscale-operator-status} in the operator namespace ({@code kubectl describe cm -n tailscale
 * tailscale-operator-status}). Written only when its content changes.
 */
public final class OperatorStatusPublisher {
  public static final String NAME = "tailscale-operator-status";
  private static final Logger LOG = LoggerFactory.getLogger(OperatorStatusPublisher.class);

  /** How long a change waits for others before the ConfigMap is written (one write for a burst of changes). */
  static final long SOON_MILLIS = 1000;

  private final KubernetesClient client;
  private final String namespace;
  private final Supplier<Map<String, String>> content;
  private Map<String, String> lastWritten;
  private final TimerTasks timer = TimerTasks.own("status-publisher");
  private final java.util.concurrent.atomic.AtomicBoolean scheduled = new java.util.concurrent.atomic.AtomicBoolean();

  public OperatorStatusPublisher(KubernetesClient client, String namespace, Supplier<Map<String, String>> content) {
    this.client = client;
    this.namespace = namespace;
    this.content = content;
  }

  /** Runs this component's timed work on {@code shared} (the operator's timer thread), not on a thread of its own. */
  public OperatorStatusPublisher on(java.util.concurrent.ScheduledExecutorService shared) {
    timer.moveTo(shared);
    return this;
  }

  /** Publishes within a second (changes in the meantime are written together). */
  public void publishSoon() {
    if (!scheduled.compareAndSet(false, true)) {
      return;
    }
    try {
      timer.schedule(() -> {
        scheduled.set(false);
        publish();
      }, SOON_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      scheduled.set(false);
    }
  }

  /** Stops publishing later changes. */
  public void close() {
    timer.close();
  }

  /** Writes the ConfigMap if its content changed since the last write (or differs from what is stored). */
  public synchronized void publish() {
    Map<String, String> data = new LinkedHashMap<>(content.get());
    if (Objects.equals(data, lastWritten)) {
      return;
    }
    try {
      ConfigMap live = client.configMaps().inNamespace(namespace).withName(NAME).get();
      if (live != null && Objects.equals(live.getData(), data)) {
        lastWritten = data;
        return;
      }
      ConfigMap desired = new ConfigMapBuilder().withNewMetadata().withName(NAME).withNamespace(namespace)
          .addToLabels("app.kubernetes.io/name", "tailscale-operator")
          .addToLabels("app.kubernetes.io/component", "status").endMetadata().withData(data).build();
      if (live == null) {
        client.configMaps().inNamespace(namespace).resource(desired).create();
      } else {
        live.setData(data);
        client.configMaps().inNamespace(namespace).resource(live).update();
      }
      lastWritten = data;
    } catch (KubernetesClientException e) {
      LOG.debug("could not publish the operator status: {}", e.getMessage());
    }
  }
}
