package io.tailops.operator.pipeline;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.PrimaryUpdateAndCacheUtils;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ParentWrites} with JOSDK's primitives for the primary resource: finalizers by a conflict-retrying JSON patch,
 * the status by an optimistic-locking update that is retried on a fresh copy after a conflict. Each written version
 * goes into the controller's cache, so the operator's own write does not come back as one more reconcile.
 */
public final class KubernetesParentWrites<P extends HasMetadata> implements ParentWrites<P> {
  private static final Logger LOG = LoggerFactory.getLogger(KubernetesParentWrites.class);
  private final Context<P> context;

  public KubernetesParentWrites(Context<P> context) {
    this.context = context;
  }

  @Override
  public P addFinalizer(P parent, String finalizer) {
    return cached(parent, PrimaryUpdateAndCacheUtils.addFinalizer(context.getClient(), parent, finalizer));
  }

  @Override
  public P removeFinalizer(P parent, String finalizer) {
    try {
      return cached(parent, PrimaryUpdateAndCacheUtils.removeFinalizer(context.getClient(), parent, finalizer));
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return parent;
      }
      throw e;
    }
  }

  @Override
  public P update(P parent, UnaryOperator<P> change) {
    return cached(parent, PrimaryUpdateAndCacheUtils.conflictRetryingPatch(context.getClient(), parent, change,
        p -> true));
  }

  @Override
  public void writeStatus(P parent, UnaryOperator<P> withStatus) {
    try {
      PrimaryUpdateAndCacheUtils.updateStatusAndCacheResource(parent, context, withStatus);
    } catch (KubernetesClientException e) {
      if (e.getCode() != 404) {
        throw e;
      }
      LOG.debug("{} is gone; its status is not written", ResourceID.fromResource(parent));
    }
  }

  private P cached(P before, P after) {
    if (after != before) {
      context.eventSourceRetriever().getControllerEventSource()
          .handleRecentResourceUpdate(ResourceID.fromResource(before), after, before);
    }
    return after;
  }
}
