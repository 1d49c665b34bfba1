package io.tailops.operator.k8s;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.ArrayList;
import java.util.List;

/**
 * Adds and removes a finalizer with a JSON merge patch guarded by {@code resourceVersion}, re-reading the object on
 * conflicts, so that a stale cache can neither duplicate nor drop somebody else's finalizer.
 */
public final class Finalizers {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_ATTEMPTS = 5;

  private Finalizers() {
  }

  /** Adds {@code finalizer}; returns the updated object (or the input when nothing had to change). */
  public static <T extends HasMetadata> T add(KubernetesClient client, T obj, String finalizer) {
    return change(client, obj, finalizer, true);
  }

  /** Removes {@code finalizer}; returns the updated object (or the input when nothing had to change). */
  public static <T extends HasMetadata> T remove(KubernetesClient client, T obj, String finalizer) {
    return change(client, obj, finalizer, false);
  }

  @SuppressWarnings("unchecked")
  private static <T extends HasMetadata> T change(KubernetesClient client, T obj, String finalizer, boolean add) {
    T current = obj;
    for (int attempt = 1; ; attempt++) {
      List<String> finalizers = current.getMetadata().getFinalizers() == null ? new ArrayList<>()
          : new ArrayList<>(current.getMetadata().getFinalizers());
      if (add == finalizers.contains(finalizer)) {
        return current;
      }
      if (add) {
        finalizers.add(finalizer);
      } else {
        finalizers.remove(finalizer);
      }
      ObjectNode patch = JSON.createObjectNode();
      ObjectNode meta = patch.putObject("metadata");
      meta.put("resourceVersion", current.getMetadata().getResourceVersion());
      ArrayNode arr = meta.putArray("finalizers");
      finalizers.forEach(arr::add);
      try {
        return client.resource(current).patch(PatchContext.of(PatchType.JSON_MERGE), patch.toString());
      } catch (KubernetesClientException e) {
        if (e.getCode() == 404 && !add) {
          return current;
        }
        if (e.getCode() != 409 || attempt >= MAX_ATTEMPTS) {
          throw e;
        }
        T fresh = (T) client.resource(current).get();
        if (fresh == null) {
          return current;
        }
        current = fresh;
      }
    }
  }
}
