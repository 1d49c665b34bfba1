package io.tailops.operator.unsupported;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.tailops.api.v1alpha1.ConditionedStatus;
import io.tailops.operator.reconcile.OperatorContext;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reports every object of an {@link UnsupportedKind}: sets the kind's condition to False with reason
 * {@code NotSupported} (writing the status only when it differs, and only the conditions: any other status field is
 * kept), and records a Warning Event and a log line when the object did not say so yet. Never changes the spec,
 * adds no finalizer.
 * Subclassed once per kind, because the Java Operator SDK reads the resource class from the type argument.
 */
public abstract class UnsupportedKindReconciler<R extends CustomResource<?, ? extends ConditionedStatus>>
    implements Reconciler<R> {
  private static final Logger LOG = LoggerFactory.getLogger(UnsupportedKindReconciler.class);
  private static final Duration CONFLICT_RETRY = Duration.ofSeconds(2);

  private final OperatorContext ctx;
  private final UnsupportedKind kind;

  protected UnsupportedKindReconciler(OperatorContext ctx, UnsupportedKind kind) {
    this.ctx = ctx;
    this.kind = kind;
  }

  /** The kind this reconciler reports. */
  public UnsupportedKind kind() {
    return kind;
  }

  /** The controller's name, e.g. {@code unsupported-connector}. */
  public String name() {
    return "unsupported-" + kind.kind().toLowerCase(java.util.Locale.ROOT);
  }

  @Override
  public UpdateControl<R> reconcile(R obj, Context<R> context) {
    if (obj.getMetadata().getDeletionTimestamp() != null) {
      return UpdateControl.noUpdate();
    }
    ConditionedStatus status = obj.getStatus();
    List<Condition> current = status == null ? List.of() : status.getConditions();
    Optional<List<Condition>> write = NotSupportedConditions.toWrite(kind, current,
        obj.getMetadata().getGeneration(), ctx.clock());
    if (write.isEmpty()) {
      return UpdateControl.noUpdate();
    }
    try {
      writeConditions(obj, write.get(), context);
    } catch (KubernetesClientException e) {
      if (e.getCode() == 404) {
        return UpdateControl.noUpdate();
      }
      if (e.getCode() == 409) {
        LOG.debug("status of {} {} changed meanwhile; trying again", kind.kind(), obj.getMetadata().getName());
        return UpdateControl.<R>noUpdate().rescheduleAfter(CONFLICT_RETRY);
      }
      throw e;
    }
    if (NotSupportedConditions.isNews(kind, current)) {
      LOG.info("{} {}: {}=False/{}: not supported by this operator yet", kind.kind(), obj.getMetadata().getName(),
          kind.conditionType(), UnsupportedKind.REASON);
      ctx.events().warning(obj, UnsupportedKind.REASON, kind.message());
    }
    return UpdateControl.noUpdate();
  }

  /** Replaces the conditions in the status subresource (optimistic: fails with 409 if the object changed). */
  private void writeConditions(R obj, List<Condition> conditions, Context<R> context) {
    R copy = ctx.client().getKubernetesSerialization().clone(obj);
    if (copy.getStatus() == null) {
      throw new IllegalStateException(kind.kind() + " " + obj.getMetadata().getName() + " has no status object");
    }
    copy.getStatus().setConditions(conditions);
    R updated = ctx.client().resource(copy).updateStatus();
    context.eventSourceRetriever().getControllerEventSource()
        .handleRecentResourceUpdate(ResourceID.fromResource(obj), updated, obj);
  }
}
